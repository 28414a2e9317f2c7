// The answer `beforeunload` needs, synchronously, in every tab: does this user's queue hold edits
// the server has not accepted? The status cannot answer it: it is recomputed after a save resolves,
// and in a tab that does not sync it comes from another tab. So each tab reads the shared queue
// itself, and counts a commit it made as unsynced until a read that started after it has finished.

/** @typedef {import('./sync-types.js').SyncMetadata} SyncMetadata */

/**
 * @typedef {object} UnsyncedEdits
 * @property {() => void} commitRecorded this tab just queued a local commit
 * @property {() => Promise<void>} refresh re-read the queue; resolves once a read started now has finished
 * @property {() => boolean} exist
 */

/**
 * @param {SyncMetadata} metadata
 * @returns {UnsyncedEdits}
 */
export function trackUnsyncedEdits(metadata) {
  let commitsNotYetRead = 0;
  let queueHoldsEdits = false;
  let readAgain = false;
  /** @type {Promise<void> | null} */
  let reading = null;

  async function readWhileAsked() {
    while (readAgain) {
      readAgain = false;
      const covered = commitsNotYetRead;
      try {
        // Conflicts and rejected writes keep their queue entry, so the queue alone answers.
        queueHoldsEdits = (await metadata.queuedIds()).length > 0;
        commitsNotYetRead -= covered;
      } catch {
        // The metadata closed (sign-out) or failed: keep the cautious answer.
      }
    }
    // Cleared in the same turn as the last check, so a refresh asked for now starts a new read.
    reading = null;
  }

  function refresh() {
    readAgain = true;
    reading ??= readWhileAsked();
    return reading;
  }

  return {
    commitRecorded() {
      commitsNotYetRead += 1;
      refresh();
    },
    refresh,
    exist: () => commitsNotYetRead > 0 || queueHoldsEdits,
  };
}
