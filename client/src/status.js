// The status surface, derived from the queue, the error records and what currently stops syncing.

/** @typedef {import('./sync-types.js').SyncStatus} SyncStatus */
/** @typedef {import('./sync-types.js').ProjectStatus} ProjectStatus */
/** @typedef {import('./sync-types.js').QueueEntry} QueueEntry */
/** @typedef {import('./sync-types.js').SyncErrorRecord} SyncErrorRecord */

/** @type {SyncStatus} */
export const SAVED_LOCALLY = Object.freeze({ state: 'saved-locally', label: 'Saved locally', userId: null, projects: {} });

/**
 * @typedef {object} StatusInput
 * @property {string} userId
 * @property {QueueEntry[]} queue
 * @property {SyncErrorRecord[]} errors
 * @property {string[]} otherAccountIds local projects edited here that belong to another account
 * @property {boolean} busy a push or a merge is running
 * @property {string} [trouble] what stops every project: offline, server busy, storage full, session gone
 */

/**
 * @param {StatusInput} input
 * @returns {SyncStatus}
 */
export function summarizeStatus({ userId, queue, errors, otherAccountIds, busy, trouble }) {
  /** @type {Record<string, ProjectStatus>} */
  const projects = {};
  for (const projectId of otherAccountIds) projects[projectId] = { state: 'other-account', message: 'Belongs to another account' };
  for (const entry of queue) projects[entry.projectId] = { state: 'pending' };
  for (const record of errors) {
    projects[record.projectId] = { state: record.kind, message: record.message, ...(record.server ? { server: record.server } : {}) };
  }
  const base = { userId, projects };
  if (trouble) return { ...base, state: 'error', label: 'Sync error', detail: trouble };
  if (errors.length) return { ...base, state: 'error', label: 'Sync error', detail: describeProjectErrors(errors) };
  if (queue.length || busy) {
    return { ...base, state: 'syncing', label: 'Syncing', ...(queue.length ? { detail: `${queue.length} pending` } : {}) };
  }
  return { ...base, state: 'synced', label: 'Synced' };
}

/** @param {SyncErrorRecord[]} errors */
function describeProjectErrors(errors) {
  const conflicts = errors.filter((record) => record.kind === 'conflict').length;
  if (conflicts === errors.length) return `${conflicts} project(s) need you to resolve a conflict`;
  return errors.find((record) => record.kind === 'error')?.message ?? '';
}

/**
 * @param {unknown} error
 * @returns {boolean}
 */
export function isQuotaError(error) {
  const name = /** @type {{ name?: unknown }} */ (error)?.name;
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED';
}

/**
 * @param {unknown} error
 * @returns {string}
 */
export function describeLocalError(error) {
  if (isQuotaError(error)) return 'Storage is full: free some space in this browser, sync resumes on its own';
  return `Local storage failed (${error instanceof Error ? error.message : String(error)})`;
}
