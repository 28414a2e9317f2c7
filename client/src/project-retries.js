// Projects whose own pushes fail on the server's side (a 500 on that project alone): each backs
// off on its own schedule while the other projects keep syncing on theirs. Kept in memory by the
// syncing tab: a reload simply tries again.
import { retryDelayMs } from './backoff.js';

/** @typedef {import('./sync-types.js').Timers} Timers */
/** @typedef {import('./sync-types.js').BackoffSettings} BackoffSettings */

/**
 * @typedef {object} ProjectRetry
 * @property {string} projectId
 * @property {number} failures
 * @property {number} dueAt
 * @property {string} message what failed, with when it is tried again
 */

/**
 * @typedef {object} ProjectRetries
 * @property {(projectId: string) => boolean} isWaiting its next attempt is not due yet
 * @property {(projectId: string) => boolean} hasFailed it is backing off: its attempts go alone, not in a batch
 * @property {(projectId: string, failure: { message: string, retryAfterSeconds?: number }) => void} failed
 * @property {(projectId: string) => void} answered the server answered this project's request for good (accepted, conflict, refused)
 * @property {(queuedIds: Set<string>) => void} keepQueued forgets projects no longer queued (synced by another tab, deleted)
 * @property {(inFlight: Set<string>) => number | undefined} nextDueAt the next attempt to schedule; a retry already in flight has none
 * @property {() => ProjectRetry[]} all
 */

/**
 * @param {{ timers: Timers, backoff: BackoffSettings, random: () => number }} options
 * @returns {ProjectRetries}
 */
export function createProjectRetries({ timers, backoff, random }) {
  /** @type {Map<string, ProjectRetry>} */
  const retries = new Map();
  return {
    isWaiting: (projectId) => (retries.get(projectId)?.dueAt ?? 0) > timers.now(),
    hasFailed: (projectId) => retries.has(projectId),
    failed(projectId, { message, retryAfterSeconds }) {
      const failures = (retries.get(projectId)?.failures ?? 0) + 1;
      const delay = retryDelayMs(failures, backoff, random, retryAfterSeconds);
      const retryIn = `retrying in ${Math.max(1, Math.round(delay / 1000))}s`;
      retries.set(projectId, { projectId, failures, dueAt: timers.now() + delay, message: `${message}, ${retryIn}` });
    },
    answered: (projectId) => { retries.delete(projectId); },
    keepQueued(queuedIds) {
      for (const projectId of retries.keys()) if (!queuedIds.has(projectId)) retries.delete(projectId);
    },
    nextDueAt(inFlight) {
      const due = [...retries.values()].filter((retry) => !inFlight.has(retry.projectId)).map((retry) => retry.dueAt);
      return due.length ? Math.min(...due) : undefined;
    },
    all: () => [...retries.values()],
  };
}
