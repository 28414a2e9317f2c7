// Projects whose own pushes fail on the server's side (a 500 on that project alone): each backs
// off on its own schedule while the other projects keep syncing on theirs. Kept in memory by the
// syncing tab: a reload simply tries again.
import { retryDelayMs } from './backoff.js';

/** @typedef {import('./sync-types.js').Timers} Timers */
/** @typedef {import('./sync-types.js').BackoffSettings} BackoffSettings */
/** @typedef {import('./sync-types.js').ProjectRetry} ProjectRetry */
/** @typedef {import('./sync-types.js').ProjectRetries} ProjectRetries */

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
