// Merge on load: the spec's algorithm as a pure function of the server list and local state.
//
// For each project id:
//   - unsynced edits here (queued): keep local, the push that follows lands or reports a conflict;
//   - else the server revision is newer than the last one synced here (or only the server has it):
//     pull the server copy and replace the local one;
//   - else keep local.
// Tombstoned on the server and not edited here: remove locally.
// Projects owned by another account of this browser are never touched.

/** @typedef {import('./sync-types.js').ServerListEntry} ServerListEntry */

/**
 * @typedef {object} MergeInput
 * @property {ServerListEntry[]} serverList every server project of this user, tombstones included
 * @property {Set<string>} localIds projects in the local store
 * @property {Set<string>} otherAccountIds local projects that belong to another account of this browser
 * @property {Set<string>} queuedIds projects with unsynced local edits
 * @property {Map<string, number>} lastSynced revision this device last synced, per project
 */

/**
 * @typedef {object} MergePlan
 * @property {ServerListEntry[]} pull newer on the server and not edited here: replace or add locally
 * @property {ServerListEntry[]} removeLocally tombstoned on the server and not edited here
 * @property {ServerListEntry[]} forget tombstones this device never had or already removed
 */

/**
 * @param {MergeInput} input
 * @returns {MergePlan}
 */
export function planMerge({ serverList, localIds, otherAccountIds, queuedIds, lastSynced }) {
  /** @type {MergePlan} */
  const plan = { pull: [], removeLocally: [], forget: [] };
  for (const server of serverList) {
    if (queuedIds.has(server.id) || otherAccountIds.has(server.id)) continue;
    if (server.deletedAt) {
      if (localIds.has(server.id)) plan.removeLocally.push(server);
      else if (lastSynced.has(server.id)) plan.forget.push(server);
    } else if (server.revision > (lastSynced.get(server.id) ?? 0) || !localIds.has(server.id)) {
      plan.pull.push(server);
    }
  }
  return plan;
}
