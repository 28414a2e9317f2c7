// The demo editor: a project list, a one-field editor, dev sign-in and the sync status, wired to the
// sync engine exactly as the real editor would be. Every element tests drive has a data-testid.
import { createSyncEngine, openIndexedDbProjectStore } from '../src/index.js';

/** @typedef {import('../src/index.js').LocalProject} LocalProject */
/** @typedef {import('../src/index.js').SyncStatus} SyncStatus */
/** @typedef {import('../src/index.js').SignedInUser} SignedInUser */

/** Typing is committed to the local store after this pause, not on every keystroke. */
const SAVE_AFTER_TYPING_MS = 300;

/**
 * @template {HTMLElement} T
 * @param {string} testId
 * @returns {T}
 */
function byTestId(testId) {
  const element = document.querySelector(`[data-testid="${testId}"]`);
  if (!element) throw new Error(`The page has no [data-testid="${testId}"]`);
  return /** @type {T} */ (element);
}

const view = {
  badge: byTestId('sync-status'),
  detail: byTestId('sync-detail'),
  syncNow: /** @type {HTMLButtonElement} */ (byTestId('sync-now')),
  signInForm: /** @type {HTMLFormElement} */ (byTestId('sign-in-form')),
  email: /** @type {HTMLInputElement} */ (byTestId('email')),
  account: byTestId('account'),
  userEmail: byTestId('user-email'),
  signOut: /** @type {HTMLButtonElement} */ (byTestId('sign-out')),
  newProject: /** @type {HTMLButtonElement} */ (byTestId('new-project')),
  list: byTestId('project-list'),
  noProjects: byTestId('no-projects'),
  editor: byTestId('editor'),
  pickHint: byTestId('pick-hint'),
  name: /** @type {HTMLInputElement} */ (byTestId('project-name')),
  text: /** @type {HTMLTextAreaElement} */ (byTestId('project-text')),
  note: byTestId('project-note'),
  deleteProject: /** @type {HTMLButtonElement} */ (byTestId('delete-project')),
  conflict: /** @type {HTMLDialogElement} */ (byTestId('conflict-dialog')),
  conflictProject: byTestId('conflict-project'),
  conflictReason: byTestId('conflict-reason'),
  conflictMine: byTestId('conflict-mine'),
  conflictTheirs: byTestId('conflict-theirs'),
  keepMine: /** @type {HTMLButtonElement} */ (byTestId('keep-mine')),
  takeTheirs: /** @type {HTMLButtonElement} */ (byTestId('take-theirs')),
  resolveLater: /** @type {HTMLButtonElement} */ (byTestId('resolve-later')),
};

const localStore = await openIndexedDbProjectStore({ indexedDB, name: 'appframes-demo-projects' });
const engine = createSyncEngine({ localStore });

const state = {
  /** @type {SignedInUser | null} */
  user: null,
  /** @type {LocalProject[]} */
  projects: [],
  /** @type {string | null} */
  openProjectId: null,
  /** @type {ReturnType<typeof setTimeout> | null} typing not yet committed to the local store */
  pendingSave: null,
  /** @type {string | null} the project the conflict dialog is about */
  conflictProjectId: null,
  /** Conflicts the user put off with "Later": not shown again until they change. */
  postponedConflicts: new Set(),
};

// ---- the local project list -------------------------------------------------------------------

async function reloadProjects() {
  state.projects = await localStore.list();
  if (state.openProjectId && !state.projects.some((project) => project.id === state.openProjectId)) closeEditor();
  render();
}

/** @param {LocalProject} project */
function textOf(project) {
  const data = /** @type {{ text?: unknown } | null} */ (project.data);
  return typeof data?.text === 'string' ? data.text : '';
}

function render() {
  renderStatus(engine.status());
  renderProjectList(engine.status());
  renderEditor();
  offerConflictResolution(engine.status());
}

/** @param {SyncStatus} status */
function renderStatus(status) {
  view.badge.textContent = status.label;
  view.badge.dataset.state = status.state;
  view.detail.textContent = status.detail ?? '';
  view.syncNow.hidden = !state.user;
  view.signInForm.hidden = Boolean(state.user);
  view.account.hidden = !state.user;
  view.userEmail.textContent = state.user?.email ?? '';
}

/** @param {SyncStatus} status */
function renderProjectList(status) {
  const byName = [...state.projects].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  view.list.replaceChildren(...byName.map((project) => projectListItem(project, status)));
  view.noProjects.hidden = state.projects.length > 0;
}

/**
 * @param {LocalProject} project
 * @param {SyncStatus} status
 */
function projectListItem(project, status) {
  const item = document.createElement('li');
  item.dataset.testid = 'project-item';
  item.dataset.projectId = project.id;
  item.setAttribute('aria-current', String(project.id === state.openProjectId));

  const open = document.createElement('button');
  open.type = 'button';
  open.className = 'open';
  open.dataset.testid = 'project-open';
  open.textContent = project.name || 'Untitled';
  open.addEventListener('click', () => openEditor(project.id));

  const projectStatus = status.projects[project.id];
  const badge = document.createElement('span');
  badge.className = 'project-state';
  badge.dataset.testid = 'project-state';
  badge.dataset.state = projectStatus?.state ?? (state.user ? 'synced' : 'local');
  badge.textContent = projectStatus?.state.replace('-', ' ') ?? (state.user ? 'synced' : 'local');
  if (projectStatus?.message) badge.title = projectStatus.message;
  item.append(open, badge);

  if (projectStatus?.state === 'conflict') {
    const resolve = document.createElement('button');
    resolve.type = 'button';
    resolve.dataset.testid = 'resolve-conflict';
    resolve.textContent = 'Resolve';
    resolve.addEventListener('click', () => showConflict(project.id, engine.status()));
    item.append(resolve);
  }
  return item;
}

// ---- the editor -------------------------------------------------------------------------------

/** @param {string} projectId */
function openEditor(projectId) {
  flushTyping();
  state.openProjectId = projectId;
  fillEditor();
  render();
}

function closeEditor() {
  if (state.pendingSave) clearTimeout(state.pendingSave);
  state.pendingSave = null;
  state.openProjectId = null;
}

function openProject() {
  return state.projects.find((project) => project.id === state.openProjectId);
}

/** Puts the stored project into the fields; never while the user's typing is uncommitted. */
function fillEditor() {
  const project = openProject();
  if (!project || state.pendingSave) return;
  view.name.value = project.name;
  view.text.value = textOf(project);
}

function renderEditor() {
  const project = openProject();
  view.editor.hidden = !project;
  view.pickHint.hidden = Boolean(project);
  const projectStatus = project ? engine.status().projects[project.id] : undefined;
  view.note.textContent = projectStatus?.message ?? '';
}

function scheduleSave() {
  // Tests (and curious users in devtools) can tell when typing has reached the local store.
  document.body.dataset.localSave = 'pending';
  if (state.pendingSave) clearTimeout(state.pendingSave);
  state.pendingSave = setTimeout(flushTyping, SAVE_AFTER_TYPING_MS);
}

/** Commits the typing to the local store, which queues it for sync. */
function flushTyping() {
  if (!state.pendingSave) return;
  clearTimeout(state.pendingSave);
  state.pendingSave = null;
  const project = openProject();
  if (!project) return;
  const data = { .../** @type {object} */ (project.data ?? {}), text: view.text.value };
  const saved = { id: project.id, name: view.name.value, data };
  Object.assign(project, saved);
  engine.saveProject(saved).catch(showSaveFailure).finally(() => {
    if (!state.pendingSave) document.body.dataset.localSave = 'done';
    render();
  });
}

/** @param {unknown} error */
function showSaveFailure(error) {
  // The status badge already says why (for example a full disk); the console keeps the details.
  console.error('Saving the project failed', error);
}

async function createProject() {
  const project = { id: crypto.randomUUID(), name: `Untitled ${state.projects.length + 1}`, data: { text: '' } };
  // The editor switches at once: typing that follows the click belongs to the new project.
  state.projects.push(project);
  openEditor(project.id);
  view.name.select();
  await engine.saveProject(project).catch(showSaveFailure);
  await reloadProjects();
}

async function deleteOpenProject() {
  const project = openProject();
  if (!project) return;
  closeEditor();
  await engine.deleteProject(project.id).catch(showSaveFailure);
  await reloadProjects();
}

// ---- conflicts --------------------------------------------------------------------------------

/** Opens the dialog for the first conflict the user has not put off yet. */
/** @param {SyncStatus} status */
function offerConflictResolution(status) {
  if (view.conflict.open) return;
  for (const [projectId, projectStatus] of Object.entries(status.projects)) {
    if (projectStatus.state !== 'conflict' || !projectStatus.server) continue;
    const conflictKey = `${projectId}@${projectStatus.server.revision}`;
    if (state.postponedConflicts.has(conflictKey)) continue;
    showConflict(projectId, status);
    return;
  }
}

/**
 * @param {string} projectId
 * @param {SyncStatus} status
 */
function showConflict(projectId, status) {
  const server = status.projects[projectId]?.server;
  const mine = state.projects.find((project) => project.id === projectId);
  if (!server) return;
  state.conflictProjectId = projectId;
  view.conflictProject.textContent = mine?.name ?? server.name;
  view.conflictReason.textContent = status.projects[projectId]?.message ?? '';
  view.conflictMine.textContent = mine ? textOf(mine) : '(deleted on this device)';
  view.conflictTheirs.textContent = server.deletedAt ? '(deleted on the other device)' : textOf(server);
  if (!view.conflict.open) view.conflict.showModal();
}

/** @param {(projectId: string) => Promise<void>} choice */
async function resolveConflict(choice) {
  const projectId = state.conflictProjectId;
  view.conflict.close();
  state.conflictProjectId = null;
  if (!projectId) return;
  if (state.openProjectId === projectId) flushTyping();
  await choice(projectId);
  await reloadProjects();
  fillEditor();
}

function postponeConflict() {
  const projectId = state.conflictProjectId;
  const server = projectId ? engine.status().projects[projectId]?.server : undefined;
  if (projectId && server) state.postponedConflicts.add(`${projectId}@${server.revision}`);
  view.conflict.close();
  state.conflictProjectId = null;
}

// ---- dev sign-in (the local server's stand-in for Better Auth's sign-in UI) -------------------

/**
 * @param {string} path
 * @param {object} [body]
 * @returns {Promise<{ user?: SignedInUser } | null>}
 */
async function callDevAuth(path, body) {
  const response = await fetch(path, {
    method: body ? 'POST' : 'GET',
    credentials: 'same-origin',
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  return response.ok ? response.json() : null;
}

/** @param {SignedInUser | null} user */
async function useAccount(user) {
  state.user = user;
  await engine.setUser(user);
  render();
}

async function signIn() {
  const answer = await callDevAuth('/api/dev/sign-in', { email: view.email.value.trim() });
  if (answer?.user) await useAccount(answer.user);
}

async function signOut() {
  flushTyping();
  await callDevAuth('/api/dev/sign-out', {});
  await useAccount(null);
}

// ---- wiring -----------------------------------------------------------------------------------

engine.on('status', (status) => {
  // Another tab may have signed in or out: the engine follows it, and so does the header.
  if ((status.userId ?? null) !== (state.user?.id ?? null)) {
    state.user = status.userId ? { id: status.userId, email: state.user?.email } : null;
    if (state.user) callDevAuth('/api/dev/session').then((answer) => { state.user = answer?.user ?? state.user; render(); });
  }
  render();
});
engine.on('local-change', async () => {
  await reloadProjects();
  fillEditor();
});

view.name.addEventListener('input', scheduleSave);
view.text.addEventListener('input', scheduleSave);
view.newProject.addEventListener('click', createProject);
view.deleteProject.addEventListener('click', deleteOpenProject);
view.syncNow.addEventListener('click', () => engine.syncNow());
view.signInForm.addEventListener('submit', (event) => {
  event.preventDefault();
  signIn();
});
view.signOut.addEventListener('click', signOut);
view.keepMine.addEventListener('click', () => resolveConflict(engine.keepMine));
view.takeTheirs.addEventListener('click', () => resolveConflict(engine.takeTheirs));
view.resolveLater.addEventListener('click', postponeConflict);
// Typing still waiting for its pause is committed before the page goes away.
window.addEventListener('pagehide', flushTyping);
window.addEventListener('beforeunload', (event) => {
  if (!state.pendingSave) return;
  flushTyping();
  event.preventDefault();
});

await reloadProjects();
const session = await callDevAuth('/api/dev/session');
await useAccount(session?.user ?? null);
document.body.dataset.ready = 'true';
