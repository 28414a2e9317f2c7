// One signed-in user's sync on this device. Every tab of the user has a session; only the tab
// holding the user's leader lock talks to the server, the others write to the shared IndexedDB
// and nudge it. This file owns the order of a pass (claim, then merge, then push) and knowing when
// nothing runs; the work itself is in claim.js, merge-on-load.js, push-queue.js and
// conflict-choices.js, the timing in pass-scheduler.js, the status in session-status.js.
import { claimLocalProjects, queueLocalCommit } from './claim.js';
import { keepMine, takeTheirs } from './conflict-choices.js';
import { mergeWithServer } from './merge-on-load.js';
import { createPassScheduler } from './pass-scheduler.js';
import { createProjectRetries } from './project-retries.js';
import { pushQueue } from './push-queue.js';
import { createStatusReporter } from './session-status.js';
import { describeLocalError } from './status.js';
import { trackUnsyncedEdits } from './unsynced-edits.js';

/** @typedef {import('./sync-types.js').SignedInUser} SignedInUser */
/** @typedef {import('./sync-types.js').SyncMetadata} SyncMetadata */
/** @typedef {import('./sync-types.js').DeviceProjects} DeviceProjects */
/** @typedef {import('./sync-types.js').LocalProjectStore} LocalProjectStore */
/** @typedef {import('./sync-types.js').SyncTransport} SyncTransport */
/** @typedef {import('./sync-types.js').TabCoordination} TabCoordination */
/** @typedef {import('./sync-types.js').Timers} Timers */
/** @typedef {import('./sync-types.js').SyncStatus} SyncStatus */
/** @typedef {import('./session-context.js').SessionContext} SessionContext */
/** @typedef {import('./session-context.js').SessionSettings} SessionSettings */
/** @typedef {import('./stops.js').Stop} Stop */

/**
 * @typedef {object} SessionDependencies
 * @property {SignedInUser} user
 * @property {SyncMetadata} metadata
 * @property {DeviceProjects} device
 * @property {LocalProjectStore} localStore
 * @property {SyncTransport} transport
 * @property {TabCoordination} tabs
 * @property {Timers} timers
 * @property {() => number} random
 * @property {() => string} newWriteId
 * @property {SessionSettings} settings
 * @property {(status: SyncStatus, fromLeader: boolean) => void} publishStatus
 * @property {(projectId: string) => void} publishLocalChange
 */

/**
 * @typedef {object} SyncSession
 * @property {SignedInUser} user
 * @property {SyncMetadata} metadata
 * @property {() => boolean} isLeading
 * @property {(projectId: string) => Promise<void>} recordLocalCommit must run under the project's lock
 * @property {() => void} nudge re-read the queue (another tab or a conflict choice changed it)
 * @property {(options?: { overrideBackoff?: boolean }) => void} syncSoon merge with the server list, then push
 * @property {(projectId: string) => Promise<void>} keepMine
 * @property {(projectId: string) => Promise<void>} takeTheirs
 * @property {() => void} updateStatus
 * @property {() => boolean} hasUnsyncedEdits answered at once, for `beforeunload`
 * @property {() => void} statusArrivedFromLeader the queue may have changed in the syncing tab
 * @property {() => Promise<void>} idle
 * @property {() => void} stop
 */

/** The message shown until the syncing tab answers with its status. */
const WAITING_FOR_LEADER = 'Another tab of this browser is syncing';

/**
 * @param {SessionDependencies} deps
 * @returns {SyncSession}
 */
export function startSyncSession(deps) {
  const { user, metadata, tabs, timers, settings } = deps;

  let stopped = false;
  let leading = false;
  /** Claim runs at the start of leadership; it stays pending until it succeeds. */
  let needsClaim = false;
  let needsMerge = false;
  let merging = false;
  let activeWork = 0;
  /** @type {Array<() => void>} */
  let idleWaiters = [];

  /** @type {SessionContext} */
  const context = {
    user,
    metadata,
    device: deps.device,
    localStore: deps.localStore,
    transport: deps.transport,
    tabs,
    timers,
    settings,
    newWriteId: deps.newWriteId,
    publishLocalChange: deps.publishLocalChange,
    statusChanged: () => status.update(),
    isStopped: () => stopped,
    inFlight: new Set(),
    projectRetries: createProjectRetries({ timers, backoff: settings.backoff, random: deps.random }),
    heldPulls: new Set(),
  };
  const canRun = () => !stopped && leading;
  const scheduler = createPassScheduler({
    timers,
    settings,
    random: deps.random,
    canRun,
    runPass: () => inBackground(runPass()),
    onPoll: () => { needsMerge = true; },
    onTroubleChanged: () => status.update(),
  });
  const unsyncedEdits = trackUnsyncedEdits(metadata);
  const status = createStatusReporter({
    context,
    canReport: canRun,
    isBusy: () => activeWork > 0,
    trouble: scheduler.trouble,
    signInRequired: scheduler.signInRequired,
    alongside: unsyncedEdits.refresh,
    publish: (computed) => deps.publishStatus(computed, true),
    onSettled: settleIdleWaiters,
  });

  // ---- work tracking, so `idle()` and `stop()` know when nothing runs --------------------------

  /**
   * Counts `work` as running until it settles.
   * @template T
   * @param {Promise<T>} work
   * @returns {Promise<T>}
   */
  async function counted(work) {
    activeWork += 1;
    try {
      return await work;
    } finally {
      activeWork -= 1;
      status.update();
      settleIdleWaiters();
    }
  }

  /**
   * Background work: only local storage can throw here (the transport turns network failures into
   * outcomes), and a full disk is retried with backoff and shown, never swallowed. The backoff is
   * armed before the work counts as done, so `idle()` never resolves in between.
   * @param {Promise<void>} work
   */
  function inBackground(work) {
    counted(work.catch((error) => scheduler.backOff({ kind: 'retry', message: describeLocalError(error) })));
  }

  function isIdle() {
    return activeWork === 0 && context.inFlight.size === 0 && !scheduler.hasPassPending() && !status.isRunning();
  }

  function settleIdleWaiters() {
    if (!isIdle()) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const wake of waiters) wake();
    if (stopped) metadata.close();
  }

  // ---- a pass: claim, merge, push ------------------------------------------------------------

  function startLeading() {
    needsClaim = true;
    needsMerge = true;
    scheduler.startPolling();
    scheduler.schedule(0);
  }

  /** Claim and merge first when due, then push every queued project that is not parked. */
  async function runPass() {
    if (!canRun()) return;
    const startedAt = timers.now();
    status.update();
    if (needsClaim) {
      await claimLocalProjects(context);
      needsClaim = false;
    }
    let stop = await mergeIfDue();
    if (!stop) {
      const pushed = await pushQueue(context);
      stop = pushed.stop;
      if (pushed.queuedAgain && !stop) scheduler.schedule(settings.debounceMs);
    }
    if (stop) scheduler.backOff(stop);
    else scheduler.recovered(startedAt);
    const retryDueAt = context.projectRetries.nextDueAt();
    if (retryDueAt !== undefined) scheduler.schedule(Math.max(0, retryDueAt - timers.now()));
    status.update();
  }

  /** @returns {Promise<Stop | undefined>} */
  async function mergeIfDue() {
    // One merge at a time; a merge asked for meanwhile runs in the next pass.
    if (!needsMerge || merging) return undefined;
    needsMerge = false;
    merging = true;
    /** @type {Stop | undefined} */
    let stop;
    try {
      stop = await mergeWithServer(context);
    } catch (error) {
      needsMerge = true;
      throw error;
    } finally {
      merging = false;
    }
    if (stop) needsMerge = true;
    else if (needsMerge) scheduler.schedule(0);
    // Pulls held back for typing go through in the pass after the typing ends (which nudges).
    else if (context.heldPulls.size) needsMerge = true;
    return stop;
  }

  // ---- local commits and nudges (any tab) ------------------------------------------------------

  /** @param {string} projectId */
  async function recordLocalCommit(projectId) {
    if (await queueLocalCommit(context, projectId)) unsyncedEdits.commitRecorded();
    nudge();
  }

  function nudge() {
    if (leading) scheduler.schedule(settings.debounceMs);
    else tabs.post({ type: 'queued', userId: user.id });
    status.update();
  }

  /** @param {{ overrideBackoff?: boolean }} [options] */
  function syncSoon({ overrideBackoff = false } = {}) {
    needsMerge = true;
    scheduler.scheduleNow({ overrideBackoff });
  }

  /** @param {string} projectId */
  async function chooseKeepMine(projectId) {
    await keepMine(context, projectId);
    nudge();
  }

  /** @param {string} projectId */
  async function chooseTakeTheirs(projectId) {
    if (await takeTheirs(context, projectId)) deps.publishLocalChange(projectId);
    nudge();
  }

  // ---- leadership ----------------------------------------------------------------------------

  const resignLeadership = tabs.leadFor(user.id, () => {
    if (stopped) return;
    leading = true;
    startLeading();
  });
  if (!leading) {
    tabs.post({ type: 'status-request', userId: user.id });
    deps.publishStatus({ state: 'syncing', label: 'Syncing', detail: WAITING_FOR_LEADER, userId: user.id, projects: {} }, false);
  }
  // Edits queued before this page loaded (offline, then reloaded) count before the first status.
  unsyncedEdits.refresh();

  return {
    user,
    metadata,
    isLeading: () => leading,
    recordLocalCommit,
    nudge,
    syncSoon,
    keepMine: (projectId) => counted(chooseKeepMine(projectId)),
    takeTheirs: (projectId) => counted(chooseTakeTheirs(projectId)),
    updateStatus: () => status.update(),
    hasUnsyncedEdits: unsyncedEdits.exist,
    statusArrivedFromLeader: () => { unsyncedEdits.refresh(); },
    idle() {
      if (isIdle()) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    stop() {
      stopped = true;
      leading = false;
      resignLeadership();
      scheduler.cancel();
      // Answers still in flight are recorded before the metadata database closes.
      settleIdleWaiters();
    },
  };
}
