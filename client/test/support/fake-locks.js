// An in-memory Web Locks LockManager (every lock exclusive, even one asked for as shared; queued in request order, AbortSignal, ifAvailable),
// so two engines in one test behave like two tabs of one browser.

export function createFakeLockManager() {
  /** @type {Map<string, Array<() => void>>} */
  const waiting = new Map();
  const held = new Set();

  /** @param {string} name */
  function grantNext(name) {
    const queue = waiting.get(name) ?? [];
    const next = queue.shift();
    if (next) next();
  }

  /**
   * @param {string} name
   * @param {any} optionsOrCallback
   * @param {any} [maybeCallback]
   */
  function request(name, optionsOrCallback, maybeCallback) {
    const callback = maybeCallback ?? optionsOrCallback;
    /** @type {AbortSignal | undefined} */
    const signal = maybeCallback ? optionsOrCallback.signal : undefined;
    const ifAvailable = Boolean(maybeCallback && optionsOrCallback.ifAvailable);
    return new Promise((resolve, reject) => {
      const run = () => {
        held.add(name);
        Promise.resolve()
          .then(() => callback({ name, mode: 'exclusive' }))
          .then(resolve, reject)
          .finally(() => {
            held.delete(name);
            grantNext(name);
          });
      };
      if (!held.has(name) && !(waiting.get(name)?.length)) {
        run();
        return;
      }
      if (ifAvailable) {
        Promise.resolve().then(() => callback(null)).then(resolve, reject);
        return;
      }
      if (!waiting.has(name)) waiting.set(name, []);
      const queue = /** @type {Array<() => void>} */ (waiting.get(name));
      queue.push(run);
      signal?.addEventListener('abort', () => {
        const index = queue.indexOf(run);
        if (index >= 0) {
          queue.splice(index, 1);
          reject(new DOMException('Lock request aborted', 'AbortError'));
        }
      });
    });
  }

  return /** @type {LockManager} */ (/** @type {unknown} */ ({ request, query: async () => ({ held: [...held].map((name) => ({ name, mode: 'exclusive' })), pending: [] }) }));
}
