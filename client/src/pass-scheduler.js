// When the leading tab's next pass over the queue runs: debounced after an edit, at once on
// `online` or sign-in, after a backoff (or the server's Retry-After) when a pass failed, and on the
// polling interval. At most one pass timer is armed at a time.
import { retryDelayMs } from './backoff.js';

/** @typedef {import('./sync-types.js').Timers} Timers */
/** @typedef {import('./sync-types.js').BackoffSettings} BackoffSettings */
/** @typedef {import('./stops.js').Stop} Stop */

/**
 * @typedef {object} PassScheduler
 * @property {(delayMs: number) => void} schedule a pass in `delayMs`, or later if a backoff says so
 * @property {(options: { overrideBackoff: boolean }) => void} scheduleNow a pass as soon as the backoff allows (or at once, overriding our own backoff)
 * @property {() => void} startPolling
 * @property {(stop: Stop) => void} backOff
 * @property {(passStartedAt: number) => void} recovered a pass that started then went through: forget the failures
 * @property {() => string | undefined} trouble what stops every project right now, for the status
 * @property {() => boolean} signInRequired the session ended: only a new sign-in resumes sync
 * @property {() => boolean} hasPassPending
 * @property {() => void} cancel
 */

/**
 * @param {object} options
 * @param {Timers} options.timers
 * @param {{ pollMs: number, backoff: BackoffSettings }} options.settings
 * @param {() => number} options.random
 * @param {() => boolean} options.canRun this tab leads and the session is not stopped
 * @param {() => void} options.runPass
 * @param {() => void} options.onPoll the polling interval elapsed (a merge is due)
 * @returns {PassScheduler}
 */
export function createPassScheduler({ timers, settings, random, canRun, runPass, onPoll }) {
  /** @type {unknown} */
  let passTimer = null;
  let passDueAt = Infinity;
  /** @type {unknown} */
  let pollTimer = null;
  let failedAttempts = 0;
  let pausedUntil = 0;
  /** A Retry-After from the server is honoured even when the browser says it is back online. */
  let pausedByServer = false;
  let pauseSetAt = -Infinity;
  /** @type {string | undefined} */
  let trouble;
  let signInRequired = false;

  /** @param {number} delayMs */
  function schedule(delayMs) {
    scheduleFrom(timers.now(), delayMs);
  }

  /**
   * One reading of the clock for the whole decision, so the timer waits exactly what was decided.
   * @param {number} now
   * @param {number} delayMs
   */
  function scheduleFrom(now, delayMs) {
    if (!canRun()) return;
    const dueAt = Math.max(now + delayMs, pausedUntil);
    // Keep an earlier pass unless it would come before the end of a backoff (Retry-After).
    if (passTimer !== null && passDueAt <= dueAt && passDueAt >= pausedUntil) return;
    clearPassTimer();
    passDueAt = dueAt;
    passTimer = timers.setTimeout(() => {
      passTimer = null;
      passDueAt = Infinity;
      runPass();
    }, Math.max(0, dueAt - now));
  }

  /** @param {{ overrideBackoff: boolean }} options */
  function scheduleNow({ overrideBackoff }) {
    if (overrideBackoff && !pausedByServer) pausedUntil = 0;
    // A pass armed for later than the backoff allows is brought forward.
    if (passTimer !== null && passDueAt > Math.max(timers.now(), pausedUntil)) clearPassTimer();
    schedule(0);
  }

  function clearPassTimer() {
    if (passTimer !== null) timers.clearTimeout(passTimer);
    passTimer = null;
    passDueAt = Infinity;
  }

  function startPolling() {
    if (!settings.pollMs || !canRun()) return;
    pollTimer = timers.setTimeout(() => {
      onPoll();
      schedule(0);
      startPolling();
    }, settings.pollMs);
  }

  /** @param {Stop} stop */
  function backOff(stop) {
    if (stop.kind === 'unauthorized') {
      // No retry loop without a session: the next sign-in (or edit) tries again.
      trouble = 'Your session has ended: sign in again to sync';
      signInRequired = true;
      return;
    }
    failedAttempts += 1;
    const delay = retryDelayMs(failedAttempts, settings.backoff, random, stop.retryAfterSeconds);
    const now = timers.now();
    // Passes overlap (an edit starts one while another waits for an answer): a failure answered
    // later must not cut short the wait the server asked for in the meantime.
    if (!(pausedByServer && pausedUntil > now + delay)) {
      pauseSetAt = now;
      pausedUntil = now + delay;
      pausedByServer = stop.retryAfterSeconds !== undefined;
      trouble = `${stop.message}, retrying in ${Math.max(1, Math.round(delay / 1000))}s`;
    }
    scheduleFrom(now, 0);
  }

  /** @param {number} passStartedAt */
  function recovered(passStartedAt) {
    failedAttempts = 0;
    // Likewise, a pass that went through does not lift a Retry-After another pass received meanwhile.
    if (pausedByServer && pauseSetAt > passStartedAt) return;
    pausedUntil = 0;
    pausedByServer = false;
    trouble = undefined;
    signInRequired = false;
  }


  function cancel() {
    clearPassTimer();
    if (pollTimer !== null) timers.clearTimeout(pollTimer);
    pollTimer = null;
  }

  return {
    schedule,
    scheduleNow,
    startPolling,
    backOff,
    recovered,
    trouble: () => trouble,
    signInRequired: () => signInRequired,
    hasPassPending: () => passTimer !== null,
    cancel,
  };
}
