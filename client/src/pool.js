/**
 * Runs `work` over `items` with at most `limit` running at once, in order of `items`. The first
 * failure starts no more items and is thrown once the running ones have settled: work still in
 * flight (a request whose answer is yet to be recorded) is never left behind by the caller.
 * @template T
 * @param {T[]} items
 * @param {number} limit
 * @param {(item: T) => Promise<void>} work
 * @returns {Promise<void>}
 */
export async function forEachConcurrently(items, limit, work) {
  let next = 0;
  /** @type {{ error: unknown } | undefined} */
  let failure;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next];
      next += 1;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
}
