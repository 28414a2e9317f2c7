// The status surface: what the editor shows, derived from the queue, the error records and what
// currently holds sync back. Statuses are built only by the constructors and `summarizeStatus`
// here. The leading tab's reporter (at the end) recomputes it whenever the sync loop says
// something it shows may have changed, and publishes it to this tab and, through the engine, to
// every other tab; each recompute counts as the loop's work, so `idle()` waits for the status too.

/** @typedef {import('./sync-types.js').SyncStatus} SyncStatus */
/** @typedef {import('./sync-types.js').ProjectStatus} ProjectStatus */
/** @typedef {import('./sync-types.js').SyncErrorRecord} SyncErrorRecord */
/** @typedef {import('./sync-types.js').SessionContext} SessionContext */

/** @type {SyncStatus} */
export const SAVED_LOCALLY = Object.freeze({ state: 'saved-locally', label: 'Saved locally', userId: null, projects: {} });

/** @param {string} userId @returns {SyncStatus} shown by a tab that does not sync until the syncing one answers */
export const waitingForLeader = (userId) => ({ state: 'syncing', label: 'Syncing', detail: 'Another tab of this browser is syncing', userId, projects: {} });

/**
 * Signed in, but local storage failed: nothing can sync until it works again.
 * @param {string} userId
 * @param {unknown} error
 * @returns {SyncStatus}
 */
export const localFailure = (userId, error) => ({ state: 'error', label: 'Sync error', detail: describeLocalError(error), userId, projects: {} });

/**
 * A local save failed (a full disk): shown on top of whatever sync says, until a save succeeds.
 * @param {SyncStatus} status
 * @param {string} trouble
 * @param {boolean} signedIn
 * @returns {SyncStatus}
 */
export const withSaveFailure = (status, trouble, signedIn) => ({ ...status, state: 'error', label: signedIn ? 'Sync error' : 'Not saved', detail: trouble });

/**
 * @typedef {object} StatusInput
 * @property {string} userId
 * @property {string[]} queuedIds projects with edits the server has not accepted yet
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
export function summarizeStatus({ userId, queuedIds, errors, retrying, changedOnServer, otherAccountIds, busy, trouble, signInRequired }) {
  /** @type {Record<string, ProjectStatus>} */
  const projects = {};
  for (const projectId of otherAccountIds) projects[projectId] = { state: 'other-account', message: 'Belongs to another account' };
  for (const projectId of changedOnServer) projects[projectId] = { state: 'changed-on-server', message: CHANGED_ON_SERVER };
  for (const projectId of queuedIds) projects[projectId] = { state: 'pending' };
  for (const retry of retrying) projects[retry.projectId] = { state: 'retrying', message: retry.message };
  for (const record of errors) {
    projects[record.projectId] = { state: record.kind, message: record.message, ...(record.server ? { server: record.server } : {}) };
  }
  const base = { userId, projects };
  if (trouble) return { ...base, state: 'error', label: 'Sync error', detail: trouble, ...(signInRequired ? { signInRequired } : {}) };
  if (errors.length) return { ...base, state: 'error', label: 'Sync error', detail: describeProjectErrors(errors) };
  if (retrying.length) return { ...base, state: 'error', label: 'Sync error', detail: describeRetrying(retrying) };
  if (queuedIds.length || busy) {
    return { ...base, state: 'syncing', label: 'Syncing', ...(queuedIds.length ? { detail: `${queuedIds.length} pending` } : {}) };
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

// ---- the leading tab's reporter ----------------------------------------------------------------

/** @typedef {import('./sync-loop.js').SyncLoop} SyncLoop */

/**
 * @typedef {object} StatusReporter
 * @property {() => void} update recompute soon; calls made while one runs coalesce into one more
 */

/**
 * @param {object} options
 * @param {SessionContext} options.context
 * @param {SyncLoop} options.loop
 * @param {() => Promise<void>} options.alongside reads that must be as fresh as the status (the unsynced-edits answer)
 * @param {(status: SyncStatus) => void} options.publish
 * @returns {StatusReporter}
 */
export function createStatusReporter({ context, loop, alongside, publish }) {
  let dirty = false;
  /** @type {Promise<void> | null} */
  let running = null;

  function update() {
    if (!loop.isLeading() || context.isStopped()) return;
    dirty = true;
    running ??= loop.track(recomputeWhileDirty(), { quiet: true });
  }
  loop.onChange(update);

  async function recomputeWhileDirty() {
    while (dirty && !context.isStopped()) {
      dirty = false;
      /** @type {SyncStatus} */
      let status;
      try {
        [status] = await Promise.all([compute(), alongside()]);
      } catch (error) {
        status = localFailure(context.user.id, error);
      }
      // Signed out or closed while reading: this status is no one's any more.
      if (!context.isStopped()) publish(status);
    }
    // Cleared in the same turn as the last check, so an update asked for now starts a new round.
    running = null;
  }

  /** @returns {Promise<SyncStatus>} */
  async function compute() {
    const { metadata, device, user, localStore, projectRetries, heldPulls } = context;
    const [queuedIds, errors, otherAccountIds, retrying] = await Promise.all([
      metadata.queuedIds(), metadata.errors(), device.projectsOfOtherAccounts(user.id), Promise.all(projectRetries.all().map(async (retry) => ({
        ...retry, name: (await localStore.get(retry.projectId))?.name,
      }))),
    ]);
    return summarizeStatus({
      userId: user.id,
      queuedIds,
      errors,
      retrying,
      changedOnServer: [...heldPulls],
      otherAccountIds: [...otherAccountIds],
      busy: loop.isBusy(),
      trouble: loop.trouble(),
      signInRequired: loop.signInRequired(),
    });
  }

  return { update };
}
