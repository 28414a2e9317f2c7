// The demo editor: a project list, a one-field editor, dev sign-in and the sync status, wired to the
// sync engine exactly as the real editor would be. Every element tests drive has a data-testid.
import { createSyncEngine, openIndexedDbProjectStore } from '../src/index.js';
import { createHistoryPanels } from './history-ui.js';
import { createMediaPanel } from './media-ui.js';
import { apiBase, engineAuth, fetchDevAuth, holdSessionToken } from './connection.js';

/** @typedef {import('../src/index.js').LocalProject} LocalProject */
/** @typedef {import('../src/index.js').SyncStatus} SyncStatus */
/** @typedef {import('../src/index.js').SignedInUser} SignedInUser */

/** Typing is committed to the local store after this pause, not on every keystroke. */
const SAVE_AFTER_TYPING_MS = 300;
/** The conflict choices answer clicks only after this, so a click meant for what was under them is not a choice. */
const CHOICES_ARM_AFTER_MS = 600;
/** How long the result of a conflict choice stays on screen. */
const RESULT_SHOWN_MS = 8_000;
/** A sign-out made offline, finished against the server once the network is back. */
const PENDING_SIGN_OUT_KEY = 'appframes-demo:pending-sign-out';

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
  conflict: byTestId('conflict-dialog'),
  conflictResult: byTestId('conflict-result'),
  conflictProject: byTestId('conflict-project'),
  conflictReason: byTestId('conflict-reason'),
  conflictMine: byTestId('conflict-mine'),
  conflictTheirs: byTestId('conflict-theirs'),
  keepMine: /** @type {HTMLButtonElement} */ (byTestId('keep-mine')),
  takeTheirs: /** @type {HTMLButtonElement} */ (byTestId('take-theirs')),
  keepBoth: /** @type {HTMLButtonElement} */ (byTestId('keep-both')),
  resolveLater: /** @type {HTMLButtonElement} */ (byTestId('resolve-later')),
  signInAgain: /** @type {HTMLButtonElement} */ (byTestId('sign-in-again')),
  signInMessage: byTestId('sign-in-message'),
};

const media = createMediaPanel({
  list: byTestId('media-list'),
  addImage: /** @type {HTMLInputElement} */ (byTestId('add-image')),
  message: byTestId('media-message'),
  commit: commitMediaChange,
});

const localStore = await openIndexedDbProjectStore({ indexedDB, name: 'appframes-demo-projects' });
const engine = createSyncEngine({ localStore, baseUrl: apiBase, auth: engineAuth });

const historyPanels = createHistoryPanels({
  engine,
  elements: {
    panel: /** @type {HTMLDetailsElement} */ (byTestId('history-panel')),
    revisions: byTestId('history-list'),
    historyMessage: byTestId('history-message'),
    deletedPanel: /** @type {HTMLDetailsElement} */ (byTestId('recently-deleted')),
    deleted: byTestId('deleted-list'),
    deletedMessage: byTestId('recently-deleted-message'),
  },
  beforeRestore: flushTyping,
  restored: async () => {
    await reloadProjects();
    await refreshOpenProject();
  },
});

const state = {
  /** @type {SignedInUser | null} */
  user: null,
  /** @type {LocalProject[]} */
  projects: [],
  /** @type {string | null} */
  openProjectId: null,
  /** @type {ReturnType<typeof setTimeout> | null} typing not yet committed to the local store */
  pendingSave: null,
  /** @type {import('../src/index.js').EditingSession | null} the open project's editing session */
  editing: null,
  /** @type {LocalProject | null} the last commit asked for since the editor showed a copy: the next one builds on it */
  draft: null,
  /** @type {string | null} a new project whose first save has not landed yet */
  creatingProjectId: null,
  /** @type {string | null} the conflict the panel shows, as `${projectId}@${revision}` */
  shownConflict: null,
  /** Conflicts the user put off with "Later" or answered: not offered again. */
  settledConflicts: new Set(),
};

// ---- the local project list -------------------------------------------------------------------

/** Reloads run one after another, so an older read never replaces what a newer one showed. */
let reloads = Promise.resolve();

/**
 * @param {() => Promise<void>} reload
 * @returns {Promise<void>}
 */
function afterEarlierReloads(reload) {
  const done = reloads.then(reload);
  reloads = done.catch(() => undefined);
  return done;
}

function reloadProjects() {
  return afterEarlierReloads(async () => showProjects(await localStore.list()));
}

/**
 * Re-reads only the projects a change names: a page of the changes feed names 100 projects of an
 * account of thousands, and reading every one of them for each page made the first sync quadratic.
 * @param {string[]} projectIds
 */
function reloadChangedProjects(projectIds) {
  return afterEarlierReloads(async () => {
    const changed = new Set(projectIds);
    const stored = await Promise.all(projectIds.map((id) => localStore.get(id)));
    const unchanged = state.projects.filter((project) => !changed.has(project.id));
    showProjects([...unchanged, ...stored.filter((project) => project !== undefined)]);
  });
}

/** @param {LocalProject[]} stored */
function showProjects(stored) {
  const open = state.openProjectId;
  const openIsGone = open !== null && !stored.some((project) => project.id === open);
  if (openIsGone && (state.pendingSave || open === state.creatingProjectId)) {
    // Deleted elsewhere while typed on here (or not stored yet): the typing is committed and
    // brings it back; an unwanted project is easy to delete again, lost typing is not.
    const shown = state.projects.find((project) => project.id === open);
    if (shown) stored.push(shown);
  } else if (openIsGone) {
    closeEditor();
  }
  state.projects = stored;
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
  view.signInAgain.hidden = !status.signInRequired;
  if (!status.signInRequired || view.signInForm.hidden) {
    view.signInForm.hidden = Boolean(state.user);
    view.account.hidden = !state.user;
  }
  view.userEmail.textContent = state.user?.email ?? '';
}

const byNameOrder = new Intl.Collator();
/** @type {Map<string, { item: HTMLLIElement, shows: string }>} each listed project's item, and what it shows */
const listItems = new Map();

/**
 * Builds only the items whose project or status changed, and moves only the items out of place:
 * rebuilding all of a thousand projects' items for every page of a first sync had the browser
 * style and lay out every one of them again, several times a page.
 * @param {SyncStatus} status
 */
function renderProjectList(status) {
  const byName = [...state.projects].sort((a, b) => byNameOrder.compare(a.name, b.name) || byNameOrder.compare(a.id, b.id));
  const listed = new Set(byName.map((project) => project.id));
  for (const projectId of listItems.keys()) if (!listed.has(projectId)) listItems.delete(projectId);
  const items = byName.map((project) => listItemFor(project, status));
  const shown = new Set(items);
  let next = view.list.firstElementChild;
  /** Items of deleted projects, and items rebuilt since, leave the list as the walk meets them. */
  const skipGone = () => {
    while (next && !shown.has(/** @type {HTMLLIElement} */ (next))) {
      const gone = next;
      next = next.nextElementSibling;
      gone.remove();
    }
  };
  for (const item of items) {
    skipGone();
    if (item === next) next = item.nextElementSibling;
    else view.list.insertBefore(item, next);
  }
  skipGone();
  view.noProjects.hidden = state.projects.length > 0;
}

/**
 * @param {LocalProject} project
 * @param {SyncStatus} status
 */
function listItemFor(project, status) {
  const shows = JSON.stringify([project.name, project.id === state.openProjectId, Boolean(state.user), status.projects[project.id] ?? null]);
  const known = listItems.get(project.id);
  if (known?.shows === shows) return known.item;
  const item = projectListItem(project, status);
  listItems.set(project.id, { item, shows });
  return item;
}

/**
 * @param {LocalProject} project
 * @param {SyncStatus} status
 * @returns {HTMLLIElement}
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
  badge.textContent = projectStatus?.state.replaceAll('-', ' ') ?? (state.user ? 'synced' : 'local');
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

/**
 * Shows the project once its editing session has read it: the copy shown is the copy commits are
 * based on. A new project is shown at once (`shown`): nothing else can have changed it yet.
 * @param {string} projectId
 * @param {LocalProject} [shown]
 */
async function openEditor(projectId, shown) {
  flushTyping();
  state.editing?.close();
  const editing = engine.openProject(projectId);
  state.editing = editing;
  state.openProjectId = projectId;
  if (shown) fillEditor(shown);
  else fillEditor({ id: projectId, name: '', data: { text: '' } });
  render();
  const loaded = await editing.ready.catch(showSaveFailure);
  if (state.editing === editing && loaded && !state.pendingSave) fillEditor(loaded);
  render();
}

function closeEditor() {
  if (state.pendingSave) clearTimeout(state.pendingSave);
  state.pendingSave = null;
  state.editing?.close();
  state.editing = null;
  state.openProjectId = null;
}

function openProject() {
  return state.projects.find((project) => project.id === state.openProjectId);
}

/** @param {LocalProject} project */
function fillEditor(project) {
  view.name.value = project.name;
  view.text.value = textOf(project);
  state.draft = null;
  media.show(project.data).catch(showSaveFailure);
}

/** After sync changed the open project: show the new copy, unless typing is not committed yet. */
async function refreshOpenProject() {
  const editing = state.editing;
  if (!editing || state.pendingSave) return;
  const stored = await editing.reload();
  if (state.editing === editing && stored && !state.pendingSave) fillEditor(stored);
}

function renderEditor() {
  const project = openProject();
  view.editor.hidden = !project;
  view.pickHint.hidden = Boolean(project);
  const projectStatus = project ? engine.status().projects[project.id] : undefined;
  view.note.textContent = projectStatus?.message ?? '';
  historyPanels.showProject(project?.id ?? null);
}

function scheduleSave() {
  // Tests (and curious users in devtools) can tell when typing has reached the local store.
  document.body.dataset.localSave = 'pending';
  state.editing?.edited();
  if (state.pendingSave) clearTimeout(state.pendingSave);
  state.pendingSave = setTimeout(flushTyping, SAVE_AFTER_TYPING_MS);
}

/** Commits the typing on top of the copy the editor loaded; the engine queues it for sync. */
function flushTyping() {
  if (!state.pendingSave) return;
  clearTimeout(state.pendingSave);
  state.pendingSave = null;
  commitOpenProject((data) => data);
}

/**
 * An image added or replaced: committed at once, with the typing shown.
 * @param {(data: object) => object} changeData
 */
function commitMediaChange(changeData) {
  if (state.pendingSave) clearTimeout(state.pendingSave);
  state.pendingSave = null;
  return commitOpenProject(changeData)?.data;
}

/**
 * Commits what the editor shows, on top of the copy it loaded (or of the commit before, still being
 * stored), with `changeData` applied to the data; the engine queues it for sync.
 * @param {(data: object) => object} changeData
 */
function commitOpenProject(changeData) {
  const editing = state.editing;
  if (!editing) return undefined;
  document.body.dataset.localSave = 'pending';
  const base = state.draft ?? editing.project ?? openProject();
  const data = changeData({ .../** @type {object} */ (base?.data ?? {}), text: view.text.value });
  const committed = { id: editing.projectId, name: view.name.value, data };
  state.draft = committed;
  const listed = state.projects.find((project) => project.id === committed.id);
  if (listed) Object.assign(listed, committed);
  editing.commit(committed).catch(showSaveFailure).finally(() => {
    if (!state.pendingSave) document.body.dataset.localSave = 'done';
    render();
  });
  return committed;
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
  state.creatingProjectId = project.id;
  const saved = engine.saveProject(project).catch(showSaveFailure);
  const opened = openEditor(project.id, project);
  view.name.select();
  await Promise.all([saved, opened]);
  if (state.creatingProjectId === project.id) state.creatingProjectId = null;
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
// The panel never takes the keyboard: it opens beside the editor without moving focus, and its
// buttons answer only a deliberate click (or Tab and Enter) once they have been on screen a moment.

/** @param {string} projectId @param {{ revision: number }} server */
const conflictKey = (projectId, server) => `${projectId}@${server.revision}`;

/**
 * Shows the first conflict not yet answered or put off, and closes the panel when its conflict is
 * gone (answered in another tab, or resolved by a later sync).
 * @param {SyncStatus} status
 */
function offerConflictResolution(status) {
  const conflicts = Object.entries(status.projects)
    .filter(([, projectStatus]) => projectStatus.state === 'conflict' && projectStatus.server)
    .map(([projectId, projectStatus]) => ({ key: conflictKey(projectId, /** @type {{ revision: number }} */ (projectStatus.server)), projectId }));
  if (state.shownConflict && conflicts.some((conflict) => conflict.key === state.shownConflict)) return;
  const next = conflicts.find((conflict) => !state.settledConflicts.has(conflict.key));
  if (next) showConflict(next.projectId, status);
  else hideConflict();
}

/**
 * @param {string} projectId
 * @param {SyncStatus} status
 */
function showConflict(projectId, status) {
  const server = status.projects[projectId]?.server;
  if (!server) return;
  const mine = state.projects.find((project) => project.id === projectId);
  state.shownConflict = conflictKey(projectId, server);
  view.conflict.dataset.projectId = projectId;
  view.conflictProject.textContent = mine?.name ?? server.name;
  view.conflictReason.textContent = status.projects[projectId]?.message ?? '';
  view.conflictMine.textContent = mine ? textOf(mine) : '(deleted on this device)';
  view.conflictTheirs.textContent = server.deletedAt ? '(deleted on the other device)' : textOf(server);
  view.conflictResult.textContent = '';
  view.conflict.hidden = false;
  armChoices();
}

let showings = 0;

function armChoices() {
  const choices = [view.keepMine, view.takeTheirs, view.keepBoth, view.resolveLater];
  for (const button of choices) button.disabled = true;
  const showing = (showings += 1);
  setTimeout(() => {
    if (showing === showings && !view.conflict.hidden) for (const button of choices) button.disabled = false;
  }, CHOICES_ARM_AFTER_MS);
}

function hideConflict() {
  state.shownConflict = null;
  view.conflict.hidden = true;
}

/**
 * @param {(projectId: string) => Promise<string | undefined | void>} choice resolves with the id of a project it made, if any
 * @param {(names: { name: string, copy?: string }) => string} describe what the choice did (quoted names
 *   of the project and of the project it made), told to the user once it is done
 */
async function resolveConflict(choice, describe) {
  const key = state.shownConflict;
  const projectId = view.conflict.dataset.projectId;
  if (!key || !projectId) return;
  // Answered: never offered again, even by a status computed before the answer landed.
  state.settledConflicts.add(key);
  hideConflict();
  if (state.openProjectId === projectId) flushTyping();
  /** @type {string | undefined | void} */
  let made;
  try {
    made = await choice(projectId);
    await reloadProjects();
    await refreshOpenProject();
  } catch (error) {
    showSaveFailure(error);
    return;
  }
  const nameOf = (/** @type {string} */ id) => `“${state.projects.find((project) => project.id === id)?.name ?? 'the project'}”`;
  showResult(describe({ name: nameOf(projectId), copy: made ? nameOf(made) : undefined }));
}

/** @param {string} text what a choice did, shown for a while */
function showResult(text) {
  view.conflictResult.textContent = text;
  const shownText = text;
  setTimeout(() => { if (view.conflictResult.textContent === shownText) view.conflictResult.textContent = ''; }, RESULT_SHOWN_MS);
}

function postponeConflict() {
  if (state.shownConflict) state.settledConflicts.add(state.shownConflict);
  hideConflict();
  render();
}

// ---- dev sign-in (the local server's stand-in for Better Auth's sign-in UI) -------------------

/**
 * @param {string} path
 * @param {object} [body]
 * @returns {Promise<{ user?: SignedInUser, token?: string } | null>} null when the server said no; rejects offline
 */
async function callDevAuth(path, body) {
  const response = await fetchDevAuth(path, {
    method: body ? 'POST' : 'GET',
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
  view.signInMessage.textContent = '';
  /** @type {{ user?: SignedInUser, token?: string } | null} */
  let answer;
  try {
    answer = await callDevAuth('/api/dev/sign-in', { email: view.email.value.trim() });
  } catch {
    view.signInMessage.textContent = 'Signing in needs the network: your projects are saved here meanwhile.';
    return;
  }
  if (!answer?.user) {
    view.signInMessage.textContent = 'Signing in did not work; try again.';
    return;
  }
  // A sign-out still waiting for the network belongs to the session this sign-in replaced.
  localStorage.removeItem(PENDING_SIGN_OUT_KEY);
  holdSessionToken(answer.token ?? null);
  await useAccount(answer.user).catch(showSaveFailure);
}

/** Signing out works offline: sync pauses at once, and the server forgets the session once it can be told. */
async function signOut() {
  flushTyping();
  localStorage.setItem(PENDING_SIGN_OUT_KEY, '1');
  await useAccount(null).catch(showSaveFailure);
  await finishPendingSignOut();
}

async function finishPendingSignOut() {
  if (!localStorage.getItem(PENDING_SIGN_OUT_KEY)) return;
  try {
    const response = await fetchDevAuth('/api/dev/sign-out', { method: 'POST' });
    if (!response.ok) return;
    localStorage.removeItem(PENDING_SIGN_OUT_KEY);
    holdSessionToken(null);
  } catch {
    // Still offline: tried again on the `online` event and at the next page load.
  }
}

/** After "Sign in again": the form comes back with the account's email filled in. */
function offerSignInAgain() {
  view.email.value = state.user?.email ?? view.email.value;
  view.signInForm.hidden = false;
  view.account.hidden = true;
  view.email.focus();
}

// ---- wiring -----------------------------------------------------------------------------------

/** @type {SyncStatus['state'] | null} */
let lastOverallState = null;
engine.on('status', (status) => {
  // Sync settled: a push (this device's or a restore) may have added revisions, a pull a deletion.
  if (status.state === 'synced' && lastOverallState !== 'synced') historyPanels.refresh();
  lastOverallState = status.state;
  // Another tab may have signed in or out: the engine follows it, and so does the header.
  if ((status.userId ?? null) !== (state.user?.id ?? null)) {
    state.user = status.userId ? { id: status.userId, email: state.user?.email } : null;
    if (state.user) {
      callDevAuth('/api/dev/session')
        .then((answer) => { state.user = answer?.user ?? state.user; render(); })
        .catch(() => undefined); // offline: the header shows the account's id until the next status
    }
  }
  render();
});
engine.on('local-change', ({ projectIds }) => {
  reloadChangedProjects(projectIds)
    .then(() => (state.openProjectId && projectIds.includes(state.openProjectId) ? refreshOpenProject() : undefined))
    .catch(showSaveFailure);
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
view.keepMine.addEventListener('click', () => resolveConflict(
  engine.keepMine,
  ({ name }) => `Kept this device's copy of ${name}; it is syncing. The other device's copy stays in the project's history.`,
));
view.takeTheirs.addEventListener('click', () => resolveConflict(
  engine.takeTheirs,
  ({ name }) => `${name} now has the other device's copy; this device's copy stays in the project's history.`,
));
view.keepBoth.addEventListener('click', () => resolveConflict(
  engine.keepBoth,
  ({ name, copy }) => (copy
    ? `Kept both: ${name} has the other device's copy, this device's copy is now ${copy}.`
    : `${name} now has the other device's copy.`),
));
view.resolveLater.addEventListener('click', postponeConflict);
view.signInAgain.addEventListener('click', offerSignInAgain);
window.addEventListener('online', finishPendingSignOut);
// Typing still waiting for its pause is committed before the page goes away, and when the user
// turns to another tab or window: that tab then shows it instead of typing on an older copy.
window.addEventListener('pagehide', flushTyping);
window.addEventListener('blur', flushTyping);
document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') flushTyping(); });
window.addEventListener('beforeunload', (event) => {
  if (!state.pendingSave) return;
  flushTyping();
  event.preventDefault();
});

await reloadProjects();
await finishPendingSignOut();
/** @type {{ user?: SignedInUser } | null} */
let session = null;
if (!localStorage.getItem(PENDING_SIGN_OUT_KEY)) {
  // Offline at load: signed out until the network says who is signed in.
  session = await callDevAuth('/api/dev/session').catch(() => null);
}
await useAccount(session?.user ?? null);
document.body.dataset.ready = 'true';
