// The sync engine the editor embeds: who is signed in, local commits, the status the editor shows.
// The work of one signed-in user lives in session.js; this file wires it to the tabs, the browser
// events and the editor's listeners, and switches sessions on sign-in and sign-out.
import { createHttpTransport } from './adapters/http-transport.js';
import { openDeviceProjects } from './adapters/device-projects.js';
import { defaultIndexedDB } from './adapters/idb.js';
import { openSyncMetadata } from './adapters/sync-metadata.js';
import { createDefaultTabCoordination } from './adapters/tabs.js';
import { startSyncSession } from './session.js';
import { SAVED_LOCALLY, describeLocalError } from './status.js';

/** @typedef {import('./sync-types.js').SyncEngine} SyncEngine */
/** @typedef {import('./sync-types.js').SyncEngineOptions} SyncEngineOptions */
/** @typedef {import('./sync-types.js').SyncEvents} SyncEvents */
/** @typedef {import('./sync-types.js').SyncStatus} SyncStatus */
/** @typedef {import('./sync-types.js').SignedInUser} SignedInUser */
/** @typedef {import('./sync-types.js').TabMessage} TabMessage */
/** @typedef {import('./sync-types.js').Timers} Timers */
/** @typedef {import('./sync-types.js').BrowserSignals} BrowserSignals */
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
  const transport = options.transport ?? createHttpTransport({ baseUrl: options.baseUrl, fetch: options.fetch });
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
  const device = () => (deviceProjects ??= openDeviceProjects(indexedDB()));

  tabs.onMessage(handleTabMessage);
  const removeBrowserListeners = listenToBrowser(options.signals ?? pageSignals());

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
    if (!storageTrouble) return sessionStatus;
    return { ...sessionStatus, state: 'error', label: session ? 'Sync error' : 'Not saved', detail: storageTrouble };
  }

  /**
   * @param {SyncStatus} status
   * @param {boolean} fromLeader this tab computed it and the other tabs should show it too
   */
  function publishStatus(status, fromLeader) {
    sessionStatus = status;
    emit('status', currentStatus());
    if (fromLeader) tabs.post({ type: 'status', status });
  }

  /** @param {string} projectId */
  function publishLocalChange(projectId) {
    emit('local-change', { projectId });
    tabs.post({ type: 'local-change', projectId });
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
   */
  function changeUser(user, { announce }) {
    userChanges = userChanges.then(async () => {
      if ((session?.user.id ?? null) === (user?.id ?? null)) {
        // Signing in again as the same user (say after a 401) resumes a paused sync.
        session?.syncSoon({ overrideBackoff: true });
        return;
      }
      session?.stop();
      session = null;
      if (announce) tabs.post({ type: 'user', user });
      if (!user) {
        publishStatus(SAVED_LOCALLY, false);
        return;
      }
      const [metadata, deviceTable] = await Promise.all([openSyncMetadata(indexedDB(), user.id), device()]);
      session = startSyncSession({
        user, metadata, device: deviceTable, localStore, transport, tabs, timers, settings,
        random: options.random ?? Math.random,
        newWriteId: options.newWriteId ?? (() => globalThis.crypto.randomUUID()),
        publishStatus,
        publishLocalChange,
      });
    });
    return userChanges;
  }

  /** @param {string} projectId */
  async function recordLocalCommit(projectId) {
    await userChanges;
    if (session) await session.recordLocalCommit(projectId);
    else await (await device()).markEditedWithoutSession(projectId);
  }

  // ---- other tabs and the browser --------------------------------------------------------------

  /** @param {TabMessage} message */
  function handleTabMessage(message) {
    const leading = session?.isLeading() ?? false;
    switch (message.type) {
      case 'status':
        if (!leading && session && message.status.userId === session.user.id) publishStatus(message.status, false);
        break;
      case 'status-request':
        if (leading && message.userId === session?.user.id) session?.updateStatus();
        break;
      case 'queued':
        if (leading && message.userId === session?.user.id) session?.nudge();
        break;
      case 'local-change':
        emit('local-change', { projectId: message.projectId });
        break;
      case 'user':
        changeUser(message.user, { announce: false });
        break;
    }
  }

  /**
   * @param {BrowserSignals} signals
   * @returns {() => void}
   */
  function listenToBrowser({ window: page, document: doc }) {
    const online = () => session?.syncSoon({ overrideBackoff: true });
    const visible = () => { if (doc?.visibilityState === 'visible') session?.syncSoon(); };
    /** @param {Event} event */
    const beforeUnload = (event) => {
      if (!engine.hasUnsyncedEdits()) return;
      // Both forms, for the browsers that still only honour returnValue.
      event.preventDefault();
      /** @type {BeforeUnloadEvent} */ (event).returnValue = '';
    };
    page?.addEventListener('online', online);
    page?.addEventListener('beforeunload', beforeUnload);
    doc?.addEventListener('visibilitychange', visible);
    return () => {
      page?.removeEventListener('online', online);
      page?.removeEventListener('beforeunload', beforeUnload);
      doc?.removeEventListener('visibilitychange', visible);
    };
  }

  /** @type {SyncEngine} */
  const engine = {
    setUser: (user) => changeUser(user, { announce: true }),
    saveProject: (project) =>
      surfacingStorageErrors(() => tabs.withProjectLock(project.id, async () => {
        await localStore.put(project);
        await recordLocalCommit(project.id);
      })).then(() => tabs.post({ type: 'local-change', projectId: project.id })),
    deleteProject: (projectId) =>
      surfacingStorageErrors(() => tabs.withProjectLock(projectId, async () => {
        await localStore.remove(projectId);
        await recordLocalCommit(projectId);
      })).then(() => tabs.post({ type: 'local-change', projectId })),
    enqueue: (projectId) => surfacingStorageErrors(() => tabs.withProjectLock(projectId, () => recordLocalCommit(projectId))),
    syncNow: () => session?.syncSoon({ overrideBackoff: true }),
    keepMine: async (projectId) => { await userChanges; await session?.keepMine(projectId); },
    takeTheirs: async (projectId) => { await userChanges; await session?.takeTheirs(projectId); },
    status: currentStatus,
    hasUnsyncedEdits() {
      if (!session) return false;
      return savesInProgress > 0 || Object.values(sessionStatus.projects).some((project) => project.state !== 'other-account');
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
      tabs.close();
      if (deviceProjects) (await deviceProjects).close();
    },
  };
  return engine;
}

/** @returns {BrowserSignals} */
function pageSignals() {
  return {
    window: typeof window === 'undefined' ? undefined : window,
    document: typeof document === 'undefined' ? undefined : document,
  };
}
