// Identity changes: claim at sign-in, sign-out pauses and keeps projects, and two accounts on one
// browser never share metadata or each other's projects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFakeServer } from './support/fake-server.js';
import { createDevice } from './support/devices.js';
import { IDBFactory } from 'fake-indexeddb';
import { openSyncMetadata, metadataDatabaseName } from '../src/adapters/sync-metadata.js';

const ALICE = { id: 'user-alice' };
const BOB = { id: 'user-bob' };

test('sign-out keeps local projects, shows "Saved locally" and stops talking to the server', async () => {
  const server = createFakeServer();
  const device = await createDevice(server);
  await device.signIn(ALICE);
  await device.save('p1', 'synced');
  await device.engine.idle();

  await device.signOut();
  const requestsAtSignOut = server.requests.length;
  await device.save('p1', 'edited signed out');
  await device.save('p2', 'made signed out');
  await device.engine.idle();

  assert.equal(device.engine.status().label, 'Saved locally');
  assert.equal(server.requests.length, requestsAtSignOut);
  assert.equal(await device.text('p1'), 'edited signed out');
  assert.equal(device.engine.hasUnsyncedEdits(), false, 'nothing to warn about: there is no account to reach');
  await device.close();
});

test('signing back in pushes what was edited and made while signed out', async () => {
  const server = createFakeServer();
  const device = await createDevice(server);
  await device.signIn(ALICE);
  await device.save('p1', 'synced');
  await device.engine.idle();
  await device.signOut();
  await device.save('p1', 'edited signed out');
  await device.save('p2', 'made signed out');

  await device.signIn(ALICE);
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'edited signed out' });
  assert.equal(server.project(ALICE.id, 'p1')?.revision, 2, 'pushed on top of the synced revision, no conflict');
  assert.deepEqual(server.project(ALICE.id, 'p2')?.data, { text: 'made signed out' });
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});

test('another account on the same browser never claims the first account\'s projects', async () => {
  const server = createFakeServer();
  const device = await createDevice(server);
  await device.save('alices', 'claimed by Alice');
  await device.signIn(ALICE);
  await device.signOut();
  await device.save('anonymous', 'made while nobody was signed in');

  await device.signIn(BOB);
  assert.deepEqual(server.projects(BOB.id).map((project) => project.id), ['anonymous']);
  assert.equal(device.engine.status().projects.alices?.state, 'other-account');
  assert.equal(device.engine.status().label, 'Synced');

  await device.save('alices', 'Bob edits Alice\'s project on her laptop');
  await device.engine.idle();
  assert.deepEqual(server.projects(BOB.id).map((project) => project.id), ['anonymous'], 'still not Bob\'s');

  await device.signIn(ALICE);
  assert.deepEqual(server.project(ALICE.id, 'alices')?.data, { text: 'Bob edits Alice\'s project on her laptop' },
    'the edit reaches the project\'s own account when it signs in again');
  assert.equal(server.project(ALICE.id, 'anonymous'), undefined);
  await device.close();
});

test('each account\'s sync metadata lives in its own database', async () => {
  const server = createFakeServer();
  const device = await createDevice(server);
  await device.save('p1', 'alice');
  await device.signIn(ALICE);
  await device.signOut();
  await device.signIn(BOB);
  await device.save('p2', 'bob');
  await device.engine.idle();

  assert.notEqual(metadataDatabaseName(ALICE.id), metadataDatabaseName(BOB.id));
  const alice = await openSyncMetadata(device.indexedDB, ALICE.id);
  const bob = await openSyncMetadata(device.indexedDB, BOB.id);
  assert.deepEqual([...(await alice.lastSyncedRevisions()).keys()], ['p1']);
  assert.deepEqual([...(await bob.lastSyncedRevisions()).keys()], ['p2']);
  alice.close();
  bob.close();
  await device.close();
});

test('a sign-out during a push records its answer under the right account only', async () => {
  const server = createFakeServer();
  const device = await createDevice(server);
  await device.signIn(ALICE);
  const held = server.holdNext({ project: 'p1' });
  await device.save('p1', 'in flight at sign-out');
  await new Promise((resolve) => setTimeout(resolve, 10));
  await device.signOut();
  held.release();
  await new Promise((resolve) => setTimeout(resolve, 10));

  await device.signIn(BOB);
  assert.equal(server.projects(BOB.id).length, 0);
  await device.signIn(ALICE);
  assert.equal(server.writesOf('p1').length, 1, 'Alice\'s answer was recorded before her metadata closed');
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});

test('a sign-in whose sync metadata cannot be opened is shown, and blocks neither saving nor the next sign-in', async () => {
  const server = createFakeServer();
  const indexedDB = new IDBFactory();
  let refuseMetadata = true;
  // An older tab holding the database open (or a broken profile) makes opening it fail.
  const flakyIndexedDB = /** @type {IDBFactory} */ (/** @type {unknown} */ ({
    /** @param {string} name @param {number} [version] */
    open(name, version) {
      if (refuseMetadata && name === metadataDatabaseName(ALICE.id)) throw new DOMException('Blocked by an older tab', 'InvalidStateError');
      return indexedDB.open(name, version);
    },
  }));
  const device = await createDevice(server, { indexedDB, engineOptions: { indexedDB: flakyIndexedDB } });

  await assert.rejects(device.signIn(ALICE), { name: 'InvalidStateError' });
  assert.equal(device.engine.status().label, 'Sync error');
  assert.match(device.engine.status().detail ?? '', /Blocked by an older tab/);

  await device.save('p1', 'typed after the failed sign-in');
  assert.equal(await device.text('p1'), 'typed after the failed sign-in');

  refuseMetadata = false;
  await device.signIn(ALICE);
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'typed after the failed sign-in' });
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});
