// Merge on load, one page of the changes feed at a time: the spec's algorithm as a pure function
// of the page and local state.
//
// For each project of the page (its latest change in the page):
//   - owned by another account of this browser: never touched;
//   - unsynced edits here (queued): keep local, the push that follows lands or reports a conflict;
//   - tombstoned on the server: remove here (only forget it, when it is not stored here);
//   - else newer on the server than the revision last synced here, or not stored here: take the
//     server copy;
//   - else keep local.
// At the end of a listing from scratch, a project synced here before it began (and not pushed
// since) that no page listed was deleted on the server meanwhile: it goes as for a tombstone.
// Removing or replacing a project an editor holds uncommitted typing on waits: it is owed a pull.

/** @typedef {import('./sync-types.js').ServerProject} ServerProject */
/** @typedef {import('./local-commits.js').ServerChanges} ServerChanges */

/**
 * @typedef {object} PageInput
 * @property {ServerProject[]} changes the page, in change order
 * @property {Record<string, number>} deletedMeanwhile still unlisted at the end of a listing from scratch, with the revision synced here when it began
 * @property {Set<string>} otherAccountIds local projects that belong to another account of this browser
 * @property {Set<string>} queuedIds projects with unsynced local edits
 * @property {Set<string>} typingIds projects an editor holds uncommitted typing on
 * @property {Set<string>} localIds stored here, among `whoseStorageDecides`
 * @property {Map<string, number>} lastSynced revision this device last synced, per project
 */

/**
 * @param {PageInput} input
 * @returns {ServerChanges}
 */
export function planPage(input) {
  const { otherAccountIds, queuedIds, typingIds, localIds, lastSynced } = input;
  /** @type {ServerChanges} */
  const plan = { adopt: [], remove: [], forget: [], owe: [] };
  /** @param {string} id */
  const untouchable = (id) => queuedIds.has(id) || otherAccountIds.has(id);
  /** @param {string} id @param {() => void} apply */
  const unlessTyping = (id, apply) => (typingIds.has(id) ? plan.owe.push(id) : apply());
  /** @param {string} id */
  const goneOnServer = (id) => {
    if (localIds.has(id)) unlessTyping(id, () => plan.remove.push(id));
    else if (lastSynced.has(id)) plan.forget.push(id);
  };

  for (const server of latestPerProject(input.changes)) {
    if (untouchable(server.id)) continue;
    if (server.deletedAt) goneOnServer(server.id);
    else if (server.revision > (lastSynced.get(server.id) ?? 0) || !localIds.has(server.id)) {
      unlessTyping(server.id, () => plan.adopt.push(server));
    }
  }
  for (const [id, revisionWhenListingBegan] of Object.entries(input.deletedMeanwhile)) {
    // A push accepted since the listing began moved the revision: the project is alive.
    if (!untouchable(id) && lastSynced.get(id) === revisionWhenListingBegan) goneOnServer(id);
  }
  return plan;
}

/**
 * The projects whose plan depends on whether they are stored here: only those are read.
 * @param {Pick<PageInput, 'changes' | 'deletedMeanwhile' | 'lastSynced'>} input
 * @returns {string[]}
 */
export function whoseStorageDecides({ changes, deletedMeanwhile, lastSynced }) {
  const deciding = latestPerProject(changes)
    .filter((server) => server.deletedAt || server.revision <= (lastSynced.get(server.id) ?? 0))
    .map((server) => server.id);
  return [...deciding, ...Object.keys(deletedMeanwhile)];
}

/**
 * A page may carry a project twice; its latest change is the one that counts.
 * @param {ServerProject[]} changes
 * @returns {ServerProject[]}
 */
function latestPerProject(changes) {
  /** @type {Map<string, ServerProject>} */
  const latest = new Map();
  for (const server of changes) {
    if (server.revision >= (latest.get(server.id)?.revision ?? 0)) latest.set(server.id, server);
  }
  return [...latest.values()];
}
