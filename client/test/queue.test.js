// Given local edits, when the engine syncs, then each project reaches the server once per
// coalesced snapshot, never with two requests in flight for one project.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFakeServer } from './support/fake-server.js';
import { createDevice, eventually } from './support/devices.js';
import { IDBObjectStore } from 'fake-indexeddb';
import { openDeviceProjects } from '../src/adapters/device-projects.js';

const ALICE = { id: 'user-alice', email: 'alice@example.com' };

test('signed out, saves stay local: status "Saved locally" and no request is made', async () => {
  const server = createFakeServer();
  const device = await createDevice(server);
  await device.save('p1', 'hello');
  await device.engine.idle();
  assert.equal(device.engine.status().label, 'Saved locally');
  assert.equal(server.requests.length, 0);
  assert.equal(device.engine.hasUnsyncedEdits(), false);
  await device.close();
});

test('first sign-in claims every local project and pushes it with baseRevision 0', async () => {
  const server = createFakeServer();
  const device = await createDevice(server);
  await device.save('p1', 'one');
  await device.save('p2', 'two');
  await device.signIn(ALICE);

  assert.deepEqual(server.writes.map((write) => write.id).sort(), ['p1', 'p2']);
  assert.ok(server.writes.every((write) => write.route === 'batch' && write.baseRevision === 0 && write.writeId));
  assert.equal(server.count('POST'), 1, 'both in one batch');
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'one' });
  assert.equal(device.engine.status().label, 'Synced');
  assert.deepEqual(device.engine.status().projects, {});
  await device.close();
});

test('saves made within the debounce coalesce into one push of the latest snapshot', async () => {
  const server = createFakeServer();
  const device = await createDevice(server, { engineOptions: { debounceMs: 5_000 } });
  await device.signIn(ALICE);
  for (const text of ['a', 'ab', 'abc', 'abcd']) await device.save('p1', text);
  await device.engine.idle();

  assert.equal(server.writes.length, 1);
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'abcd' });
  await device.close();
});

test('edits made while a push is in flight go out in one more push, after the first answer', async () => {
  const server = createFakeServer();
  const device = await createDevice(server);
  await device.signIn(ALICE);
  const held = server.holdNext({ method: 'POST' });
  await device.save('p1', 'first');
  await eventually(() => server.count('POST') === 1, 'the first push to start');

  await device.save('p1', 'second');
  await device.save('p1', 'third');
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(server.count('POST'), 1, 'no second request while the first is in flight');
  held.release();
  await device.engine.idle();

  const pushes = server.writesOf('p1');
  assert.equal(pushes.length, 2);
  assert.equal(pushes[1].baseRevision, 1, 'the next push builds on the revision the first one got');
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'third' });
  assert.equal(server.maxInFlightPerProject(), 1);
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});

test('many projects are pushed with at most one request in flight per project', async () => {
  const server = createFakeServer();
  const device = await createDevice(server, { engineOptions: { concurrency: 3 } });
  for (let index = 0; index < 12; index += 1) await device.save(`p${index}`, `text ${index}`);
  await device.signIn(ALICE);
  for (let index = 0; index < 12; index += 2) await device.save(`p${index}`, `edited ${index}`);
  await device.engine.idle();

  assert.equal(server.projects(ALICE.id).length, 12);
  assert.deepEqual(server.project(ALICE.id, 'p4')?.data, { text: 'edited 4' });
  assert.equal(server.maxInFlightPerProject(), 1);
  await device.close();
});

test('deleting a synced project sends its deletion with its revision and leaves a server tombstone', async () => {
  const server = createFakeServer();
  const device = await createDevice(server);
  await device.signIn(ALICE);
  await device.save('p1', 'doomed');
  await device.engine.idle();

  await device.engine.deleteProject('p1');
  await device.engine.idle();

  const deletion = server.writes.find((write) => write.deleted);
  assert.equal(deletion?.baseRevision, 1);
  assert.ok(server.project(ALICE.id, 'p1')?.deletedAt);
  assert.equal(await device.localStore.get('p1'), undefined);
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});

test('a project made and deleted before it reached the server costs no request', async () => {
  const server = createFakeServer();
  const device = await createDevice(server, { engineOptions: { debounceMs: 5_000 } });
  await device.signIn(ALICE);
  await device.save('p1', 'fleeting');
  await device.engine.deleteProject('p1');
  await device.engine.idle();
  assert.equal(server.writes.length, 0);
  await device.close();
});

test('a project the editor saved itself is synced after enqueue()', async () => {
  const server = createFakeServer();
  const device = await createDevice(server);
  await device.signIn(ALICE);
  await device.localStore.put({ id: 'p1', name: 'Own save', data: { text: 'mine' } });
  await device.engine.enqueue('p1');
  await device.engine.idle();
  assert.equal(server.project(ALICE.id, 'p1')?.name, 'Own save');
  await device.close();
});

test('a save whose queue entry cannot be written leaves the local copy as it was, so no pull replaces an unqueued edit', async () => {
  const server = createFakeServer();
  const device = await createDevice(server);
  await device.signIn(ALICE);
  await device.save('p1', 'v1');
  await device.engine.idle();

  // The disk fills up between the editor's store and the sync queue (or the tab dies there).
  const realPut = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function refuseQueueWrites(...args) {
    if (this.name === 'syncQueue') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    return realPut.apply(this, args);
  };
  try {
    await assert.rejects(device.save('p1', 'edit that could not be queued'), { name: 'QuotaExceededError' });
  } finally {
    IDBObjectStore.prototype.put = realPut;
  }
  // Had the edit been kept locally without a queue entry, the next merge would pull the server copy
  // over it without a word: an edit is only in the local store once it is queued.
  assert.equal(await device.text('p1'), 'v1');
  assert.equal(device.engine.status().state, 'error');

  await device.save('p1', 'saved once space is back');
  await device.engine.idle();
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'saved once space is back' });
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});

test('a project made and deleted before it reached the server leaves no trace on the device', async () => {
  const server = createFakeServer();
  const device = await createDevice(server, { engineOptions: { debounceMs: 5_000 } });
  await device.save('anonymous', 'made and deleted signed out');
  await device.engine.deleteProject('anonymous');
  await device.signIn(ALICE);
  await device.save('p1', 'fleeting');
  await device.engine.deleteProject('p1');
  await device.engine.idle();

  const deviceProjects = await openDeviceProjects(device.indexedDB);
  assert.deepEqual([...(await deviceProjects.all()).keys()], [], 'the device table does not grow with projects that never existed anywhere');
  deviceProjects.close();
  assert.equal(server.writes.length, 0);
  await device.close();
});
