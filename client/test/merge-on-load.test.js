// Merge on load, exactly as the spec, read from the changes feed: queued projects are kept and
// pushed, newer server copies are pulled, server-only projects are pulled, tombstones remove only
// what has no unsynced edits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFakeServer } from './support/fake-server.js';
import { createDevice } from './support/devices.js';

const ALICE = { id: 'user-alice' };

test('a new device pulls every server project and skips tombstones', async () => {
  const server = createFakeServer();
  server.writeAsOtherDevice(ALICE.id, { id: 'a', name: 'A', data: { text: 'alpha' } });
  server.writeAsOtherDevice(ALICE.id, { id: 'b', name: 'B', data: { text: 'beta' } });
  server.writeAsOtherDevice(ALICE.id, { id: 'gone', name: 'Gone', data: { text: 'x' } });
  server.deleteAsOtherDevice(ALICE.id, 'gone');

  const device = await createDevice(server);
  await device.signIn(ALICE);
  assert.deepEqual((await device.localStore.list()).map((project) => project.id).sort(), ['a', 'b']);
  assert.equal(server.writes.length, 0, 'pulled projects are not pushed back');
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});

test('on reload one request asks what changed since the cursor, and carries only that', async () => {
  const server = createFakeServer();
  for (const id of ['a', 'b', 'c']) server.writeAsOtherDevice(ALICE.id, { id, name: id, data: { text: id } });
  const device = await createDevice(server);
  await device.signIn(ALICE);
  server.writeAsOtherDevice(ALICE.id, { id: 'b', name: 'b', data: { text: 'b2' } });
  const requestsBefore = server.requests.length;

  await device.reload();
  await device.engine.idle();
  const made = server.requests.slice(requestsBefore);
  assert.deepEqual(made.map((request) => request.path.replace(/since=[^&]+/, 'since=…')), ['/api/changes?since=…']);
  assert.deepEqual(made[0].response.changes.map((/** @type {any} */ change) => change.id), ['b']);
  assert.equal(await device.text('b'), 'b2');
  await device.close();
});

test('a queued project is kept and pushed even when the server has a newer revision', async () => {
  const server = createFakeServer();
  server.writeAsOtherDevice(ALICE.id, { id: 'p1', name: 'p1', data: { text: 'v1' } });
  const device = await createDevice(server);
  await device.signIn(ALICE);
  await device.signOut();
  await device.save('p1', 'local edit while signed out');
  server.writeAsOtherDevice(ALICE.id, { id: 'p1', name: 'p1', data: { text: 'v2 elsewhere' } });

  await device.signIn(ALICE);
  assert.equal(await device.text('p1'), 'local edit while signed out');
  assert.equal(device.engine.status().projects.p1?.state, 'conflict');
  assert.equal(server.writes.length, 1, 'the push was attempted');
  await device.close();
});

test('a project tombstoned on the server is removed here when it has no unsynced edits', async () => {
  const server = createFakeServer();
  const device = await createDevice(server);
  await device.signIn(ALICE);
  await device.save('p1', 'soon deleted elsewhere');
  await device.save('p2', 'stays');
  await device.engine.idle();
  server.deleteAsOtherDevice(ALICE.id, 'p1');

  const changes = [];
  device.engine.on('local-change', (change) => changes.push(...change.projectIds));
  device.engine.syncNow();
  await device.engine.idle();
  assert.equal(await device.localStore.get('p1'), undefined);
  assert.equal(await device.text('p2'), 'stays');
  assert.deepEqual(changes, ['p1']);
  await device.close();
});

test('a local project the server has never seen is kept and pushed, not removed', async () => {
  const server = createFakeServer();
  server.writeAsOtherDevice(ALICE.id, { id: 'remote', name: 'remote', data: { text: 'r' } });
  const device = await createDevice(server);
  await device.save('local', 'made here first');
  await device.signIn(ALICE);
  assert.deepEqual((await device.localStore.list()).map((project) => project.id).sort(), ['local', 'remote']);
  assert.deepEqual(server.project(ALICE.id, 'local')?.data, { text: 'made here first' });
  await device.close();
});

test('a failed feed request is retried by itself, without any local edit', async () => {
  const server = createFakeServer();
  server.writeAsOtherDevice(ALICE.id, { id: 'remote', name: 'remote', data: { text: 'r' } });
  server.failNext({ method: 'GET', path: /^\/api\/changes$/, status: 503, times: 2 });
  const device = await createDevice(server);
  await device.signIn(ALICE);
  assert.equal(await device.text('remote'), 'r');
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});
