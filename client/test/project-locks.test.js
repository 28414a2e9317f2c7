// Many project locks at once, as a page of the changes feed takes them: every lock is held while
// the work runs, a lock another tab holds is waited for (never a deadlock), and one question
// tells which projects an editor types on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTabCoordination } from '../src/adapters/tabs.js';
import { createSingleTabCoordination } from '../src/index.js';
import { typingAmong, withProjectLocks } from '../src/project-locks.js';
import { createFakeLockManager } from './support/fake-locks.js';

/** Two tabs of one browser: one lock manager, a channel each. */
function twoTabs() {
  const locks = createFakeLockManager();
  const channelName = `locks-test-${Math.random()}`;
  const tab = () => createTabCoordination({ locks, channel: new BroadcastChannel(channelName) });
  return { first: tab(), second: tab() };
}

/** @returns {{ promise: Promise<void>, resolve: () => void }} */
function deferred() {
  /** @type {() => void} */
  let resolve = () => {};
  const promise = new Promise((done) => { resolve = () => done(undefined); });
  return { promise, resolve };
}

for (const [kind, makeTabs] of /** @type {const} */ ([['Web Locks', twoTabs], ['one tab', () => {
  const only = createSingleTabCoordination();
  return { first: only, second: only };
}]])) {
  test(`${kind}: every lock is held while the work runs, and a commit waits for it`, async () => {
    const { first, second } = makeTabs();
    const working = deferred();
    const events = [];
    const page = withProjectLocks(first, ['b', 'a', 'c', 'a'], async () => {
      events.push('page starts');
      await working.promise;
      events.push('page ends');
      return 'applied';
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    const commit = second.withProjectLock('b', async () => { events.push('commit on b'); });
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(events, ['page starts'], 'the commit waits while the page holds b');
    working.resolve();
    assert.equal(await page, 'applied');
    await commit;
    assert.deepEqual(events, ['page starts', 'page ends', 'commit on b']);
    first.close();
    second.close();
  });
}

test('a lock another tab holds is waited for, then the work runs holding all of them', async () => {
  const { first, second } = twoTabs();
  const typingSaved = deferred();
  const events = [];
  const commit = second.withProjectLock('b', async () => {
    await typingSaved.promise;
    events.push('commit on b ends');
  });
  const page = withProjectLocks(first, ['a', 'b', 'c'], async () => { events.push('page runs'); });
  const otherCommit = deferred();
  // While the page waits for b, c is not held (what it took at once it let go): a commit on c goes through.
  await second.withProjectLock('c', async () => { events.push('commit on c'); otherCommit.resolve(); });
  typingSaved.resolve();
  await Promise.all([commit, page]);
  assert.deepEqual(events, ['commit on c', 'commit on b ends', 'page runs']);
  first.close();
  second.close();
});

test('two tabs taking overlapping sets of locks both finish', async () => {
  const { first, second } = twoTabs();
  let inside = 0;
  let most = 0;
  /** @param {import('../src/index.js').TabCoordination} tabs @param {string[]} ids */
  const hold = (tabs, ids) => withProjectLocks(tabs, ids, async () => {
    inside += 1;
    most = Math.max(most, inside);
    await new Promise((resolve) => setTimeout(resolve, 5));
    inside -= 1;
  });
  await Promise.all([hold(first, ['a', 'b', 'c']), hold(second, ['c', 'b', 'a']), hold(first, ['b', 'd']), hold(second, ['d', 'a'])]);
  assert.equal(most, 1, 'every set shares a lock with another: never two at once');
  first.close();
  second.close();
});

test('one question tells which projects an editor in any tab types on', async () => {
  const { first, second } = twoTabs();
  const stopTyping = second.holdTyping('b');
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual([...(await typingAmong(first, ['a', 'b', 'c']))], ['b']);
  stopTyping();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual([...(await typingAmong(first, ['a', 'b', 'c']))], []);
  first.close();
  second.close();
});
