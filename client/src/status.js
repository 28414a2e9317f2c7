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
 * @property {Array<{ projectId: string, name?: string, message: string }>} retrying projects backing off alone after a server error
 * @property {string[]} changedOnServer newer on the server, waiting for an editor's typing to be committed
 * @property {string[]} otherAccountIds local projects edited here that belong to another account
 * @property {boolean} busy a push or a merge is running
 * @property {string} [trouble] what stops every project: offline, server busy, storage full, session gone
 * @property {boolean} [signInRequired] the session ended: the editor offers to sign in again
 */

/**
 * @param {StatusInput} input
 * @returns {SyncStatus}
 */
export function summarizeStatus({ userId, queue, errors, retrying, changedOnServer, otherAccountIds, busy, trouble, signInRequired }) {
  /** @type {Record<string, ProjectStatus>} */
  const projects = {};
  for (const projectId of otherAccountIds) projects[projectId] = { state: 'other-account', message: 'Belongs to another account' };
  for (const projectId of changedOnServer) projects[projectId] = { state: 'changed-on-server', message: CHANGED_ON_SERVER };
  for (const entry of queue) projects[entry.projectId] = { state: 'pending' };
  for (const retry of retrying) projects[retry.projectId] = { state: 'retrying', message: retry.message };
  for (const record of errors) {
    projects[record.projectId] = { state: record.kind, message: record.message, ...(record.server ? { server: record.server } : {}) };
  }
  const base = { userId, projects };
  if (trouble) return { ...base, state: 'error', label: 'Sync error', detail: trouble, ...(signInRequired ? { signInRequired } : {}) };
  if (errors.length) return { ...base, state: 'error', label: 'Sync error', detail: describeProjectErrors(errors) };
  if (retrying.length) return { ...base, state: 'error', label: 'Sync error', detail: describeRetrying(retrying) };
  if (queue.length || busy) {
    return { ...base, state: 'syncing', label: 'Syncing', ...(queue.length ? { detail: `${queue.length} pending` } : {}) };
  }
  return { ...base, state: 'synced', label: 'Synced' };
}

const CHANGED_ON_SERVER = 'Changed on another device: when your typing is saved, you choose which copy to keep';

/** @param {StatusInput['retrying']} retrying */
function describeRetrying(retrying) {
  if (retrying.length > 1) return `${retrying.length} projects could not sync; each is retried on its own`;
  const [{ name, message }] = retrying;
  return `“${name || 'Untitled'}” could not sync: ${message}`;
}

/** @param {SyncErrorRecord[]} errors */
function describeProjectErrors(errors) {
  const conflicts = errors.filter((record) => record.kind === 'conflict').length;
  if (conflicts === errors.length) {
    return conflicts === 1 ? 'A project needs you to resolve a conflict' : `${conflicts} projects need you to resolve a conflict`;
  }
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
