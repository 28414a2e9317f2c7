// The locks of many projects at once (a page of the changes feed, a batch of pushes) and which of
// them an editor types on, in as few requests to the browser as the tabs' coordination allows:
// Web Locks asked for one after another cost a round trip each, 100 of them 50-60 ms a page.

/** @typedef {import('./sync-types.js').TabCoordination} TabCoordination */

/**
 * Runs `work` holding the lock of every project.
 * @template T
 * @param {TabCoordination} tabs
 * @param {string[]} projectIds
 * @param {() => Promise<T>} work
 * @returns {Promise<T>}
 */
export function withProjectLocks(tabs, projectIds, work) {
  const ids = [...new Set(projectIds)].sort();
  if (tabs.withProjectLocks) return tabs.withProjectLocks(ids, work);
  return oneAfterAnother((projectId, locked) => tabs.withProjectLock(projectId, locked), ids, work);
}

/**
 * Takes each lock in turn, in the order given (id order, so two holders of many locks never
 * wait on each other), and runs `work` holding all of them.
 * @template T
 * @param {TabCoordination['withProjectLock']} withProjectLock
 * @param {string[]} sortedIds
 * @param {() => Promise<T>} work
 * @returns {Promise<T>}
 */
export function oneAfterAnother(withProjectLock, [first, ...rest], work) {
  if (first === undefined) return work();
  return withProjectLock(first, () => oneAfterAnother(withProjectLock, rest, work));
}

/**
 * @param {TabCoordination} tabs
 * @param {string[]} projectIds
 * @returns {Promise<Set<string>>} those an editor in some tab holds uncommitted typing on
 */
export async function typingAmong(tabs, projectIds) {
  if (tabs.typingAmong) return tabs.typingAmong(projectIds);
  const answers = await Promise.all(projectIds.map((projectId) => tabs.isTyping(projectId)));
  return new Set(projectIds.filter((_id, index) => answers[index]));
}
