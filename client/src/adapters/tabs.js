// Coordination between the tabs of one browser: Web Locks pick the one tab that syncs for a user
// and serialise local writes per project; a BroadcastChannel carries status and nudges to every tab.
import { oneAfterAnother } from '../project-locks.js';

/** @typedef {import('../sync-types.js').TabCoordination} TabCoordination */
/** @typedef {import('../sync-types.js').TabMessage} TabMessage */

const CHANNEL_NAME = 'appframes-sync';

/**
 * @param {{ locks: LockManager, channel: BroadcastChannel }} browser
 * @returns {TabCoordination}
 */
export function createTabCoordination({ locks, channel }) {
  /** @type {TabCoordination} */
  const coordination = {
    leadFor(userId, lead) {
      const resignation = new AbortController();
      /** @type {() => void} */
      let release = () => {};
      const held = new Promise((resolve) => { release = () => resolve(undefined); });
      // Held until this tab resigns or closes; the browser then grants it to the next waiting tab.
      locks
        .request(`${CHANNEL_NAME}:leader:${userId}`, { signal: resignation.signal }, () => {
          lead();
          return held;
        })
        .catch((error) => {
          if (error?.name !== 'AbortError') throw error;
        });
      return () => {
        resignation.abort();
        release();
      };
    },
    withProjectLock(projectId, work) {
      // The lock is held until `work` settles, and the request resolves with what `work` resolved.
      return /** @type {Promise<any>} */ (locks.request(projectLockName(projectId), work));
    },
    async withProjectLocks(projectIds, work) {
      const release = await holdAllIfFree(locks, projectIds.map(projectLockName));
      if (!release) return oneAfterAnother(coordination.withProjectLock, projectIds, work);
      try {
        return await work();
      } finally {
        release();
      }
    },
    holdTyping(projectId) {
      /** @type {() => void} */
      let release = () => {};
      const held = new Promise((resolve) => { release = () => resolve(undefined); });
      // Shared: every tab typing on the project holds it; a pull only asks whether anyone does.
      locks.request(typingLockName(projectId), { mode: 'shared' }, () => held).catch(() => undefined);
      return release;
    },
    async isTyping(projectId) {
      const { held = [] } = await locks.query();
      return held.some((lock) => lock.name === typingLockName(projectId));
    },
    async typingAmong(projectIds) {
      const { held = [] } = await locks.query();
      const heldNames = new Set(held.map((lock) => lock.name));
      return new Set(projectIds.filter((projectId) => heldNames.has(typingLockName(projectId))));
    },
    post: (message) => channel.postMessage(message),
    onMessage(listener) {
      channel.addEventListener('message', (event) => listener(/** @type {MessageEvent<TabMessage>} */ (event).data));
    },
    close: () => channel.close(),
  };
  return coordination;
}

/** @param {string} projectId */
const typingLockName = (projectId) => `${CHANNEL_NAME}:typing:${projectId}`;
/** @param {string} projectId */
const projectLockName = (projectId) => `${CHANNEL_NAME}:project:${projectId}`;

/**
 * Asks for every lock at once, each only if it is free now: never waiting, this can not deadlock
 * with another tab holding some of them. Some taken already: all are let go again.
 * @param {LockManager} locks
 * @param {string[]} names
 * @returns {Promise<(() => void) | null>} lets them all go; null when one was taken
 */
async function holdAllIfFree(locks, names) {
  /** @type {() => void} */
  let release = () => {};
  const released = new Promise((resolve) => { release = () => resolve(undefined); });
  const granted = await Promise.all(names.map((name) => new Promise((answer) => {
    locks.request(name, { ifAvailable: true }, (lock) => {
      answer(lock !== null);
      return lock ? released : undefined;
    }).catch(() => answer(false));
  })));
  if (granted.every(Boolean)) return release;
  release();
  return null;
}

/**
 * For a page without Web Locks (or a test): this tab is the only one, so it always leads, and
 * per-project work is serialised in memory.
 * @returns {TabCoordination}
 */
export function createSingleTabCoordination() {
  /** @type {Map<string, Promise<unknown>>} */
  const tails = new Map();
  /** @type {Map<string, number>} editors with uncommitted typing, per project */
  const typing = new Map();
  return {
    leadFor(_userId, lead) {
      lead();
      return () => {};
    },
    withProjectLock(projectId, work) {
      const previous = tails.get(projectId) ?? Promise.resolve();
      const result = previous.then(work, work);
      const tail = result.catch(() => undefined);
      tails.set(projectId, tail);
      tail.then(() => { if (tails.get(projectId) === tail) tails.delete(projectId); });
      return result;
    },
    holdTyping(projectId) {
      typing.set(projectId, (typing.get(projectId) ?? 0) + 1);
      let held = true;
      return () => {
        if (!held) return;
        held = false;
        const left = (typing.get(projectId) ?? 1) - 1;
        if (left) typing.set(projectId, left);
        else typing.delete(projectId);
      };
    },
    isTyping: async (projectId) => typing.has(projectId),
    post() {},
    onMessage() {},
    close() {},
  };
}

/**
 * Web Locks + BroadcastChannel when this page has them, this tab alone otherwise.
 * @returns {TabCoordination}
 */
export function createDefaultTabCoordination() {
  const locks = globalThis.navigator?.locks;
  if (!locks || typeof BroadcastChannel === 'undefined') return createSingleTabCoordination();
  return createTabCoordination({ locks, channel: new BroadcastChannel(CHANNEL_NAME) });
}
