/**
 * How long to wait before retry number `attempt` (1 for the first retry) of a failed sync.
 * The server's Retry-After wins when it sent one; otherwise exponential backoff with "equal
 * jitter": half the delay is fixed so retries never come back at once, half is random so many
 * devices that failed together do not retry together.
 * @param {number} attempt
 * @param {{ baseMs: number, maxMs: number }} backoff
 * @param {() => number} random
 * @param {number} [retryAfterSeconds]
 * @returns {number}
 */
export function retryDelayMs(attempt, { baseMs, maxMs }, random, retryAfterSeconds) {
  if (retryAfterSeconds !== undefined) return retryAfterSeconds * 1000;
  const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return ceiling / 2 + (random() * ceiling) / 2;
}
