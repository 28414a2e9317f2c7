// One signed-in user's sync on this device: claim, merge on load, the push queue, conflicts and
// the status they add up to. Every tab of the user has a session; only the tab holding the user's
// leader lock talks to the server, the others write to the shared IndexedDB and nudge it.
import { retryDelayMs } from './backoff.js';
import { decideDeleteConflict, decidePushConflict } from './conflict-policy.js';
import { planMerge } from './merge.js';
import { forEachConcurrently } from './pool.js';
import { describeLocalError, summarizeStatus } from './status.js';

/** @typedef {import('./sync-types.js').SignedInUser} SignedInUser */
/** @typedef {import('./sync-types.js').SyncMetadata} SyncMetadata */
/** @typedef {import('./sync-types.js').DeviceProjects} DeviceProjects */
/** @typedef {import('./sync-types.js').LocalProjectStore} LocalProjectStore */
/** @typedef {import('./sync-types.js').SyncTransport} SyncTransport */
/** @typedef {import('./sync-types.js').TabCoordination} TabCoordination */
/** @typedef {import('./sync-types.js').Timers} Timers */
/** @typedef {import('./sync-types.js').SyncStatus} SyncStatus */
/** @typedef {import('./sync-types.js').PendingWrite} PendingWrite */
/** @typedef {import('./sync-types.js').ServerProject} ServerProject */
/** @typedef {import('./sync-types.js').ServerListEntry} ServerListEntry */
/** @typedef {import('./sync-types.js').BackoffSettings} BackoffSettings */
/** @template T @typedef {import('./sync-types.js').TransportOutcome<T>} TransportOutcome */

/**
 * Why a pass stopped early. `retry` waits for the backoff; `unauthorized` waits for a new sign-in.
 * @typedef {{ kind: 'retry', message: string, retryAfterSeconds?: number } | { kind: 'unauthorized', message: string }} Stop
 */

/** What one project's push came to: settled (synced or parked for the user) or queued again. */
/** @typedef {{ kind: 'settled' } | { kind: 'again' } | Stop} PushResult */

/**
 * @typedef {object} SessionSettings
 * @property {number} debounceMs
 * @property {number} pollMs
 * @property {number} concurrency
 * @property {BackoffSettings} backoff
 */

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
 * @property {() => boolean} isLeading
 * @property {(projectId: string) => Promise<void>} recordLocalCommit must run under the project's lock
 * @property {() => void} nudge re-read the queue (another tab or a conflict choice changed it)
 * @property {(options?: { overrideBackoff?: boolean }) => void} syncSoon merge with the server list, then push
 * @property {(projectId: string) => Promise<void>} keepMine
 * @property {(projectId: string) => Promise<void>} takeTheirs
 * @property {() => void} updateStatus
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
  const { user, metadata, device, localStore, transport, tabs, timers, settings } = deps;

  let stopped = false;
  let leading = false;
  /** Claim runs at the start of leadership; it stays pending until it succeeds. */
  let needsClaim = false;
  let needsMerge = false;
  let merging = false;
  /** @type {string | undefined} what stops every project right now, for the status */
  let trouble;
  let failedAttempts = 0;
  let pausedUntil = 0;
  /** A Retry-After from the server is honoured even when the browser says it is back online. */
  let pausedByServer = false;
  /** @type {unknown} */
  let passTimer = null;
  let passDueAt = Infinity;
  /** @type {unknown} */
  let pollTimer = null;
  let activeWork = 0;
  /** Projects with a request in flight: at most one per project. */
  const inFlight = new Set();
  /** @type {Array<() => void>} */
  let idleWaiters = [];

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
      updateStatus();
      settleIdleWaiters();
    }
  }

  /**
   * Background work: only local storage can throw here (the transport turns network failures into
   * outcomes), and a full disk is retried with backoff and shown, never swallowed.
   * @param {Promise<void>} work
   */
  function inBackground(work) {
    counted(work).catch((error) => backOff({ kind: 'retry', message: describeLocalError(error) }));
  }

  function isIdle() {
    return activeWork === 0 && inFlight.size === 0 && passTimer === null && !statusRunning;
  }

  function settleIdleWaiters() {
    if (!isIdle()) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const wake of waiters) wake();
    if (stopped) metadata.close();
  }

  // ---- leadership and scheduling -------------------------------------------------------------

  function startLeading() {
    needsClaim = true;
    needsMerge = true;
    schedulePoll();
    schedulePass(0);
  }

  /** @param {number} delayMs */
  function schedulePass(delayMs) {
    if (stopped || !leading) return;
    const dueAt = Math.max(timers.now() + delayMs, pausedUntil);
    // Keep an earlier pass unless it would come before the end of a backoff (Retry-After).
    if (passTimer !== null && passDueAt <= dueAt && passDueAt >= pausedUntil) return;
    if (passTimer !== null) timers.clearTimeout(passTimer);
    passDueAt = dueAt;
    passTimer = timers.setTimeout(() => {
      passTimer = null;
      passDueAt = Infinity;
      inBackground(runPass());
    }, Math.max(0, dueAt - timers.now()));
  }

  function schedulePoll() {
    if (!settings.pollMs || stopped) return;
    pollTimer = timers.setTimeout(() => {
      needsMerge = true;
      schedulePass(0);
      schedulePoll();
    }, settings.pollMs);
  }

  /** Claim and merge first when due, then push every queued project that is not parked. */
  async function runPass() {
    if (stopped || !leading) return;
    updateStatus();
    if (needsClaim) {
      await claimLocalProjects();
      needsClaim = false;
    }
    /** @type {Stop | undefined} */
    let stop;
    // One merge at a time; a merge asked for meanwhile runs in the next pass.
    if (needsMerge && !merging) {
      needsMerge = false;
      merging = true;
      try {
        stop = await mergeWithServer();
      } catch (error) {
        needsMerge = true;
        throw error;
      } finally {
        merging = false;
      }
      if (stop) needsMerge = true;
      else if (needsMerge) schedulePass(0);
    }
    if (!stop) stop = await pushQueue();
    if (stop) backOff(stop);
    else recovered();
    updateStatus();
  }

  /** @param {Stop} stop */
  function backOff(stop) {
    if (stop.kind === 'unauthorized') {
      trouble = 'Your session has ended: sign in again to sync';
      updateStatus();
      return;
    }
    failedAttempts += 1;
    const delay = retryDelayMs(failedAttempts, settings.backoff, deps.random, stop.retryAfterSeconds);
    pausedUntil = timers.now() + delay;
    pausedByServer = stop.retryAfterSeconds !== undefined;
    trouble = `${stop.message}, retrying in ${Math.max(1, Math.round(delay / 1000))}s`;
    schedulePass(0);
    updateStatus();
  }

  function recovered() {
    failedAttempts = 0;
    pausedUntil = 0;
    pausedByServer = false;
    trouble = undefined;
  }

  // ---- claim ---------------------------------------------------------------------------------

  /**
   * Auto-claim (the spec's recommended v1 behaviour): every local project no account owns yet,
   * and every project of this user edited while signed out, is queued for a background push.
   * Another account's projects on this browser are never claimed.
   */
  async function claimLocalProjects() {
    const [localProjects, records] = await Promise.all([localStore.list(), device.all()]);
    const claimed = new Set();
    for (const project of localProjects) {
      if (!records.get(project.id)?.ownerId) claimed.add(project.id);
    }
    for (const record of records.values()) {
      const ownedHere = record.ownerId === null || record.ownerId === user.id;
      if (record.editedWithoutSession && ownedHere) claimed.add(record.projectId);
    }
    if (!claimed.size) return;
    // Queue before recording ownership: a crash in between only means claiming again next time.
    await metadata.enqueue([...claimed], timers.now());
    await device.claim([...claimed], user.id);
  }

  /** @param {string} projectId */
  async function recordLocalCommit(projectId) {
    const record = await device.get(projectId);
    if (record?.ownerId && record.ownerId !== user.id) {
      await device.markEditedWithoutSession(projectId);
    } else {
      await metadata.enqueue([projectId], timers.now());
      if (!record?.ownerId || record.editedWithoutSession) await device.claim([projectId], user.id);
    }
    nudge();
  }

  function nudge() {
    if (leading) schedulePass(settings.debounceMs);
    else tabs.post({ type: 'queued', userId: user.id });
    updateStatus();
  }

  // ---- merge on load -------------------------------------------------------------------------

  /** @returns {Promise<Stop | undefined>} */
  async function mergeWithServer() {
    const listed = await transport.listProjects();
    if (listed.kind !== 'ok') return stopFor(listed);
    // Read local state after the list arrived, so a push that finished meanwhile is accounted for.
    const [localProjects, queue, lastSynced, records] = await Promise.all([
      localStore.list(), metadata.queue(), metadata.lastSyncedRevisions(), device.all(),
    ]);
    const otherAccountIds = new Set([...records.values()]
      .filter((record) => record.ownerId && record.ownerId !== user.id)
      .map((record) => record.projectId));
    const plan = planMerge({
      serverList: listed.body,
      localIds: new Set(localProjects.map((project) => project.id)),
      otherAccountIds,
      queuedIds: new Set(queue.map((entry) => entry.projectId)),
      lastSynced,
    });
    for (const tombstone of plan.forget) await metadata.forget(tombstone.id);
    for (const tombstone of plan.removeLocally) await removeTombstonedLocally(tombstone);
    /** @type {Stop | undefined} */
    let stop;
    await forEachConcurrently(plan.pull, settings.concurrency, async (entry) => {
      if (!stop && !stopped) stop = await pullProject(entry);
    });
    return stop;
  }

  /**
   * @param {ServerListEntry} entry
   * @returns {Promise<Stop | undefined>}
   */
  async function pullProject(entry) {
    const fetched = await transport.getProject(entry.id);
    if (fetched.kind === 'not-found') return undefined;
    if (fetched.kind !== 'ok') return stopFor(fetched);
    const server = fetched.body;
    if (server.deletedAt) return removeTombstonedLocally(server);
    await tabs.withProjectLock(server.id, async () => {
      // An edit may have been saved since the plan was made: then the push decides, not the pull.
      if (await metadata.queueEntry(server.id)) return;
      if ((await metadata.lastSyncedRevision(server.id)) >= server.revision && (await localStore.get(server.id))) return;
      await localStore.put({ id: server.id, name: server.name, data: server.data });
      await metadata.setLastSyncedRevision(server.id, server.revision);
      await device.claim([server.id], user.id);
    });
    deps.publishLocalChange(server.id);
    return undefined;
  }

  /** @param {{ id: string }} tombstone */
  async function removeTombstonedLocally(tombstone) {
    const removed = await tabs.withProjectLock(tombstone.id, async () => {
      if (await metadata.queueEntry(tombstone.id)) return false;
      await localStore.remove(tombstone.id);
      await metadata.forget(tombstone.id);
      await device.forget(tombstone.id);
      return true;
    });
    if (removed) deps.publishLocalChange(tombstone.id);
    return undefined;
  }

  // ---- the push queue ------------------------------------------------------------------------

  /** @returns {Promise<Stop | undefined>} */
  async function pushQueue() {
    const [queue, errors] = await Promise.all([metadata.queue(), metadata.errors()]);
    const parked = new Set(errors.map((record) => record.projectId));
    const ready = queue
      .filter((entry) => !parked.has(entry.projectId) && !inFlight.has(entry.projectId))
      .sort((a, b) => a.enqueuedAt - b.enqueuedAt);
    /** @type {Stop | undefined} */
    let stop;
    let queuedAgain = false;
    await forEachConcurrently(ready, settings.concurrency, async (entry) => {
      if (stop || stopped) return;
      const result = await pushProject(entry.projectId);
      if (result.kind === 'again') queuedAgain = true;
      else if (result.kind !== 'settled') stop ??= result;
    });
    // Edits made while their project's request was in flight go out in the next push.
    if (queuedAgain && !stop) schedulePass(settings.debounceMs);
    return stop;
  }

  /**
   * @param {string} projectId
   * @returns {Promise<PushResult>}
   */
  async function pushProject(projectId) {
    if (inFlight.has(projectId)) return { kind: 'again' };
    inFlight.add(projectId);
    try {
      const write = await tabs.withProjectLock(projectId, () => prepareWrite(projectId));
      if (!write) return { kind: 'settled' };
      updateStatus();
      const outcome = write.kind === 'put'
        ? await transport.putProject(projectId, {
          name: write.name, data: write.data, baseRevision: write.baseRevision,
          writeId: write.writeId, clientUpdatedAt: write.clientUpdatedAt,
        })
        : await transport.deleteProject(projectId, write.baseRevision);
      return await tabs.withProjectLock(projectId, () => recordOutcome(projectId, write, outcome));
    } finally {
      inFlight.delete(projectId);
    }
  }

  /**
   * The write to send for a queued project. A write whose answer never came is sent again exactly
   * as it was, with its writeId, before anything newer, so the server can recognise it.
   * @param {string} projectId
   * @returns {Promise<PendingWrite | undefined>}
   */
  async function prepareWrite(projectId) {
    const entry = await metadata.queueEntry(projectId);
    if (!entry) return undefined;
    if (entry.write) return entry.write;
    // Read after `entry.change`: an edit landing in between bumps `change`, so it is pushed again.
    const project = await localStore.get(projectId);
    const baseRevision = await metadata.lastSyncedRevision(projectId);
    /** @type {PendingWrite} */
    let write;
    if (project) {
      write = {
        kind: 'put', writeId: deps.newWriteId(), change: entry.change, baseRevision,
        name: project.name, data: project.data, clientUpdatedAt: new Date(timers.now()).toISOString(),
      };
    } else if (baseRevision > 0) {
      write = { kind: 'delete', writeId: deps.newWriteId(), change: entry.change, baseRevision };
    } else {
      // Made and deleted here before it ever reached the server: there is nothing to tell it.
      await metadata.forget(projectId);
      return undefined;
    }
    await metadata.beginWrite(projectId, write);
    return write;
  }

  /**
   * @param {string} projectId
   * @param {PendingWrite} write
   * @param {TransportOutcome<{ revision: number }>} outcome
   * @returns {Promise<PushResult>}
   */
  async function recordOutcome(projectId, write, outcome) {
    switch (outcome.kind) {
      case 'ok':
        return recordAccepted(projectId, write, outcome.body.revision);
      case 'conflict':
        return write.kind === 'put'
          ? recordPutConflict(projectId, write, outcome.server)
          : recordDeleteConflict(projectId, write, outcome.server);
      case 'not-found':
        if (write.kind === 'delete') return recordAccepted(projectId, write, 0);
        return recordRejected(projectId, 'The server did not find this project');
      case 'rejected':
        return recordRejected(projectId, outcome.message);
      default:
        // Retryable or signed out: the pending write stays, and goes again with the same writeId.
        return stopFor(outcome);
    }
  }

  /**
   * @param {string} projectId
   * @param {PendingWrite} write
   * @param {number} revision
   * @returns {Promise<PushResult>}
   */
  async function recordAccepted(projectId, write, revision) {
    const dequeued = await metadata.finishWrite(projectId, write.change, revision);
    if (!dequeued) return { kind: 'again' };
    // A synced deletion leaves nothing to remember: the server keeps the tombstone.
    if (write.kind === 'delete') {
      await metadata.forget(projectId);
      await device.forget(projectId);
    }
    return { kind: 'settled' };
  }

  /**
   * @param {string} projectId
   * @param {PendingWrite & { kind: 'put' }} write
   * @param {ServerProject} server
   * @returns {Promise<PushResult>}
   */
  async function recordPutConflict(projectId, write, server) {
    if (decidePushConflict(write, server) === 'adopt-server-revision') {
      return recordAccepted(projectId, write, server.revision);
    }
    return parkConflict(projectId, server);
  }

  /**
   * @param {string} projectId
   * @param {PendingWrite & { kind: 'delete' }} write
   * @param {ServerProject} server
   * @returns {Promise<PushResult>}
   */
  async function recordDeleteConflict(projectId, write, server) {
    const recreatedLocally = Boolean(await localStore.get(projectId));
    switch (decideDeleteConflict(server, recreatedLocally)) {
      case 'already-deleted':
        return recordAccepted(projectId, write, server.revision);
      case 'restore-server-copy':
        await localStore.put({ id: server.id, name: server.name, data: server.data });
        await metadata.acceptServer(projectId, server.revision);
        deps.publishLocalChange(projectId);
        return { kind: 'settled' };
      default:
        return parkConflict(projectId, server);
    }
  }

  /**
   * @param {string} projectId
   * @param {ServerProject} server
   * @returns {Promise<PushResult>}
   */
  async function parkConflict(projectId, server) {
    await metadata.abandonWrite(projectId);
    const message = server.deletedAt
      ? 'Deleted on another device while edited here'
      : 'Changed on another device while edited here';
    await metadata.setError({ projectId, kind: 'conflict', message, at: timers.now(), server });
    return { kind: 'settled' };
  }

  /**
   * A write the server will never accept as it is (too large, invalid): parked until the next edit.
   * @param {string} projectId
   * @param {string} message
   * @returns {Promise<PushResult>}
   */
  async function recordRejected(projectId, message) {
    await metadata.abandonWrite(projectId);
    await metadata.setError({ projectId, kind: 'error', message, at: timers.now() });
    return { kind: 'settled' };
  }

  /**
   * @param {Exclude<TransportOutcome<unknown>, { kind: 'ok' }>} outcome
   * @returns {Stop}
   */
  function stopFor(outcome) {
    if (outcome.kind === 'unauthorized') return { kind: 'unauthorized', message: outcome.message };
    if (outcome.kind === 'retry') {
      return { kind: 'retry', message: describeRetry(outcome.message), retryAfterSeconds: outcome.retryAfterSeconds };
    }
    const message = outcome.kind === 'rejected' ? outcome.message : 'Unexpected answer from the server';
    return { kind: 'retry', message };
  }

  // ---- conflict choices (any tab) --------------------------------------------------------------

  /** @param {string} projectId */
  async function keepMine(projectId) {
    await tabs.withProjectLock(projectId, async () => {
      const record = await metadata.error(projectId);
      if (record?.kind !== 'conflict' || !record.server) return;
      // Push this device's copy on top of the revision the user saw; if the server moved again
      // meanwhile, that is a new conflict for the user, never a silent overwrite.
      await metadata.setLastSyncedRevision(projectId, record.server.revision);
      await metadata.clearError(projectId);
      await metadata.enqueue([projectId], timers.now());
    });
    nudge();
  }

  /** @param {string} projectId */
  async function takeTheirs(projectId) {
    const taken = await tabs.withProjectLock(projectId, async () => {
      const record = await metadata.error(projectId);
      if (record?.kind !== 'conflict' || !record.server) return false;
      const server = record.server;
      if (server.deletedAt) {
        await localStore.remove(projectId);
        await metadata.forget(projectId);
        await device.forget(projectId);
      } else {
        await localStore.put({ id: server.id, name: server.name, data: server.data });
        await metadata.acceptServer(projectId, server.revision);
      }
      return true;
    });
    if (taken) deps.publishLocalChange(projectId);
    nudge();
  }

  // ---- status --------------------------------------------------------------------------------

  let statusDirty = false;
  /** @type {Promise<void> | null} */
  let statusRunning = null;

  /** Recomputes the status from IndexedDB; calls made while one runs coalesce into one more. */
  function updateStatus() {
    if (stopped || !leading) return;
    statusDirty = true;
    statusRunning ??= (async () => {
      while (statusDirty && !stopped) {
        statusDirty = false;
        try {
          deps.publishStatus(await computeStatus(), true);
        } catch (error) {
          deps.publishStatus({ state: 'error', label: 'Sync error', detail: describeLocalError(error), userId: user.id, projects: {} }, true);
        }
      }
      statusRunning = null;
      settleIdleWaiters();
    })();
  }

  /** @returns {Promise<SyncStatus>} */
  async function computeStatus() {
    const [queue, errors, records] = await Promise.all([metadata.queue(), metadata.errors(), device.all()]);
    const otherAccountIds = [...records.values()]
      .filter((record) => record.ownerId && record.ownerId !== user.id)
      .map((record) => record.projectId);
    const busy = activeWork > 0 || inFlight.size > 0;
    return summarizeStatus({ userId: user.id, queue, errors, otherAccountIds, busy, trouble });
  }

  const resignLeadership = tabs.leadFor(user.id, () => {
    if (stopped) return;
    leading = true;
    startLeading();
  });
  if (!leading) {
    tabs.post({ type: 'status-request', userId: user.id });
    deps.publishStatus({ state: 'syncing', label: 'Syncing', detail: WAITING_FOR_LEADER, userId: user.id, projects: {} }, false);
  }

  return {
    user,
    isLeading: () => leading,
    recordLocalCommit,
    nudge,
    syncSoon({ overrideBackoff = false } = {}) {
      if (overrideBackoff && !pausedByServer) pausedUntil = 0;
      needsMerge = true;
      if (passTimer !== null && passDueAt > Math.max(timers.now(), pausedUntil)) {
        timers.clearTimeout(passTimer);
        passTimer = null;
        passDueAt = Infinity;
      }
      schedulePass(0);
    },
    keepMine: (projectId) => counted(keepMine(projectId)),
    takeTheirs: (projectId) => counted(takeTheirs(projectId)),
    updateStatus,
    idle() {
      if (isIdle()) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    stop() {
      stopped = true;
      leading = false;
      resignLeadership();
      for (const timer of [passTimer, pollTimer]) if (timer !== null) timers.clearTimeout(timer);
      passTimer = null;
      pollTimer = null;
      // Answers still in flight are recorded before the metadata database closes.
      settleIdleWaiters();
    },
  };
}

/** @param {string} message */
function describeRetry(message) {
  if (/^HTTP 429/.test(message)) return `Server busy (${message})`;
  if (/^HTTP 5\d\d/.test(message)) return `Server unavailable (${message})`;
  return message;
}
