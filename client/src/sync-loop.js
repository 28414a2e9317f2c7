// The sync loop of one signed-in user in the tab that leads: it owns a pass (claim, then merge,
// then push), counts the work that runs, says when all of it has settled, and tells its
// subscribers (the status) that something they show may have changed. When the next pass runs is
// pass-scheduler.js's decision alone; the loop knows nothing of the status.
//
//                      nudge / syncSoon / poll / a project's own retry time
//          ┌────────────────────────────────────────────────────────────────┐
//          ▼                                                                │
//     ┌────────┐  schedule   ┌──────────┐   timer    ┌─────────┐   done     │
//     │  idle  │────────────▶│ pass due │───────────▶│ running │──────────▶─┘
//     └────────┘             └──────────┘            └─────────┘
//          ▲                      ▲ ▲                  │     │
//          │                      │ └── more queued ───┘     │ stopped early: backoff or
//          │                      └─────── wait ─────────────┘ Retry-After (a 401: no pass
//          │                                                    until the next sign-in)
//          └── idle() resolves here: no work running, no pass due (polling aside)
//
//   An edit during a pass may start a second pass; each counts as work until it settles, and so
//   do conflict choices and status recomputes. stop(), from any state: nothing new starts, work
//   already running finishes and is recorded, then the promise stop() returned resolves.
import { createPassScheduler } from './pass-scheduler.js';
import { describeLocalError } from './status.js';

/** @typedef {import('./sync-types.js').Timers} Timers */
/** @typedef {import('./sync-types.js').BackoffSettings} BackoffSettings */
/** @typedef {import('./stops.js').Stop} Stop */

/**
 * @typedef {object} PassSteps
 * @property {() => Promise<void>} claim auto-claim, at the start of leadership until it succeeds
 * @property {() => Promise<Stop | undefined>} merge
 * @property {() => Promise<{ stop?: Stop, queuedAgain: boolean }>} push
 * @property {() => number | undefined} nextProjectRetryAt when a project backing off alone is due
 * @property {() => boolean} pullsHeld a merge left pulls waiting for typing to be committed
 * @property {() => Promise<boolean>} heldPullsReleased the typing one of them waited for has ended
 */

/**
 * @typedef {object} SyncLoop
 * @property {() => void} startLeading this tab syncs now: claim, merge and push at once, then poll
 * @property {() => void} nudge the queue changed: a pass after the debounce
 * @property {(options?: { overrideBackoff?: boolean }) => void} syncSoon merge, then push, as soon as allowed
 * @property {<T>(work: Promise<T>, options?: { quiet?: boolean }) => Promise<T>} track counts work until it settles; quiet: do not announce its end
 * @property {() => boolean} isBusy a pass or a choice runs
 * @property {() => boolean} isLeading
 * @property {() => string | undefined} trouble what holds every project back now
 * @property {() => boolean} signInRequired
 * @property {(listener: () => void) => void} onChange something the status shows may have changed
 * @property {() => void} changed
 * @property {() => Promise<void>} idle
 * @property {() => Promise<void>} stop
 */

/**
 * @param {object} options
 * @param {Timers} options.timers
 * @param {{ debounceMs: number, pollMs: number, backoff: BackoffSettings }} options.settings
 * @param {() => number} options.random
 * @param {PassSteps} options.steps
 * @returns {SyncLoop}
 */
export function createSyncLoop({ timers, settings, random, steps }) {
  let stopped = false;
  let leading = false;
  let needsClaim = false;
  let needsMerge = false;
  let merging = false;
  let running = 0;
  let quietRunning = 0;
  /** @type {Array<() => void>} */
  let idleWaiters = [];
  /** @type {Set<() => void>} */
  const listeners = new Set();

  const scheduler = createPassScheduler({
    timers,
    settings,
    random,
    canRun: () => !stopped && leading,
    runPass: () => { track(runPassRecoveringLocalErrors()); },
    onPoll: () => { needsMerge = true; },
  });

  function changed() {
    for (const listener of listeners) listener();
  }

  /**
   * @template T
   * @param {Promise<T>} work
   * @param {{ quiet?: boolean }} [options]
   * @returns {Promise<T>}
   */
  async function track(work, { quiet = false } = {}) {
    if (quiet) quietRunning += 1;
    else running += 1;
    try {
      return await work;
    } finally {
      if (quiet) quietRunning -= 1;
      else running -= 1;
      if (!quiet) changed();
      settleIdleWaiters();
    }
  }

  const isIdle = () => running === 0 && quietRunning === 0 && !scheduler.hasPassPending();

  function settleIdleWaiters() {
    if (!isIdle()) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const wake of waiters) wake();
  }

  function idle() {
    if (isIdle()) return Promise.resolve();
    return new Promise((resolve) => idleWaiters.push(() => resolve(undefined)));
  }

  /**
   * Only local storage can throw in a pass (the transport turns network failures into outcomes);
   * a full disk is retried with backoff and shown, never swallowed. The backoff is armed before
   * the pass counts as done, so `idle()` never resolves in between.
   */
  async function runPassRecoveringLocalErrors() {
    try {
      await runPass();
    } catch (error) {
      scheduler.backOff({ kind: 'retry', message: describeLocalError(error) });
    }
  }

  async function runPass() {
    if (stopped || !leading) return;
    const startedAt = timers.now();
    changed();
    if (needsClaim) {
      await steps.claim();
      needsClaim = false;
    }
    let stop = await mergeIfDue();
    if (!stop) {
      const pushed = await steps.push();
      stop = pushed.stop;
      if (pushed.queuedAgain && !stop) scheduler.schedule(settings.debounceMs);
    }
    if (stop) scheduler.backOff(stop);
    else scheduler.recovered(startedAt);
    const retryAt = steps.nextProjectRetryAt();
    if (retryAt !== undefined) scheduler.schedule(Math.max(0, retryAt - timers.now()));
    changed();
  }

  /** @returns {Promise<Stop | undefined>} */
  async function mergeIfDue() {
    // One merge at a time; a merge asked for meanwhile runs in the next pass.
    if (!needsMerge || merging) return undefined;
    needsMerge = false;
    merging = true;
    /** @type {Stop | undefined} */
    let stop;
    try {
      stop = await steps.merge();
    } catch (error) {
      needsMerge = true;
      throw error;
    } finally {
      merging = false;
    }
    if (stop) needsMerge = true;
    else if (needsMerge || (await steps.heldPullsReleased())) {
      needsMerge = true;
      scheduler.schedule(0);
    } else if (steps.pullsHeld()) {
      // Pulls held back for typing go through once the typing ends (the session asks for a merge).
      needsMerge = true;
    }
    return stop;
  }

  return {
    startLeading() {
      if (stopped) return;
      leading = true;
      needsClaim = true;
      needsMerge = true;
      scheduler.startPolling();
      scheduler.schedule(0);
    },
    nudge() {
      scheduler.schedule(settings.debounceMs);
      changed();
    },
    syncSoon({ overrideBackoff = false } = {}) {
      needsMerge = true;
      scheduler.scheduleNow({ overrideBackoff });
    },
    track,
    isBusy: () => running > 0,
    isLeading: () => leading,
    trouble: scheduler.trouble,
    signInRequired: scheduler.signInRequired,
    onChange: (listener) => { listeners.add(listener); },
    changed,
    idle,
    stop() {
      stopped = true;
      leading = false;
      scheduler.cancel();
      // Answers still in flight are recorded before the caller closes what they write to.
      const settledNow = idle();
      settleIdleWaiters();
      return settledNow;
    },
  };
}
