// The sync engine the editor embeds: who is signed in, local commits, the status the editor shows.
// The work of one signed-in user lives in session.js; this file wires it to the tabs, the browser
// events and the editor's listeners, and switches sessions on sign-in and sign-out.
import { createHttpTransport } from './adapters/http-transport.js';
import { openDeviceProjects } from './adapters/device-projects.js';
import { defaultIndexedDB } from './adapters/idb.js';
import { openSyncMetadata } from './adapters/sync-metadata.js';
import { listenToBrowser, pageSignals } from './adapters/browser-signals.js';
import { createDefaultTabCoordination } from './adapters/tabs.js';
import { createEditingSession } from './editing-session.js';
import {
  deletedProjectToRestore, getRevision, listRecentlyDeleted, listRevisions, restoreLocally, revisionToRestore, signedOut,
} from './history.js';
import { commitLocally, keepAsConflictedCopy } from './local-commits.js';
import { startSyncSession } from './session.js';
import { SAVED_LOCALLY, describeLocalError, localFailure, withSaveFailure } from './status.js';

/** @typedef {import('./sync-types.js').SyncEngine} SyncEngine */
/** @typedef {import('./sync-types.js').SyncEngineOptions} SyncEngineOptions */
/** @typedef {import('./sync-types.js').SyncEvents} SyncEvents */
/** @typedef {import('./sync-types.js').SyncStatus} SyncStatus */
/** @typedef {import('./sync-types.js').SignedInUser} SignedInUser */
/** @typedef {import('./sync-types.js').TabMessage} TabMessage */
/** @typedef {import('./sync-types.js').Timers} Timers */
/** @typedef {import('./sync-types.js').DeviceProjects} DeviceProjects */
/** @typedef {import('./session.js').SyncSession} SyncSession */

/** @type {Timers} */
const realTimers = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(/** @type {ReturnType<typeof setTimeout>} */ (handle)),
};

const DEFAULT_SETTINGS = Object.freeze({
  debounceMs: 400,
  pollMs: 30_000,
  concurrency: 4,
  backoff: Object.freeze({ baseMs: 1_000, maxMs: 60_000 }),
});

/**
 * @param {SyncEngineOptions} options
 * @returns {SyncEngine}
 */
export function createSyncEngine(options) {
  const { localStore } = options;
  const transport = options.transport ?? createHttpTransport({ baseUrl: options.baseUrl, fetch: options.fetch, auth: options.auth });
  const tabs = options.tabs ?? createDefaultTabCoordination();
  const timers = options.timers ?? realTimers;
  const settings = {
    debounceMs: options.debounceMs ?? DEFAULT_SETTINGS.debounceMs,
    pollMs: options.pollMs ?? DEFAULT_SETTINGS.pollMs,
    concurrency: options.concurrency ?? DEFAULT_SETTINGS.concurrency,
    backoff: options.backoff ?? DEFAULT_SETTINGS.backoff,
  };
  /** @type {() => IDBFactory} */
  const indexedDB = () => options.indexedDB ?? defaultIndexedDB();

  /** @type {{ [K in keyof SyncEvents]: Set<(payload: SyncEvents[K]) => void> }} */
  const listeners = { status: new Set(), 'local-change': new Set() };
  /** @type {SyncSession | null} */
  let session = null;
  /** @type {SyncStatus} */
  let sessionStatus = SAVED_LOCALLY;
  /** @type {string | undefined} a local save that failed (full disk), shown until one succeeds */
  let storageTrouble;
  let savesInProgress = 0;
  /** Sign-in and sign-out are applied one after another, in the order they were asked for. */
  let userChanges = Promise.resolve();
  /** @type {Promise<DeviceProjects> | null} */
  let deviceProjects = null;
  const device = () => (deviceProjects ??= openDeviceProjects(indexedDB()).catch((error) => {
    // Not remembered: a database that failed to open once (blocked by an older tab) may open next time.
    deviceProjects = null;
    throw error;
  }));

  /** Set by `stop()`: answers still in flight are recorded but no longer announced. */
  let closed = false;

  tabs.onMessage(handleTabMessage);
  const removeBrowserListeners = listenToBrowser(options.signals ?? pageSignals(), {
    online: () => session?.syncSoon({ overrideBackoff: true }),
    visible: () => session?.syncSoon(),
    hasUnsyncedEdits: () => engine.hasUnsyncedEdits(),
  });

  // ---- events and status ---------------------------------------------------------------------

  /**
   * @template {keyof SyncEvents} K
   * @param {K} event
   * @param {SyncEvents[K]} payload
   */
  function emit(event, payload) {
    for (const listener of listeners[event]) listener(payload);
  }

  /** @returns {SyncStatus} */
  function currentStatus() {
    return storageTrouble ? withSaveFailure(sessionStatus, storageTrouble, Boolean(session)) : sessionStatus;
  }

  /**
   * @param {SyncStatus} status
   * @param {boolean} fromLeader this tab computed it and the other tabs should show it too
   */
  function publishStatus(status, fromLeader) {
    sessionStatus = status;
    emit('status', currentStatus());
    if (fromLeader) tellOtherTabs({ type: 'status', status });
  }

  /** @param {TabMessage} message */
  function tellOtherTabs(message) {
    if (!closed) tabs.post(message);
  }

  /** @param {string[]} projectIds */
  function publishLocalChange(projectIds) {
    emit('local-change', { projectIds });
    tellOtherTabs({ type: 'local-change', projectIds });
  }

  /**
   * Runs a local save, turning a full disk into a visible status before passing the error on.
   * @template T
   * @param {() => Promise<T>} save
   * @returns {Promise<T>}
   */
  async function surfacingStorageErrors(save) {
    savesInProgress += 1;
    try {
      const result = await save();
      if (storageTrouble) {
        storageTrouble = undefined;
        emit('status', currentStatus());
      }
      return result;
    } catch (error) {
      storageTrouble = describeLocalError(error);
      emit('status', currentStatus());
      throw error;
    } finally {
      savesInProgress -= 1;
    }
  }

  // ---- sign-in and sign-out ------------------------------------------------------------------

  /**
   * @param {SignedInUser | null} user
   * @param {{ announce: boolean }} how announce: tell the other tabs (false when they told us)
   * @returns {Promise<void>} rejects when this change failed; the changes after it still run
   */
  function changeUser(user, { announce }) {
    const change = userChanges.then(() => applyUser(user, announce));
    // One failed sign-in must neither block the next one nor the saves that wait for it.
    userChanges = change.catch(() => undefined);
    return change;
  }

  /**
   * @param {SignedInUser | null} user
   * @param {boolean} announce
   */
  async function applyUser(user, announce) {
    if ((session?.user.id ?? null) === (user?.id ?? null)) {
      // Signing in again as the same user (say after a 401) resumes a paused sync.
      session?.syncSoon({ overrideBackoff: true });
      return;
    }
    session?.stop();
    session = null;
    if (announce) tellOtherTabs({ type: 'user', user });
    if (!user) {
      publishStatus(SAVED_LOCALLY, false);
      return;
    }
    try {
      session = await startSessionFor(user);
    } catch (error) {
      // Signed in but not syncing: edits are kept as made without a session and claimed next time.
      publishStatus(localFailure(user.id, error), false);
      throw error;
    }
  }

  /**
   * @param {SignedInUser} user
   * @returns {Promise<SyncSession>}
   */
  async function startSessionFor(user) {
    const [metadata, deviceTable] = await Promise.all([openSyncMetadata(indexedDB(), user.id), device()]);
    return startSyncSession({
      user, metadata, device: deviceTable, localStore, transport, tabs, timers, settings,
      random: options.random ?? Math.random,
      newWriteId: options.newWriteId ?? (() => globalThis.crypto.randomUUID()),
      keepConflictedCopy: async (project) => keepAsConflictedCopy(await commitDependencies(), project),
      publishStatus,
      publishLocalChange,
    });
  }

  /** @param {string} projectId */
  async function queueCommit(projectId) {
    if (session) await session.recordLocalCommit(projectId);
    else await (await device()).markEditedWithoutSession(projectId);
  }

  /**
   * @param {import('./sync-types.js').LocalProject} project
   * @param {number | undefined} baseVersion
   * @returns {Promise<number>}
   */
  function commit(project, baseVersion) {
    const committed = surfacingStorageErrors(() => tabs.withProjectLock(project.id, async () => {
      await userChanges;
      return commitLocally(await commitDependencies(), project, baseVersion);
    }));
    return committed.then((version) => {
      tellOtherTabs({ type: 'local-change', projectIds: [project.id] });
      return version;
    });
  }

  /** @returns {Promise<import('./local-commits.js').CommitDependencies>} what a local commit needs, for the current session */
  async function commitDependencies() {
    return {
      device: await device(), localStore, timers, queueCommit,
      metadata: session?.metadata ?? null,
      userId: session?.user.id ?? null,
      newProjectId: options.newProjectId ?? (() => globalThis.crypto.randomUUID()),
      withProjectLock: tabs.withProjectLock,
      publishLocalChange,
    };
  }

  /** @returns {Promise<SyncSession>} the signed-in session, for what only the server can answer */
  async function signedInSession() {
    await userChanges;
    if (!session) throw signedOut();
    return session;
  }

  /**
   * Commits a restore (see history.js) under the project's lock, then tells every tab.
   * @param {SyncSession} restoring the session the revision was read in
   * @param {{ restored: import('./sync-types.js').ServerProject, currentRevision: number }} restore
   */
  async function commitRestore(restoring, { restored, currentRevision }) {
    await surfacingStorageErrors(() => tabs.withProjectLock(restored.id, async () => {
      await userChanges;
      // Signed out (or in as someone else) while the revision was read: it is not this account's to restore.
      if (session !== restoring) throw signedOut();
      await restoreLocally({ ...(await commitDependencies()), metadata: restoring.metadata }, restored, currentRevision);
    }));
    publishLocalChange([restored.id]);
  }

  /**
   * The stored copy and its version, read together under the project's lock.
   * @param {string} projectId
   */
  function readLocalCopy(projectId) {
    return tabs.withProjectLock(projectId, async () => {
      const [project, version] = await Promise.all([localStore.get(projectId), (await device()).version(projectId)]);
      return { project, version };
    });
  }

  // ---- other tabs and the browser --------------------------------------------------------------

  /** @param {TabMessage} message */
  function handleTabMessage(message) {
    const leading = session?.isLeading() ?? false;
    switch (message.type) {
      case 'status':
        if (!leading && session && message.status.userId === session.user.id) {
          publishStatus(message.status, false);
          session.statusArrivedFromLeader();
        }
        break;
      case 'status-request':
        if (leading && message.userId === session?.user.id) session?.updateStatus();
        break;
      case 'queued':
        if (leading && message.userId === session?.user.id) session?.nudge();
        break;
      case 'sync-now':
        if (leading && message.userId === session?.user.id) session?.syncSoon({ overrideBackoff: message.overrideBackoff });
        break;
      case 'typing-ended':
        if (leading && message.userId === session?.user.id) session?.typingEnded(message.projectId);
        break;
      case 'local-change':
        emit('local-change', { projectIds: message.projectIds });
        break;
      case 'user':
        // A failure is already in the status; this tab's own sign-in call is not waiting for it.
        changeUser(message.user, { announce: false }).catch(() => undefined);
        break;
    }
  }

  /** @type {SyncEngine} */
  const engine = {
    setUser: (user) => changeUser(user, { announce: true }),
    saveProject: async (project, { baseVersion } = {}) => ({ version: await commit(project, baseVersion) }),
    openProject(projectId) {
      return createEditingSession({
        projectId,
        loading: readLocalCopy(projectId),
        commit,
        readLocalCopy: () => readLocalCopy(projectId),
        holdTyping: () => tabs.holdTyping(projectId),
        // A pull held back for the typing may now go through.
        typingEnded: () => session?.typingEnded(projectId),
      });
    },
    deleteProject: (projectId) =>
      surfacingStorageErrors(() => tabs.withProjectLock(projectId, async () => {
        await userChanges;
        await queueCommit(projectId);
        await (await device()).bumpVersion(projectId, timers.now());
        await localStore.remove(projectId);
      })).then(() => tellOtherTabs({ type: 'local-change', projectIds: [projectId] })),
    enqueue: (projectId) => surfacingStorageErrors(() => tabs.withProjectLock(projectId, async () => {
      await userChanges;
      await queueCommit(projectId);
    })),
    syncNow: () => session?.syncSoon({ overrideBackoff: true }),
    keepMine: async (projectId) => { await userChanges; await session?.keepMine(projectId); },
    takeTheirs: async (projectId) => { await userChanges; await session?.takeTheirs(projectId); },
    async keepBoth(projectId) {
      await userChanges;
      if (!session) return undefined;
      const deps = await commitDependencies();
      return session.keepBoth(projectId, (mine) => keepAsConflictedCopy(deps, mine));
    },
    async listRevisions(projectId) {
      await signedInSession();
      return listRevisions(transport, projectId);
    },
    async getRevision(projectId, revision) {
      await signedInSession();
      return getRevision(transport, projectId, revision);
    },
    async restoreRevision(projectId, revision) {
      const restoring = await signedInSession();
      await commitRestore(restoring, await revisionToRestore(transport, projectId, revision));
    },
    async listRecentlyDeleted() {
      const listing = await signedInSession();
      // Stored and queued here: brought back on this device, its restore not pushed yet.
      const [stored, queuedIds] = await Promise.all([localStore.list(), listing.metadata.queuedIds()]);
      const queued = new Set(queuedIds);
      return listRecentlyDeleted(transport, new Set(stored.filter((project) => queued.has(project.id)).map((project) => project.id)));
    },
    async restoreDeleted(projectId) {
      const restoring = await signedInSession();
      await commitRestore(restoring, await deletedProjectToRestore(transport, projectId));
    },
    status: currentStatus,
    hasUnsyncedEdits() {
      // Signed out, there is no account to reach: nothing to warn about.
      if (!session) return false;
      return savesInProgress > 0 || session.hasUnsyncedEdits();
    },
    on(event, listener) {
      listeners[event].add(listener);
      return () => listeners[event].delete(listener);
    },
    async idle() {
      await userChanges;
      await session?.idle();
    },
    async stop() {
      await userChanges;
      session?.stop();
      session = null;
      removeBrowserListeners();
      closed = true;
      tabs.close();
      if (deviceProjects) (await deviceProjects).close();
    },
  };
  return engine;
}
