// Pushes in batches (POST /api/changes): each item is answered as its own PUT or DELETE would be,
// a batch refused by a server error goes again project by project, a write too big for a batch
// goes alone, and a claim of many projects takes a handful of requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IDBDatabase, IDBObjectStore } from 'fake-indexeddb';
import { openSyncMetadata } from '../src/adapters/sync-metadata.js';
import { createFakeServer } from './support/fake-server.js';
import { createDevice, eventually } from './support/devices.js';

const ALICE = { id: 'user-alice' };

test('one batch answered ok, conflict, 422 and 404 records each project as its own request would', async () => {
  const server = createFakeServer();
  const laptop = await createDevice(server);
  await laptop.signIn(ALICE);
  for (const id of ['ok', 'conflict', 'invalid', 'purged']) await laptop.save(id, 'original');
  await laptop.engine.idle();

  // Edited signed out: the next sign-in pushes all four in one pass.
  await laptop.signOut();
  await laptop.save('ok', 'edited here');
  await laptop.save('conflict', 'edited here too');
  await laptop.engine.saveProject({ id: 'invalid', name: /** @type {any} */ (42), data: { text: 'a name the server refuses' } });
  await laptop.engine.deleteProject('purged');
  server.writeAsOtherDevice(ALICE.id, { id: 'conflict', name: 'Project conflict', data: { text: 'edited elsewhere' } });
  server.deleteAsOtherDevice(ALICE.id, 'purged');
  server.purgeTombstones(ALICE.id);
  const postsBefore = server.count('POST');

  await laptop.signIn(ALICE);

  const batches = server.requests.filter((request) => request.method === 'POST').slice(postsBefore);
  assert.equal(batches.length, 1);
  assert.deepEqual(batches[0].response.results.map((/** @type {any} */ result) => [result.id, result.status]).sort(),
    [['conflict', 409], ['invalid', 422], ['ok', 200], ['purged', 404]]);
  const status = laptop.engine.status();
  assert.equal(status.projects.ok, undefined, 'accepted');
  assert.deepEqual(server.project(ALICE.id, 'ok')?.data, { text: 'edited here' });
  assert.equal(status.projects.conflict?.state, 'conflict');
  assert.equal(/** @type {any} */ (status.projects.conflict?.server?.data).text, 'edited elsewhere');
  assert.equal(status.projects.invalid?.state, 'error');
  assert.equal(status.projects.invalid?.message, 'The server refused this project: name must be a string');
  assert.equal(status.projects.purged, undefined, 'a deletion the server no longer knows of is done');

  const writesBefore = server.writes.length;
  laptop.engine.syncNow();
  await laptop.engine.idle();
  assert.equal(server.writes.length, writesBefore, 'neither the conflict nor the refused write is sent again by itself');
  await laptop.close();
});

test('a batch refused by a server error goes again project by project; only the failing one backs off', async () => {
  const server = createFakeServer();
  const cookies = { userId: /** @type {string | null} */ (null) };
  const device = await createDevice(server, { cookies });
  // Made signed out: the claim at sign-in pushes the three together.
  for (const id of ['a', 'broken', 'c']) await device.save(id, `text of ${id}`);
  server.failNext({ method: 'POST', path: /^\/api\/changes$/, status: 500 });
  server.failNext({ method: 'PUT', path: /\/api\/projects\/broken$/, status: 500, times: 1_000 });
  cookies.userId = ALICE.id;
  await device.engine.setUser(ALICE);
  await eventually(() => device.engine.status().projects.broken?.state === 'retrying' && server.projects(ALICE.id).length === 2, 'the others synced, the broken one backing off');

  assert.deepEqual(server.requests.filter((request) => request.method === 'POST').at(-1)?.body.changes.map((/** @type {any} */ item) => item.id), ['a', 'broken', 'c']);
  const puts = server.requests.filter((request) => request.method === 'PUT').map((request) => request.path);
  assert.deepEqual(puts.slice(0, 3).sort(), ['/api/projects/a', '/api/projects/broken', '/api/projects/c']);
  assert.ok(puts.slice(3).every((path) => path === '/api/projects/broken'), 'only the failing project is retried');
  assert.ok(server.project(ALICE.id, 'a') && server.project(ALICE.id, 'c'), 'the others synced');
  const status = device.engine.status();
  assert.equal(status.projects.broken?.state, 'retrying');
  assert.equal(status.projects.a, undefined);
  assert.match(status.detail ?? '', /^“Project broken” could not sync: The server had a problem, retrying in \d+s$/, 'no outage for everyone');
  await device.close();
});

test('a write too big for a batch goes alone through its own route; the others still batch', async () => {
  const server = createFakeServer({ maxBodyBytes: 4 * 1024 * 1024 });
  const device = await createDevice(server);
  await device.save('small-1', 'small');
  await device.save('big', 'x'.repeat(3_400_000));
  await device.save('small-2', 'small too');
  await device.signIn(ALICE); // the claim pushes the three in one pass

  const pushes = server.requests.filter((request) => request.method === 'POST' || request.method === 'PUT');
  assert.equal(pushes.length, 2);
  assert.deepEqual(pushes.find((request) => request.method === 'POST')?.body.changes.map((/** @type {any} */ item) => item.id), ['small-1', 'small-2']);
  assert.equal(pushes.find((request) => request.method === 'PUT')?.path, '/api/projects/big');
  assert.equal(/** @type {any} */ (server.project(ALICE.id, 'big')?.data).text.length, 3_400_000);
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});

test('claiming 500 local projects at sign-in takes at most 6 requests', async () => {
  const server = createFakeServer({ maxBodyBytes: 4 * 1024 * 1024 });
  const device = await createDevice(server);
  for (let index = 0; index < 500; index += 1) await device.localStore.put({ id: `p${index}`, name: `Project ${index}`, data: { text: `text ${index}` } });
  await device.signIn(ALICE);

  assert.ok(server.requests.length <= 6, `${server.requests.length} requests: ${server.requests.map((request) => `${request.method} ${request.path}`).join(', ')}`);
  assert.equal(server.projects(ALICE.id).length, 500);
  assert.ok(server.writes.every((write) => write.route === 'batch' && write.baseRevision === 0));
  assert.equal(server.maxInFlightPerProject(), 1);
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});

test('a claim of 500 writes its queue in a handful of transactions, not several per project', async () => {
  const server = createFakeServer({ maxBodyBytes: 4 * 1024 * 1024 });
  const device = await createDevice(server);
  for (let index = 0; index < 500; index += 1) await device.localStore.put({ id: `p${index}`, name: `Project ${index}`, data: { text: `text ${index}` } });
  const realTransaction = IDBDatabase.prototype.transaction;
  let queueWrites = 0;
  IDBDatabase.prototype.transaction = function countQueueWrites(stores, mode, ...rest) {
    if (mode === 'readwrite' && [stores].flat().includes('syncQueue')) queueWrites += 1;
    return realTransaction.call(this, stores, mode, ...rest);
  };
  try {
    await device.signIn(ALICE);
  } finally {
    IDBDatabase.prototype.transaction = realTransaction;
  }

  assert.equal(server.projects(ALICE.id).length, 500);
  // Queued once, the feed's page once, then for each of the 5 batches its writes stored once and its answers recorded once.
  assert.ok(queueWrites <= 12, `${queueWrites} readwrite transactions on the queue`);
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});

test('a claim sends its first batch before it prepares the writes of the next ones', async () => {
  const server = createFakeServer({ maxBodyBytes: 4 * 1024 * 1024 });
  const device = await createDevice(server, { engineOptions: { concurrency: 1 } });
  for (let index = 0; index < 300; index += 1) await device.localStore.put({ id: `p${index}`, name: `Project ${index}`, data: { text: `text ${index}` } });
  const held = server.holdNext({ method: 'POST' });
  const signingIn = device.signIn(ALICE);
  await eventually(() => server.count('POST') === 1, 'the first batch is on its way');

  const metadata = await openSyncMetadata(device.indexedDB, ALICE.id);
  const prepared = (await metadata.queue()).filter((entry) => entry.write !== undefined);
  assert.equal(prepared.length, 100, 'only the batch in flight has its writes stored');
  metadata.close();
  held.release();
  await signingIn;
  const batches = server.requests.filter((request) => request.method === 'POST');
  assert.deepEqual(batches.map((request) => request.body.changes.length), [100, 100, 100]);
  assert.equal(server.projects(ALICE.id).length, 300);
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});

test("the claim reads only the stored ids, and an editor's store without ids() is claimed through list()", async () => {
  for (const withIds of [true, false]) {
    const server = createFakeServer();
    const device = await createDevice(server);
    for (let index = 0; index < 3; index += 1) await device.localStore.put({ id: `p${index}`, name: `Project ${index}`, data: { text: `text ${index}` } });
    if (!withIds) delete device.localStore.ids;
    const realList = device.localStore.list;
    let listed = 0;
    device.localStore.list = () => { listed += 1; return realList(); };
    await device.signIn(ALICE);
    assert.equal(listed, withIds ? 0 : 1);
    assert.deepEqual(server.projects(ALICE.id).map((project) => project.id).sort(), ['p0', 'p1', 'p2']);
    await device.close();
  }
});

test('a batch whose writes cannot be stored (a full disk) ends the pass only after the batches in flight are answered', async () => {
  const server = createFakeServer({ maxBodyBytes: 4 * 1024 * 1024 });
  const device = await createDevice(server, { engineOptions: { concurrency: 2 } });
  for (let index = 0; index < 300; index += 1) await device.localStore.put({ id: `p${index}`, name: `Project ${index}`, data: { text: `text ${index}` } });
  const held = server.holdNext({ method: 'POST' });
  // The first two batches are prepared together; the third, prepared once the second is answered,
  // meets a full disk while the first is still in flight.
  const realPut = IDBObjectStore.prototype.put;
  let writesStored = 0;
  IDBObjectStore.prototype.put = function fullDiskOnThirdBatch(value, ...rest) {
    if (this.name === 'syncQueue' && value?.write && (writesStored += 1) === 201) throw new DOMException('The disk is full', 'QuotaExceededError');
    return realPut.call(this, value, ...rest);
  };
  try {
    const signingIn = device.signIn(ALICE);
    await eventually(() => writesStored > 200, 'the third batch is prepared');
    await new Promise((resolve) => setTimeout(resolve, 50));
    held.release();
    await signingIn;
    await device.engine.idle();
  } finally {
    IDBObjectStore.prototype.put = realPut;
  }

  assert.equal(server.maxInFlightPerProject(), 1, 'no project sent again while its first request was in flight');
  assert.equal(server.projects(ALICE.id).length, 300);
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});
