// Two tabs of one browser: one syncs (Web Locks), both can save, status reaches both
// (BroadcastChannel), and the other tab takes over when the syncing one closes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, twoTabsOfOneBrowser, twoTabsWithAConflict } from './support/devices.js';

const ALICE = { id: 'user-alice' };

test('only the leading tab talks to the server; the other one\'s saves are pushed by it', async () => {
  const { server, first, second } = await twoTabsOfOneBrowser();
  await first.signIn(ALICE);
  await second.engine.setUser(ALICE);
  await second.save('from-second-tab', 'typed in tab two');

  await eventually(() => server.project(ALICE.id, 'from-second-tab') !== undefined, 'the leader to push it');
  await first.engine.idle();
  assert.ok(server.requests.every((request) => request.userId === ALICE.id));
  await eventually(() => second.engine.status().label === 'Synced', 'status to reach the second tab');
  assert.equal(first.engine.status().label, 'Synced');
  await Promise.all([first.close(), second.close()]);
});

test('status, including a conflict, reaches every tab, and either tab can resolve it', async () => {
  const { server, first, second } = await twoTabsWithAConflict(ALICE, 'second');

  await second.engine.keepMine('p1');
  await eventually(() => server.project(ALICE.id, 'p1')?.revision === 3, 'the leader to push "mine"');
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'edited in tab two' });
  await eventually(() => second.engine.status().label === 'Synced', 'Synced in tab two');
  await Promise.all([first.close(), second.close()]);
});

test('signing in or out in one tab applies to the other tabs', async () => {
  const { first, second } = await twoTabsOfOneBrowser();
  await first.signIn(ALICE);
  await eventually(() => second.engine.status().userId === ALICE.id, 'tab two to follow the sign-in');
  await first.engine.setUser(null);
  await eventually(() => second.engine.status().label === 'Saved locally', 'tab two to follow the sign-out');
  await Promise.all([first.close(), second.close()]);
});

test('when the syncing tab closes, the other tab takes over the queue', async () => {
  const { server, first, second } = await twoTabsOfOneBrowser();
  await first.signIn(ALICE);
  await second.engine.setUser(ALICE);
  await first.close();
  await second.save('after-handover', 'pushed by tab two');
  await eventually(() => server.project(ALICE.id, 'after-handover') !== undefined, 'tab two to push');
  await second.close();
});

test('a tab that is not syncing knows of its own unsynced save at once (beforeunload)', async () => {
  const { server, first, second } = await twoTabsOfOneBrowser();
  await first.signIn(ALICE);
  await second.engine.setUser(ALICE);
  await eventually(() => second.engine.status().label === 'Synced', 'tab two to hear from the syncing tab');
  server.setOffline(true);

  await second.save('p1', 'typed in tab two, then tab two is closed');
  assert.equal(second.engine.hasUnsyncedEdits(), true);

  server.setOffline(false);
  first.engine.syncNow();
  await eventually(() => server.project(ALICE.id, 'p1') !== undefined, 'the syncing tab to push it');
  await eventually(() => !second.engine.hasUnsyncedEdits(), 'tab two to learn that it is synced');
  await Promise.all([first.close(), second.close()]);
});

test('signing in again in a tab that does not sync resumes the sync in the tab that does', async () => {
  const { server, first, second } = await twoTabsOfOneBrowser();
  await first.signIn(ALICE);
  await second.engine.setUser(ALICE);
  server.failNext({ method: 'POST', status: 401 });
  await second.save('p1', 'typed while the session had ended');
  await eventually(() => second.engine.status().signInRequired === true, 'sign-in required in tab two');

  await second.engine.setUser(ALICE);
  await eventually(() => server.project(ALICE.id, 'p1') !== undefined, 'the pending edit syncs after signing in again', 5_000);
  await eventually(() => second.engine.status().signInRequired === undefined, 'tab two no longer asks to sign in');
  await Promise.all([first.close(), second.close()]);
});
