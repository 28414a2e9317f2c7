// The leading tab's status: recomputed from IndexedDB whenever something it shows may have changed,
// and published to this tab's listeners and, through the engine, to every other tab.
import { projectsOfOtherAccounts } from './claim.js';
import { describeLocalError, summarizeStatus } from './status.js';

/** @typedef {import('./session-context.js').SessionContext} SessionContext */
/** @typedef {import('./sync-types.js').SyncStatus} SyncStatus */

/**
 * @typedef {object} StatusReporter
 * @property {() => void} update recompute soon; calls made while one runs coalesce into one more
 * @property {() => boolean} isRunning
 */

/**
 * @param {object} options
 * @param {SessionContext} options.context
 * @param {() => boolean} options.canReport this tab leads and the session is not stopped
 * @param {() => boolean} options.isBusy a push or a merge is running
 * @param {() => string | undefined} options.trouble what stops every project right now
 * @param {() => boolean} options.signInRequired
 * @param {() => Promise<void>} options.alongside reads that must be as fresh as the status (the unsynced-edits answer)
 * @param {(status: SyncStatus) => void} options.publish
 * @param {() => void} options.onSettled nothing is being recomputed any more
 * @returns {StatusReporter}
 */
export function createStatusReporter({ context, canReport, isBusy, trouble, signInRequired, alongside, publish, onSettled }) {
  let dirty = false;
  /** @type {Promise<void> | null} */
  let running = null;

  function update() {
    if (!canReport()) return;
    dirty = true;
    running ??= recomputeWhileDirty();
  }

  async function recomputeWhileDirty() {
    while (dirty && !context.isStopped()) {
      dirty = false;
      /** @type {SyncStatus} */
      let status;
      try {
        [status] = await Promise.all([compute(), alongside()]);
      } catch (error) {
        status = { state: 'error', label: 'Sync error', detail: describeLocalError(error), userId: context.user.id, projects: {} };
      }
      // Signed out or closed while reading: this status is no one's any more.
      if (!context.isStopped()) publish(status);
    }
    // Cleared in the same turn as the last check, so an update asked for now starts a new round.
    running = null;
    onSettled();
  }

  /** @returns {Promise<SyncStatus>} */
  async function compute() {
    const { metadata, device, user, inFlight, localStore, projectRetries, heldPulls } = context;
    const [queue, errors, records, retrying] = await Promise.all([
      metadata.queue(), metadata.errors(), device.all(), Promise.all(projectRetries.all().map(async (retry) => ({
        ...retry, name: (await localStore.get(retry.projectId))?.name,
      }))),
    ]);
    return summarizeStatus({
      userId: user.id,
      queue,
      errors,
      retrying,
      changedOnServer: [...heldPulls],
      otherAccountIds: [...projectsOfOtherAccounts(records, user.id)],
      busy: isBusy() || inFlight.size > 0,
      trouble: trouble(),
      signInRequired: signInRequired(),
    });
  }

  return { update, isRunning: () => running !== null };
}
