// Why a pass over the queue stopped early, and which reason decides when the next attempt comes.

/** @template T @typedef {import('./sync-types.js').TransportOutcome<T>} TransportOutcome */

/**
 * `retry` waits for the backoff (or the server's Retry-After); `unauthorized` waits for a new sign-in.
 * @typedef {{ kind: 'retry', message: string, retryAfterSeconds?: number } | { kind: 'unauthorized', message: string }} Stop
 */

/**
 * @param {Exclude<TransportOutcome<unknown>, { kind: 'ok' }>} outcome
 * @returns {Stop}
 */
export function stopFor(outcome) {
  if (outcome.kind === 'unauthorized') return { kind: 'unauthorized', message: outcome.message };
  if (outcome.kind === 'retry') return { kind: 'retry', message: outcome.message, retryAfterSeconds: outcome.retryAfterSeconds };
  const message = outcome.kind === 'rejected' ? outcome.message : 'The server gave an answer this app does not understand';
  return { kind: 'retry', message };
}

/**
 * A server error on one project's request (a 500, a gateway's 502 or 504) is that project's
 * trouble: it backs off alone while the others sync. Being offline, rate limited (429) or told
 * the service is unavailable (503) holds every request back.
 * @param {Exclude<TransportOutcome<unknown>, { kind: 'ok' }>} outcome
 * @returns {outcome is { kind: 'retry', status: number, message: string, retryAfterSeconds?: number }}
 */
export function concernsOnlyThisProject(outcome) {
  return outcome.kind === 'retry' && outcome.status !== undefined && outcome.status !== 429 && outcome.status !== 503;
}

/**
 * Being offline, rate limited, told the service is unavailable or signed out holds every request
 * back, whatever it carries.
 * @param {Exclude<TransportOutcome<unknown>, { kind: 'ok' }>} outcome
 */
export function holdsEveryRequest(outcome) {
  return outcome.kind === 'unauthorized' || (outcome.kind === 'retry' && !concernsOnlyThisProject(outcome));
}

/**
 * Of two reasons met in the same pass, the one that must hold sync back longest: a lost session
 * first, then the longest Retry-After, since the server asked every request of ours to wait.
 * @param {Stop | undefined} current
 * @param {Stop} next
 * @returns {Stop}
 */
export function mostPressingStop(current, next) {
  if (!current) return next;
  if (current.kind === 'unauthorized') return current;
  if (next.kind === 'unauthorized') return next;
  return (next.retryAfterSeconds ?? -1) > (current.retryAfterSeconds ?? -1) ? next : current;
}
