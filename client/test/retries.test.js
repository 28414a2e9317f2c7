// Given a server or network that fails, the queue retries on its own (backoff with jitter, or the
// server's Retry-After), a retried write is never duplicated or turned into a conflict, and every
// failure is visible in the status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFakeServer } from './support/fake-server.js';
import { createDevice, eventually } from './support/devices.js';

const ALICE = { id: 'user-alice' };

/** Node's Event has no settable returnValue; the browser's BeforeUnloadEvent does. */
class BeforeUnloadEvent extends Event {
  returnValue = undefined;
  constructor() { super('beforeunload', { cancelable: true }); }
}

test('a 503 is retried with backoff until it succeeds, and the status says why meanwhile', async () => {
  const server = createFakeServer();
  const device = await createDevice(server);
  await device.signIn(ALICE);
  /** @type {string[]} */
  const details = [];
  device.engine.on('status', (status) => { if (status.detail) details.push(status.detail); });
  server.failNext({ method: 'POST', path: /^\/api\/changes$/, status: 503, times: 2 });

  await device.save('p1', 'persistent');
  await device.engine.idle();

  assert.equal(server.count('POST'), 3);
  assert.ok(details.some((detail) => /^The server is unavailable for a moment, retrying in \d+s$/.test(detail)), details.join(' | '));
  // random() is 0.5 in tests: equal jitter gives 3/4 of the exponential ceiling (100 ms, then 200 ms).
  assert.ok(device.timers.requestedDelays.includes(75), `first backoff: ${device.timers.requestedDelays}`);
  assert.ok(device.timers.requestedDelays.includes(150), `second backoff: ${device.timers.requestedDelays}`);
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});

test('a 429 waits exactly as long as its Retry-After says', async () => {
  const server = createFakeServer();
  const device = await createDevice(server);
  await device.signIn(ALICE);
  server.failNext({ method: 'POST', path: /^\/api\/changes$/, status: 429, retryAfter: '3' });

  await device.save('p1', 'patient');
  await eventually(() => /too many changes from this account, retrying in 3s/.test(device.engine.status().detail ?? ''), 'the 429 in the status');
  await device.save('p1', 'patient, edited during the wait');
  await device.engine.idle();

  const puts = pushesCarrying(server, 'p1');
  // The answer to a 429 is known, but one pending write is always resent as it was before newer
  // content goes (a gateway's 5xx can follow a commit); then the edit made during the wait.
  assert.deepEqual(puts.map((put) => put.body.changes[0].data.text), ['patient', 'patient', 'patient, edited during the wait']);
  const waitedMs = (puts[1].at - puts[0].at) * device.timers.scale;
  assert.ok(waitedMs >= 2_900, `an edit during Retry-After does not jump the wait (waited ${waitedMs} ms)`);
  assert.ok(device.timers.requestedDelays.some((ms) => ms >= 2_900 && ms <= 3_000), `${device.timers.requestedDelays}`);
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'patient, edited during the wait' });
  await device.close();
});

test('offline: every attempt fails, the queue keeps retrying without a new edit, then syncs', async () => {
  const server = createFakeServer();
  const device = await createDevice(server);
  await device.signIn(ALICE);
  server.setOffline(true);
  await device.save('p1', 'written offline');
  await eventually(() => /You are offline or the server cannot be reached/.test(device.engine.status().detail ?? ''), 'the offline status');
  assert.equal(device.engine.status().label, 'Sync error');
  assert.equal(device.engine.status().projects.p1?.state, 'pending');
  assert.ok(device.engine.hasUnsyncedEdits());

  server.setOffline(false);
  await device.engine.idle();
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'written offline' });
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});

test('the online event retries at once instead of waiting out the backoff', async () => {
  const server = createFakeServer();
  const page = new EventTarget();
  const device = await createDevice(server, { signals: { window: page }, engineOptions: { backoff: { baseMs: 600_000, maxMs: 600_000 } } });
  await device.signIn(ALICE);
  server.setOffline(true);
  await device.save('p1', 'waiting for the network');
  await eventually(() => device.engine.status().label === 'Sync error', 'the offline status');

  server.setOffline(false);
  page.dispatchEvent(new Event('online'));
  await eventually(() => server.project(ALICE.id, 'p1') !== undefined, 'the push after online', 1_000);
  await device.close();
});

test('a write whose response was lost is retried with the same writeId and is not a conflict', async () => {
  const server = createFakeServer();
  const device = await createDevice(server);
  await device.signIn(ALICE);
  server.loseNextResponse({ method: 'POST' });

  await device.save('p1', 'exactly once');
  await device.engine.idle();

  const puts = server.writesOf('p1');
  assert.equal(puts.length, 2);
  assert.equal(puts[1].writeId, puts[0].writeId);
  assert.equal(puts[1].baseRevision, 0);
  assert.equal(server.project(ALICE.id, 'p1')?.revision, 1, 'stored once');
  assert.equal(device.engine.status().label, 'Synced');

  await device.save('p1', 'next edit');
  await device.engine.idle();
  assert.equal(server.project(ALICE.id, 'p1')?.revision, 2, 'the next push builds on the recorded revision');
  await device.close();
});

test('a lost response followed by more edits: the old write is confirmed first, then the new one goes', async () => {
  const server = createFakeServer();
  const device = await createDevice(server);
  await device.signIn(ALICE);
  const held = server.holdNext({ method: 'POST', loseResponse: true });
  await device.save('p1', 'v1');
  await eventually(() => server.count('POST') === 1, 'the first push');
  await device.save('p1', 'v2');
  held.release();
  await device.engine.idle();

  const puts = server.writesOf('p1');
  assert.deepEqual(puts.map((write) => /** @type {any} */ (write.data).text), ['v1', 'v1', 'v2']);
  assert.deepEqual(server.project(ALICE.id, 'p1'), { ...server.project(ALICE.id, 'p1'), revision: 2, data: { text: 'v2' } });
  assert.deepEqual(device.engine.status().projects, {});
  await device.close();
});

test('a page closed between request and response resends the same write after reload', async () => {
  const server = createFakeServer();
  const device = await createDevice(server);
  await device.signIn(ALICE);
  // The answer never reaches the closed page: it is lost, as in a crash.
  const held = server.holdNext({ method: 'POST', loseResponse: true });
  await device.save('p1', 'survives the crash');
  await eventually(() => server.count('POST') === 1, 'the push to be in flight');

  await device.reload();
  held.release(); // the first request commits on the server, but its page is gone
  await device.engine.idle();

  const puts = server.writesOf('p1');
  assert.equal(puts.length, 2);
  assert.equal(puts[1].writeId, puts[0].writeId, 'the reloaded page resends the same write');
  assert.equal(server.project(ALICE.id, 'p1')?.revision, 1);
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});

test('a rejected write (413) marks only that project, others sync, and the next edit retries it', async () => {
  const server = createFakeServer({ maxBodyBytes: 200 });
  const device = await createDevice(server);
  await device.signIn(ALICE);
  await device.save('big', 'x'.repeat(500));
  await device.save('small', 'fits');
  await device.engine.idle();

  const status = device.engine.status();
  assert.equal(status.label, 'Sync error');
  assert.equal(status.projects.big?.state, 'error');
  assert.equal(status.projects.big?.message, 'This project is too large to sync');
  assert.ok(server.project(ALICE.id, 'small'));
  const writesBefore = server.writesOf('big').length;
  device.engine.syncNow();
  await device.engine.idle();
  assert.equal(server.writesOf('big').length, writesBefore, 'a rejected write is not retried as it is');

  await device.save('big', 'smaller now');
  await device.engine.idle();
  assert.deepEqual(server.project(ALICE.id, 'big')?.data, { text: 'smaller now' });
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});

test('a 401 pauses sync with a visible reason, keeps the queue, and signing in again resumes', async () => {
  const server = createFakeServer();
  const device = await createDevice(server);
  await device.signIn(ALICE);
  server.failNext({ method: 'POST', status: 401 });
  await device.save('p1', 'needs a session');
  await device.engine.idle();
  assert.match(device.engine.status().detail ?? '', /session has ended/);
  assert.equal(device.engine.status().signInRequired, true, 'the editor can offer "Sign in again"');
  assert.equal(device.engine.status().projects.p1?.state, 'pending');
  assert.equal(server.count('POST'), 1, 'no retry loop without a session');

  await device.signIn(ALICE);
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'needs a session' });
  assert.equal(device.engine.status().label, 'Synced');
  assert.equal(device.engine.status().signInRequired, undefined);
  await device.close();
});

test('a full disk is a status, not silence: the save fails visibly and recovers on the next one', async () => {
  const server = createFakeServer();
  const device = await createDevice(server);
  await device.signIn(ALICE);
  const realPut = device.localStore.put;
  device.localStore.put = async () => { throw new DOMException('The quota has been exceeded.', 'QuotaExceededError'); };

  await assert.rejects(device.save('p1', 'too much'), { name: 'QuotaExceededError' });
  assert.equal(device.engine.status().state, 'error');
  assert.match(device.engine.status().detail ?? '', /Storage is full/);

  device.localStore.put = realPut;
  await device.save('p1', 'fits now');
  await device.engine.idle();
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});

test('a full disk while pulling is shown and retried until space is back', async () => {
  const server = createFakeServer();
  server.writeAsOtherDevice(ALICE.id, { id: 'remote', name: 'From elsewhere', data: { text: 'big' } });
  const device = await createDevice(server);
  const realWriteBatch = /** @type {NonNullable<typeof device.localStore.writeBatch>} */ (device.localStore.writeBatch);
  let refusals = 0;
  device.localStore.writeBatch = async (batch) => {
    if (refusals < 2) {
      refusals += 1;
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    }
    return realWriteBatch(batch);
  };
  await device.signIn(ALICE);
  assert.equal(refusals, 2);
  assert.equal(await device.text('remote'), 'big');
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});

test('beforeunload is cancelled while edits are unsynced, and left alone once synced', async () => {
  const server = createFakeServer();
  const page = new EventTarget();
  const device = await createDevice(server, { signals: { window: page } });
  await device.signIn(ALICE);
  server.setOffline(true);
  await device.save('p1', 'unsynced');
  await eventually(() => device.engine.hasUnsyncedEdits(), 'the pending status');

  const whileUnsynced = new BeforeUnloadEvent();
  page.dispatchEvent(whileUnsynced);
  assert.equal(whileUnsynced.defaultPrevented, true);

  server.setOffline(false);
  await device.engine.idle();
  const onceSynced = new BeforeUnloadEvent();
  page.dispatchEvent(onceSynced);
  assert.equal(onceSynced.defaultPrevented, false);
  await device.close();
});

/**
 * The requests that carried a write of the project, alone or in a batch.
 * @param {ReturnType<typeof createFakeServer>} server
 * @param {string} projectId
 */
function pushesCarrying(server, projectId) {
  return server.requests.filter((request) => request.path === `/api/projects/${projectId}`
    || (request.method === 'POST' && request.body.changes.some((/** @type {any} */ item) => item.id === projectId)));
}

/**
 * @param {Awaited<ReturnType<typeof createDevice>>} device
 * @param {ReturnType<typeof createFakeServer>} server
 * @param {string} projectId
 */
function msBetweenFirstTwoPushes(device, server, projectId) {
  const [firstTry, retry] = pushesCarrying(server, projectId);
  return (retry.at - firstTry.at) * device.timers.scale;
}

test('a Retry-After is honoured even when another request failed in the same pass without one', async () => {
  const server = createFakeServer({ maxBodyBytes: 4 * 1024 * 1024 });
  const device = await createDevice(server);
  await device.save('first', 'fails without Retry-After');
  // Too big for a batch: it goes alone, in a request of its own beside the batch.
  await device.save('second', 'x'.repeat(3.5 * 1024 * 1024));
  server.failNext({ method: 'POST', path: /^\/api\/changes$/, status: 503 });
  server.failNext({ method: 'PUT', path: /\/second$/, status: 429, retryAfter: '3' });

  await device.signIn(ALICE); // the claim pushes both in one pass

  const waitedMs = msBetweenFirstTwoPushes(device, server, 'second');
  assert.ok(waitedMs >= 2_900, `the server asked for 3 s and got ${waitedMs} ms`);
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});

test('a Retry-After is not cut short by a failure that answers later, from an earlier pass', async () => {
  const server = createFakeServer();
  const device = await createDevice(server);
  await device.signIn(ALICE);
  const slowFailure = server.holdNext({ project: 'first', status: 503 });
  await device.save('first', 'its request hangs, then fails without Retry-After');
  await eventually(() => server.count('POST') === 1, 'the first push to be in flight');
  server.failNext({ project: 'second', status: 429, retryAfter: '3' });
  await device.save('second', 'answered by 429, Retry-After: 3');
  await eventually(() => /too many changes/.test(device.engine.status().detail ?? ''), 'the 429 in the status');

  slowFailure.release();
  await device.engine.idle();

  const waitedMs = msBetweenFirstTwoPushes(device, server, 'second');
  assert.ok(waitedMs >= 2_900, `the server asked for 3 s and got ${waitedMs} ms`);
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});

test('beforeunload warns right after a save resolves, before the status has caught up', async () => {
  const server = createFakeServer();
  const page = new EventTarget();
  const device = await createDevice(server, { signals: { window: page }, engineOptions: { debounceMs: 5_000 } });
  await device.signIn(ALICE);

  await device.save('p1', 'typed, then the tab is closed at once');
  const closing = new BeforeUnloadEvent();
  page.dispatchEvent(closing);
  assert.equal(closing.defaultPrevented, true);
  assert.equal(device.engine.hasUnsyncedEdits(), true);
  await device.close();
});

test('a project whose pushes keep failing with 5xx backs off alone; the others sync on time', async () => {
  const server = createFakeServer();
  // A long backoff: the broken project's second attempt is 15 s away, the healthy one's debounce 50 ms.
  const device = await createDevice(server, { engineOptions: { backoff: { baseMs: 20_000, maxMs: 60_000 } } });
  await device.signIn(ALICE);
  server.failNext({ project: 'broken', status: 500, times: 1_000 });
  const brokenAttempts = () => pushesCarrying(server, 'broken').length;

  await device.save('broken', 'the server fails on this one', 'Broken one');
  await eventually(() => device.engine.status().projects.broken?.state === 'retrying', 'the first failure');
  await device.save('healthy', 'fine');
  await eventually(() => server.project(ALICE.id, 'healthy') !== undefined, 'the healthy project to sync');
  assert.equal(brokenAttempts(), 1, 'the healthy project went out before the broken one was due again');

  await eventually(() => device.engine.status().projects.healthy === undefined, 'the healthy project synced');
  const status = device.engine.status();
  assert.equal(status.projects.broken?.state, 'retrying');
  assert.match(status.projects.broken?.message ?? '', /^The server had a problem, retrying in 15s$/);
  assert.equal(status.label, 'Sync error');
  assert.match(status.detail ?? '', /^“Broken one” could not sync: The server had a problem, retrying in 15s$/);
  await eventually(() => brokenAttempts() === 2, 'the broken project retried on its own', 5_000);
  await device.close();
});

test('while a backed-off project is retried, other passes do not spin', async () => {
  const server = createFakeServer();
  const device = await createDevice(server, { engineOptions: { backoff: { baseMs: 1_000, maxMs: 60_000 } } });
  await device.signIn(ALICE);
  server.failNext({ project: 'broken', status: 500, times: 1 });
  // Backing off, it is retried alone, through its own route.
  const held = server.holdNext({ method: 'PUT', path: /\/api\/projects\/broken$/ });
  await device.save('broken', 'x', 'Broken');
  await eventually(() => device.engine.status().projects.broken?.state === 'retrying', 'the first failure');
  await eventually(() => pushesCarrying(server, 'broken').length === 2, 'the retry in flight');
  await device.save('other', 'y');
  const passesAtOnce = () => device.timers.requestedDelays.filter((ms) => ms === 0).length;
  const before = passesAtOnce();
  await new Promise((resolve) => setTimeout(resolve, 300)); // 30 s of engine time
  const spun = passesAtOnce() - before;
  held.release();
  await device.engine.idle();
  assert.ok(spun < 5, `${spun} passes scheduled at once while the retry was in flight`);
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});

test('an outage in between does not reset a failing project\'s own backoff', async () => {
  const server = createFakeServer();
  const device = await createDevice(server, { engineOptions: { backoff: { baseMs: 20_000, maxMs: 60_000 } } });
  await device.signIn(ALICE);
  const broken = /\/api\/projects\/broken$/;
  server.failNext({ project: 'broken', status: 500 });
  server.failNext({ method: 'PUT', path: broken, status: 503 });
  server.failNext({ method: 'PUT', path: broken, status: 500 });
  await device.save('broken', 'x', 'Broken');
  await eventually(() => /retrying in 15s/.test(device.engine.status().projects.broken?.message ?? ''), 'the first failure');
  await eventually(() => server.count('PUT') === 2, 'the 503, then the second 500, each retried alone', 5_000);
  await eventually(() => /retrying in 30s/.test(device.engine.status().projects.broken?.message ?? ''), 'the second failure backs off longer');
  await device.close();
});

test('a write over the storage quota (403) shows "Sync error: storage quota reached", keeps the edits queued, and goes again on the next edit, not in a loop', async () => {
  const server = createFakeServer({ maxProjects: 1 });
  const device = await createDevice(server);
  await device.signIn(ALICE);
  await device.save('first', 'fits');
  await device.engine.idle();
  await device.save('second', 'over the quota');
  await device.engine.idle();

  const status = device.engine.status();
  assert.match(`${status.label}: ${status.detail}`, /^Sync error: storage quota reached/i);
  assert.equal(status.projects.second?.state, 'error');
  assert.equal(server.project(ALICE.id, 'second'), undefined);
  const refusals = server.writesOf('second').length;
  device.engine.syncNow();
  await device.engine.idle();
  assert.equal(server.writesOf('second').length, refusals, 'a refused write is not retried as it is');

  // Room is made on another device; the next edit here goes again and syncs, edits and all.
  server.deleteAsOtherDevice(ALICE.id, 'first');
  await device.save('second', 'over the quota, edited');
  await device.engine.idle();
  assert.deepEqual(server.project(ALICE.id, 'second')?.data, { text: 'over the quota, edited' });
  await device.close();
});
