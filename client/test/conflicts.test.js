// Conflict policy: in the background the server wins unless this device has unsynced edits;
// then the project waits in "conflict" for the user's choice, and no request loops on 409.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { twoDevicesSharingAProject } from './support/devices.js';

const ALICE = { id: 'user-alice' };

/** The laptop changes p1 offline while the phone's change reaches the server; then the laptop reconnects. */
async function whileLaptopIsOffline(laptop, phone, laptopChange, phoneChange) {
  laptop.setOffline(true);
  await laptopChange();
  await phoneChange();
  await phone.engine.idle();
  laptop.setOffline(false);
  laptop.engine.syncNow();
  await laptop.engine.idle();
}

test('without local edits the server copy replaces the local one in the background', async () => {
  const { server, laptop, phone } = await twoDevicesSharingAProject(ALICE);
  await phone.save('p1', 'edited on the phone');
  await phone.engine.idle();

  const changes = [];
  laptop.engine.on('local-change', (change) => changes.push(...change.projectIds));
  laptop.engine.syncNow();
  await laptop.engine.idle();

  assert.equal(await laptop.text('p1'), 'edited on the phone');
  assert.deepEqual(changes, ['p1']);
  assert.equal(server.writes.length, 2, 'pulling never writes back');
  await Promise.all([laptop.close(), phone.close()]);
});

test('unsynced local edits meeting a newer server copy park the project as a conflict, once', async () => {
  const { server, laptop, phone } = await twoDevicesSharingAProject(ALICE);
  laptop.setOffline(true);
  phone.setOffline(true);
  await laptop.save('p1', 'laptop offline edit');
  await phone.save('p1', 'phone offline edit');
  phone.setOffline(false);
  phone.engine.syncNow();
  await phone.engine.idle();
  laptop.setOffline(false);
  laptop.engine.syncNow();
  await laptop.engine.idle();

  const status = laptop.engine.status();
  assert.equal(status.label, 'Sync error');
  assert.equal(status.projects.p1?.state, 'conflict');
  assert.equal(/** @type {any} */ (status.projects.p1?.server?.data).text, 'phone offline edit');
  assert.equal(await laptop.text('p1'), 'laptop offline edit', 'the local edit is never replaced silently');
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'phone offline edit' });

  const putsAfterConflict = server.count('PUT');
  laptop.engine.syncNow();
  await laptop.engine.idle();
  await laptop.save('p1', 'laptop keeps typing');
  await laptop.engine.idle();
  assert.equal(server.count('PUT'), putsAfterConflict, 'no 409 storm: a parked project is not pushed');
  assert.equal(laptop.engine.status().projects.p1?.state, 'conflict');
  await Promise.all([laptop.close(), phone.close()]);
});

test('"keep mine" pushes this device\'s copy over the server copy', async () => {
  const { server, laptop, phone } = await twoDevicesSharingAProject(ALICE);
  await laptop.engine.setUser(null);
  await laptop.save('p1', 'mine');
  await phone.save('p1', 'theirs');
  await phone.engine.idle();
  await laptop.signIn(ALICE);
  assert.equal(laptop.engine.status().projects.p1?.state, 'conflict');

  await laptop.engine.keepMine('p1');
  await laptop.engine.idle();
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'mine' });
  assert.equal(server.project(ALICE.id, 'p1')?.revision, 3);
  assert.equal(laptop.engine.status().label, 'Synced');

  phone.engine.syncNow();
  await phone.engine.idle();
  assert.equal(await phone.text('p1'), 'mine');
  await Promise.all([laptop.close(), phone.close()]);
});

test('"take theirs" replaces this device\'s copy with the server copy, keeping mine in the history', async () => {
  const { server, laptop, phone } = await twoDevicesSharingAProject(ALICE);
  await whileLaptopIsOffline(laptop, phone, () => laptop.save('p1', 'mine'), () => phone.save('p1', 'theirs'));
  assert.equal(laptop.engine.status().projects.p1?.state, 'conflict');

  await laptop.engine.takeTheirs('p1');
  assert.equal(await laptop.text('p1'), 'theirs', 'shown before any push');
  await laptop.engine.idle();
  assert.equal(laptop.engine.status().label, 'Synced');
  const [mineWrite, theirsWrite] = server.writesOf('p1').slice(-2);
  assert.deepEqual([mineWrite.data, mineWrite.baseRevision], [{ text: 'mine' }, 2], 'mine goes on top of theirs');
  assert.deepEqual([theirsWrite.data, theirsWrite.baseRevision], [{ text: 'theirs' }, 3], 'theirs goes on top of mine');
  assert.notEqual(mineWrite.writeId, theirsWrite.writeId);
  assert.deepEqual(server.project(ALICE.id, 'p1'), { ...server.project(ALICE.id, 'p1'), revision: 4, data: { text: 'theirs' } });

  await laptop.save('p1', 'theirs, then edited');
  await laptop.engine.idle();
  assert.equal(server.project(ALICE.id, 'p1')?.revision, 5, 'later edits build on their revision');
  await Promise.all([laptop.close(), phone.close()]);
});

test('"take theirs" when this device\'s copy already equals theirs writes nothing', async () => {
  const { server, laptop, phone } = await twoDevicesSharingAProject(ALICE);
  await whileLaptopIsOffline(laptop, phone, () => laptop.save('p1', 'mine'), () => phone.save('p1', 'theirs'));
  await laptop.save('p1', 'theirs');
  const writes = server.writes.length;

  await laptop.engine.takeTheirs('p1');
  await laptop.engine.idle();
  assert.equal(laptop.engine.status().label, 'Synced');
  assert.equal(server.writes.length, writes, 'nothing of this device\'s would be lost');
  assert.equal(server.project(ALICE.id, 'p1')?.revision, 2);
  await Promise.all([laptop.close(), phone.close()]);
});

test('the same edit made on two devices is no conflict', async () => {
  const { server, laptop, phone } = await twoDevicesSharingAProject(ALICE);
  await whileLaptopIsOffline(laptop, phone, () => laptop.save('p1', 'same words'), () => phone.save('p1', 'same words'));
  assert.equal(laptop.engine.status().label, 'Synced');
  assert.equal(server.project(ALICE.id, 'p1')?.revision, 2);
  await Promise.all([laptop.close(), phone.close()]);
});

test('deleting a project another device edited meanwhile brings the edit back instead', async () => {
  const { server, laptop, phone } = await twoDevicesSharingAProject(ALICE);
  await whileLaptopIsOffline(laptop, phone, () => laptop.engine.deleteProject('p1'), () => phone.save('p1', 'still wanted'));

  assert.equal(await laptop.text('p1'), 'still wanted');
  assert.equal(server.project(ALICE.id, 'p1')?.deletedAt, null);
  assert.equal(laptop.engine.status().label, 'Synced');
  await Promise.all([laptop.close(), phone.close()]);
});

test('editing a project deleted on another device asks; "keep mine" restores it on the server', async () => {
  const { server, laptop, phone } = await twoDevicesSharingAProject(ALICE);
  await whileLaptopIsOffline(laptop, phone, () => laptop.save('p1', 'edited while it was deleted'), () => phone.engine.deleteProject('p1'));

  const conflict = laptop.engine.status().projects.p1;
  assert.equal(conflict?.state, 'conflict');
  assert.ok(conflict?.server?.deletedAt);
  assert.equal(await laptop.text('p1'), 'edited while it was deleted', 'a tombstone never removes unsynced edits');

  await laptop.engine.keepMine('p1');
  await laptop.engine.idle();
  assert.equal(server.project(ALICE.id, 'p1')?.deletedAt, null);
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'edited while it was deleted' });

  phone.engine.syncNow();
  await phone.engine.idle();
  assert.equal(await phone.text('p1'), 'edited while it was deleted');
  await Promise.all([laptop.close(), phone.close()]);
});

test('"take theirs" on a project deleted elsewhere removes it here; the edit stays in its history', async () => {
  const { server, laptop, phone } = await twoDevicesSharingAProject(ALICE);
  await whileLaptopIsOffline(laptop, phone, () => laptop.save('p1', 'edited while it was deleted'), () => phone.engine.deleteProject('p1'));

  await laptop.engine.takeTheirs('p1');
  assert.equal(await laptop.localStore.get('p1'), undefined);
  await laptop.engine.idle();
  assert.equal(await laptop.localStore.get('p1'), undefined);
  assert.equal(laptop.engine.status().label, 'Synced');
  assert.ok(server.project(ALICE.id, 'p1')?.deletedAt, 'still deleted on the server');
  assert.deepEqual((await phone.engine.getRevision('p1', 3)).data, { text: 'edited while it was deleted' });
  assert.deepEqual((await phone.engine.listRecentlyDeleted()).map(({ id }) => id), ['p1']);
  await Promise.all([laptop.close(), phone.close()]);
});
