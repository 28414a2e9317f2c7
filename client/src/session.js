// One signed-in user's sync on this device. Every tab of the user has a session; only the tab
// holding the user's leader lock talks to the server, the others write to the shared IndexedDB
// and nudge it. This file wires the parts together and answers for the session: the loop that
// runs passes and knows when nothing runs (sync-loop.js), the steps of a pass (claim.js,
// merge-on-load.js, push-queue.js), the user's conflict choices (conflict-choices.js) and the
// status, which follows the loop (status.js).
import { claimLocalProjects, queueLocalCommit } from './claim.js';
import { keepBoth, keepMine, takeTheirs } from './conflict-choices.js';
import { heldPullsReleased, mergeWithServer } from './merge-on-load.js';
import { createProjectRetries } from './project-retries.js';
import { pushQueue } from './push-queue.js';
import { createStatusReporter, waitingForLeader } from './status.js';
import { createSyncLoop } from './sync-loop.js';
import { trackUnsyncedEdits } from './unsynced-edits.js';

/** @typedef {import('./sync-types.js').SignedInUser} SignedInUser */
/** @typedef {import('./sync-types.js').SyncMetadata} SyncMetadata */
/** @typedef {import('./sync-types.js').DeviceProjects} DeviceProjects */
/** @typedef {import('./sync-types.js').LocalProjectStore} LocalProjectStore */
/** @typedef {import('./sync-types.js').SyncTransport} SyncTransport */
/** @typedef {import('./sync-types.js').TabCoordination} TabCoordination */
/** @typedef {import('./sync-types.js').Timers} Timers */
/** @typedef {import('./sync-types.js').SyncStatus} SyncStatus */
/** @typedef {import('./sync-types.js').SessionContext} SessionContext */
/** @typedef {import('./sync-types.js').SessionSettings} SessionSettings */

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
 * @property {(project: import('./sync-types.js').LocalProject) => Promise<string>} keepConflictedCopy
 * @property {SessionSettings} settings
 * @property {(status: SyncStatus, fromLeader: boolean) => void} publishStatus
 * @property {(projectIds: string[]) => void} publishLocalChange
 */

/**
 * @typedef {object} SyncSession
 * @property {SignedInUser} user
 * @property {SyncMetadata} metadata
 * @property {() => boolean} isLeading
 * @property {(projectId: string) => Promise<void>} recordLocalCommit must run under the project's lock
 * @property {() => void} nudge re-read the queue (another tab or a conflict choice changed it)
 * @property {(options?: { overrideBackoff?: boolean }) => void} syncSoon read the changes feed, then push (in the tab that syncs)
 * @property {(projectId: string) => void} typingEnded an editor's typing on the project ended
 * @property {(projectId: string) => Promise<void>} keepMine
 * @property {(projectId: string) => Promise<void>} takeTheirs
 * @property {(projectId: string, keepCopy: (mine: import('./sync-types.js').LocalProject) => Promise<string>) => Promise<string | undefined>} keepBoth
 * @property {() => void} updateStatus
 * @property {() => boolean} hasUnsyncedEdits answered at once, for `beforeunload`
 * @property {() => void} statusArrivedFromLeader the queue may have changed in the syncing tab
 * @property {() => Promise<void>} idle
 * @property {() => void} stop
 */

/**
 * @param {SessionDependencies} deps
 * @returns {SyncSession}
 */
export function startSyncSession(deps) {
  const { user, metadata, tabs, timers, settings } = deps;
  let stopped = false;

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
    keepConflictedCopy: deps.keepConflictedCopy,
    publishLocalChange: deps.publishLocalChange,
    statusChanged: () => loop.changed(),
    isStopped: () => stopped,
    inFlight: new Set(),
    projectRetries: createProjectRetries({ timers, backoff: settings.backoff, random: deps.random }),
    heldPulls: new Set(),
  };
  const loop = createSyncLoop({
    timers,
    settings,
    random: deps.random,
    steps: {
      claim: () => claimLocalProjects(context),
      merge: () => mergeWithServer(context),
      push: () => pushQueue(context),
      nextProjectRetryAt: () => context.projectRetries.nextDueAt(context.inFlight),
      pullsHeld: () => context.heldPulls.size > 0,
      heldPullsReleased: () => heldPullsReleased(context),
    },
  });
  const unsyncedEdits = trackUnsyncedEdits(metadata);
  const status = createStatusReporter({
    context,
    loop,
    alongside: unsyncedEdits.refresh,
    publish: (computed) => deps.publishStatus(computed, true),
  });

  /** @param {string} projectId */
  async function recordLocalCommit(projectId) {
    if (await queueLocalCommit(context, projectId)) unsyncedEdits.commitRecorded();
    nudge();
  }

  function nudge() {
    if (loop.isLeading()) loop.nudge();
    else tabs.post({ type: 'queued', userId: user.id });
  }

  /** @param {{ overrideBackoff?: boolean }} [options] */
  function syncSoon(options) {
    if (loop.isLeading()) loop.syncSoon(options);
    else tabs.post({ type: 'sync-now', userId: user.id, overrideBackoff: options?.overrideBackoff ?? false });
  }

  /**
   * An editor's typing on the project ended (committed, or the editor closed): a pull held back
   * for it may go now.
   * @param {string} projectId
   */
  function typingEnded(projectId) {
    if (!loop.isLeading()) tabs.post({ type: 'typing-ended', userId: user.id, projectId });
    else if (context.heldPulls.has(projectId)) loop.syncSoon();
  }

  /** @param {string} projectId */
  async function chooseKeepMine(projectId) {
    await keepMine(context, projectId);
    nudge();
  }

  /** @param {string} projectId */
  async function chooseTakeTheirs(projectId) {
    if (await takeTheirs(context, projectId)) deps.publishLocalChange([projectId]);
    nudge();
  }

  /**
   * @param {string} projectId
   * @param {(mine: import('./sync-types.js').LocalProject) => Promise<string>} keepCopy
   */
  async function chooseKeepBoth(projectId, keepCopy) {
    const copyId = await keepBoth(context, projectId, keepCopy);
    // The copy announced itself; the project may have taken the server copy (re-reading it is harmless).
    deps.publishLocalChange([projectId]);
    nudge();
    return copyId;
  }

  const resignLeadership = tabs.leadFor(user.id, () => {
    if (!stopped) loop.startLeading();
  });
  if (!loop.isLeading()) {
    tabs.post({ type: 'status-request', userId: user.id });
    deps.publishStatus(waitingForLeader(user.id), false);
  }
  // Edits queued before this page loaded (offline, then reloaded) count before the first status.
  unsyncedEdits.refresh();

  return {
    user,
    metadata,
    isLeading: loop.isLeading,
    recordLocalCommit,
    nudge,
    syncSoon,
    typingEnded,
    keepMine: (projectId) => loop.track(chooseKeepMine(projectId)),
    takeTheirs: (projectId) => loop.track(chooseTakeTheirs(projectId)),
    keepBoth: (projectId, keepCopy) => loop.track(chooseKeepBoth(projectId, keepCopy)),
    updateStatus: status.update,
    hasUnsyncedEdits: unsyncedEdits.exist,
    statusArrivedFromLeader: () => { unsyncedEdits.refresh(); },
    idle: loop.idle,
    stop() {
      stopped = true;
      resignLeadership();
      // Answers still in flight are recorded before the metadata database closes.
      loop.stop().then(() => metadata.close());
    },
  };
}
