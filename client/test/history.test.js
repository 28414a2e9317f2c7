// Nothing is ever lost: the history the server keeps, restores that are ordinary local commits,
// recently deleted projects, and "keep both" on a conflict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HistoryError } from '../src/index.js';
import { eventually, twoDevicesSharingAProject, twoTabsWithAConflict } from './support/devices.js';

const ALICE = { id: 'user-alice' };

/** The laptop edits p1 offline while the phone's edit reaches the server: p1 is a conflict on the laptop. */
async function conflictOnTheLaptop() {
  const devices = await twoDevicesSharingAProject(ALICE);
  const { laptop, phone } = devices;
  laptop.setOffline(true);
  await laptop.save('p1', 'mine');
  await phone.save('p1', 'theirs');
  await phone.engine.idle();
  laptop.setOffline(false);
  laptop.engine.syncNow();
  await laptop.engine.idle();
  assert.equal(laptop.engine.status().projects.p1?.state, 'conflict');
  return devices;
}

/** @param {Awaited<ReturnType<typeof twoDevicesSharingAProject>>['laptop']} device */
async function projectNamed(device, pattern) {
  return (await device.localStore.list()).find((project) => pattern.test(project.name));
}

test('the history lists every revision newest first, the current one included, and reads each one', async () => {
  const { laptop, phone } = await twoDevicesSharingAProject(ALICE);
  await laptop.save('p1', 'second');
  await laptop.engine.idle();

  const revisions = await phone.engine.listRevisions('p1');
  assert.deepEqual(revisions.map(({ revision }) => revision), [2, 1]);
  assert.equal(revisions[1].bytes, JSON.stringify({ text: 'original' }).length);
  assert.equal(revisions[0].deletedAt, null);
  const first = await phone.engine.getRevision('p1', 1);
  assert.deepEqual(first.data, { text: 'original' });
  await assert.rejects(phone.engine.getRevision('p1', 7), (error) => error instanceof HistoryError && error.failure === 'not-found');
  await Promise.all([laptop.close(), phone.close()]);
});

test('a restore is a local commit shown at once and pushed on top of the current revision; it can be undone', async () => {
  const { server, laptop, phone } = await twoDevicesSharingAProject(ALICE);
  await laptop.save('p1', 'second');
  await laptop.engine.idle();
  const changes = [];
  laptop.engine.on('local-change', (change) => changes.push(...change.projectIds));

  await laptop.engine.restoreRevision('p1', 1);
  assert.equal(await laptop.text('p1'), 'original', 'shown before any push');
  assert.ok(changes.includes('p1'));
  await laptop.engine.idle();
  assert.deepEqual(server.project(ALICE.id, 'p1'), { ...server.project(ALICE.id, 'p1'), revision: 3, data: { text: 'original' } });
  assert.equal(server.writesOf('p1').at(-1)?.baseRevision, 2);

  await laptop.engine.restoreRevision('p1', 2);
  await laptop.engine.idle();
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'second' }, 'the restore itself is undone from history');
  phone.engine.syncNow();
  await phone.engine.idle();
  assert.equal(await phone.text('p1'), 'second');
  await Promise.all([laptop.close(), phone.close()]);
});

test('a restore goes on top of a revision this device has not pulled yet', async () => {
  const { server, laptop, phone } = await twoDevicesSharingAProject(ALICE);
  await phone.save('p1', 'newer, from the phone');
  await phone.engine.idle();

  await laptop.engine.restoreRevision('p1', 1);
  await laptop.engine.idle();
  assert.equal(laptop.engine.status().label, 'Synced', 'the user chose from the newest revision: no conflict');
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'original' });
  assert.deepEqual((await laptop.engine.getRevision('p1', 2)).data, { text: 'newer, from the phone' });
  await Promise.all([laptop.close(), phone.close()]);
});

test('a restore whose push fails stays queued and syncs on the retry', async () => {
  const { server, laptop, phone } = await twoDevicesSharingAProject(ALICE);
  server.failNext({ method: 'PUT', status: 503 });
  server.failNext({ method: 'POST', status: 503 });

  await laptop.save('p1', 'second');
  await laptop.engine.restoreRevision('p1', 1);
  assert.equal(await laptop.text('p1'), 'original');
  assert.ok(laptop.engine.hasUnsyncedEdits());
  await laptop.engine.idle();
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'original' });
  assert.equal(laptop.engine.status().label, 'Synced');
  await Promise.all([laptop.close(), phone.close()]);
});

test('restoring over edits the server has not seen keeps them as a conflicted copy', async () => {
  const { server, laptop, phone } = await twoDevicesSharingAProject(ALICE);
  await laptop.save('p1', 'second');
  await laptop.engine.idle();
  laptop.setOffline(true);
  await laptop.save('p1', 'unsynced words');
  laptop.setOffline(false);

  await laptop.engine.restoreRevision('p1', 1);
  await laptop.engine.idle();
  const copy = await projectNamed(laptop, /^Project p1 \(conflicted copy, \d{4}-\d\d-\d\d \d\d:\d\d\)$/);
  assert.deepEqual(copy?.data, { text: 'unsynced words' });
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'original' });
  assert.deepEqual(server.project(ALICE.id, copy?.id ?? '')?.data, { text: 'unsynced words' });
  await Promise.all([laptop.close(), phone.close()]);
});

test('history calls need a session and the network: a clear error, nothing changed here', async () => {
  const { laptop, phone } = await twoDevicesSharingAProject(ALICE);
  laptop.setOffline(true);
  await assert.rejects(laptop.engine.restoreRevision('p1', 1), (error) => error instanceof HistoryError && error.failure === 'offline');
  await assert.rejects(laptop.engine.listRecentlyDeleted(), (error) => error instanceof HistoryError && /server/.test(error.message));
  laptop.setOffline(false);
  await laptop.signOut();
  await assert.rejects(laptop.engine.listRevisions('p1'), (error) => error instanceof HistoryError && error.failure === 'signed-out');
  await assert.rejects(laptop.engine.restoreDeleted('p1'), (error) => error instanceof HistoryError && error.failure === 'signed-out');
  assert.equal(await laptop.text('p1'), 'original');
  await Promise.all([laptop.close(), phone.close()]);
});

test('a project deleted on one device is listed as recently deleted and restored on another', async () => {
  const { server, laptop, phone } = await twoDevicesSharingAProject(ALICE);
  await laptop.save('p2', 'also deleted, earlier');
  await laptop.save('p1', 'last words');
  await laptop.engine.idle();
  await laptop.engine.deleteProject('p2');
  await laptop.engine.idle();
  await laptop.engine.deleteProject('p1');
  await laptop.engine.idle();

  const deleted = await phone.engine.listRecentlyDeleted();
  assert.deepEqual(deleted.map(({ id }) => id), ['p1', 'p2'], 'newest deletion first');
  await phone.engine.restoreDeleted('p1');
  assert.equal(await phone.text('p1'), 'last words');
  assert.deepEqual((await phone.engine.listRecentlyDeleted()).map(({ id }) => id), ['p2'], 'brought back here: not offered again');
  await phone.engine.idle();
  assert.equal(server.project(ALICE.id, 'p1')?.deletedAt, null);
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'last words' });
  assert.equal(phone.engine.status().label, 'Synced');

  laptop.engine.syncNow();
  await laptop.engine.idle();
  assert.equal(await laptop.text('p1'), 'last words');
  await Promise.all([laptop.close(), phone.close()]);
});

test('"keep both": this device\'s copy becomes a conflicted copy, the project takes theirs, exactly once', async () => {
  const { server, laptop, phone } = await conflictOnTheLaptop();
  const [copyId, again] = await Promise.all([laptop.engine.keepBoth('p1'), laptop.engine.keepBoth('p1')]);
  assert.ok(copyId);
  assert.equal(again, undefined, 'the answered conflict is not answered twice');
  await laptop.engine.idle();

  assert.equal(await laptop.text('p1'), 'theirs');
  assert.equal(await laptop.text(/** @type {string} */ (copyId)), 'mine');
  const copy = await laptop.localStore.get(/** @type {string} */ (copyId));
  assert.match(copy?.name ?? '', /^Project p1 \(conflicted copy, \d{4}-\d\d-\d\d \d\d:\d\d\)$/);
  assert.equal(laptop.engine.status().label, 'Synced');
  assert.equal(server.projects(ALICE.id).length, 2);
  assert.deepEqual(server.project(ALICE.id, /** @type {string} */ (copyId))?.data, { text: 'mine' });
  assert.equal(server.project(ALICE.id, 'p1')?.revision, 2, 'the project itself is not written');
  assert.equal(await laptop.engine.keepBoth('p1'), undefined);

  phone.engine.syncNow();
  await phone.engine.idle();
  assert.equal(await phone.text(/** @type {string} */ (copyId)), 'mine');
  await Promise.all([laptop.close(), phone.close()]);
});

test('"keep mine" leaves the other device\'s copy in the history', async () => {
  const { server, laptop, phone } = await conflictOnTheLaptop();
  await laptop.engine.keepMine('p1');
  await laptop.engine.idle();
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'mine' });
  const theirs = (await phone.engine.listRevisions('p1')).find(({ revision }) => revision === 2);
  assert.deepEqual((await phone.engine.getRevision('p1', /** @type {number} */ (theirs?.revision))).data, { text: 'theirs' });
  await Promise.all([laptop.close(), phone.close()]);
});

test('"keep both" answered in two tabs at once makes one copy', async () => {
  const { server, first, second } = await twoTabsWithAConflict(ALICE, 'first');

  const copies = (await Promise.all([first.engine.keepBoth('p1'), second.engine.keepBoth('p1')])).filter(Boolean);
  assert.equal(copies.length, 1);
  await eventually(() => server.projects(ALICE.id).length === 2, 'the copy to be pushed');
  assert.deepEqual(server.project(ALICE.id, /** @type {string} */ (copies[0]))?.data, { text: 'edited in tab two' });
  assert.equal(await second.text('p1'), 'from another device');
  await Promise.all([first.close(), second.close()]);
});

test('a restore answers a waiting conflict; this device\'s copy is kept as a conflicted copy', async () => {
  const { server, laptop, phone } = await conflictOnTheLaptop();
  await laptop.engine.restoreRevision('p1', 1);
  await laptop.engine.idle();
  assert.equal(laptop.engine.status().label, 'Synced');
  assert.equal(await laptop.text('p1'), 'original');
  assert.deepEqual(server.project(ALICE.id, 'p1'), { ...server.project(ALICE.id, 'p1'), revision: 3, data: { text: 'original' } });
  const copy = await projectNamed(laptop, /^Project p1 \(conflicted copy, /);
  assert.deepEqual(server.project(ALICE.id, copy?.id ?? '')?.data, { text: 'mine' });
  await Promise.all([laptop.close(), phone.close()]);
});

/** @param {Awaited<ReturnType<typeof twoDevicesSharingAProject>>['phone']} device */
async function historyTexts(device, projectId) {
  const revisions = await device.engine.listRevisions(projectId);
  return Promise.all(revisions.map(async ({ revision }) => /** @type {any} */ ((await device.engine.getRevision(projectId, revision)).data)?.text));
}

test('"take theirs" offline shows theirs at once and keeps mine in the history once back online', async () => {
  const { laptop, phone } = await conflictOnTheLaptop();
  laptop.setOffline(true);
  await laptop.engine.takeTheirs('p1');
  assert.equal(await laptop.text('p1'), 'theirs');
  assert.ok(laptop.engine.hasUnsyncedEdits(), 'mine waits in the queue');

  laptop.setOffline(false);
  laptop.engine.syncNow();
  await laptop.engine.idle();
  assert.equal(laptop.engine.status().label, 'Synced');
  assert.deepEqual(await historyTexts(phone, 'p1'), ['theirs', 'mine', 'theirs', 'original']);
  await Promise.all([laptop.close(), phone.close()]);
});

test('"take theirs" whose writes fail finishes on the retries, each write accepted once', async () => {
  const { server, laptop, phone } = await conflictOnTheLaptop();
  server.failNext({ method: 'POST', status: 503 });
  server.failNext({ method: 'PUT', status: 503 });
  server.loseNextResponse({ method: 'POST', skip: 1 });

  await laptop.engine.takeTheirs('p1');
  await laptop.engine.idle();
  assert.equal(laptop.engine.status().label, 'Synced');
  assert.deepEqual(await historyTexts(phone, 'p1'), ['theirs', 'mine', 'theirs', 'original']);
  await Promise.all([laptop.close(), phone.close()]);
});

test('"take theirs" meeting a newer server copy keeps mine as a conflicted copy and asks again', async () => {
  const { server, laptop, phone } = await conflictOnTheLaptop();
  laptop.setOffline(true);
  await laptop.engine.takeTheirs('p1');
  await phone.save('p1', 'theirs, edited again');
  await phone.engine.idle();
  laptop.setOffline(false);
  laptop.engine.syncNow();
  await laptop.engine.idle();

  const conflict = laptop.engine.status().projects.p1;
  assert.equal(conflict?.state, 'conflict', 'a new conflict, never an overwrite');
  assert.deepEqual(conflict?.server?.data, { text: 'theirs, edited again' });
  assert.deepEqual(server.project(ALICE.id, 'p1'), { ...server.project(ALICE.id, 'p1'), revision: 3, data: { text: 'theirs, edited again' } });
  const copy = await projectNamed(laptop, /^Project p1 \(conflicted copy, /);
  assert.deepEqual(server.project(ALICE.id, copy?.id ?? '')?.data, { text: 'mine' });
  await Promise.all([laptop.close(), phone.close()]);
});

test('"take theirs" answered in two tabs at once keeps mine in the history once', async () => {
  const { server, first, second } = await twoTabsWithAConflict(ALICE, 'first');

  await Promise.all([first.engine.takeTheirs('p1'), second.engine.takeTheirs('p1')]);
  await eventually(() => server.project(ALICE.id, 'p1')?.revision === 4, 'both writes to be pushed');
  await first.engine.idle();
  assert.deepEqual(server.writesOf('p1').slice(-2).map((write) => /** @type {any} */ (write.data).text), ['edited in tab two', 'from another device']);
  assert.equal(server.project(ALICE.id, 'p1')?.revision, 4);
  assert.equal(await second.text('p1'), 'from another device');
  await Promise.all([first.close(), second.close()]);
});

test('"take theirs" whose history write the server refuses keeps mine as a conflicted copy', async () => {
  const { server, laptop, phone } = await conflictOnTheLaptop();
  server.failNext({ method: 'POST', status: 400 });

  await laptop.engine.takeTheirs('p1');
  await laptop.engine.idle();
  assert.equal(laptop.engine.status().label, 'Synced');
  assert.equal(await laptop.text('p1'), 'theirs');
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'theirs' });
  const copy = await projectNamed(laptop, /^Project p1 \(conflicted copy, /);
  assert.deepEqual(server.project(ALICE.id, copy?.id ?? '')?.data, { text: 'mine' });
  await Promise.all([laptop.close(), phone.close()]);
});

test('a restore while "take theirs" still owes the history its copy loses none of the three copies', async () => {
  const { server, laptop, phone } = await conflictOnTheLaptop();
  laptop.setOffline(true);
  await laptop.engine.takeTheirs('p1');
  laptop.setOffline(false);
  const postsBefore = server.count('POST');
  server.failNext({ method: 'POST', status: 503 });
  laptop.engine.syncNow();
  await eventually(() => server.count('POST') > postsBefore, 'the history write to be tried once');

  await laptop.engine.restoreRevision('p1', 1);
  assert.equal(await laptop.text('p1'), 'original', 'the restore shows at once');
  laptop.engine.syncNow();
  await laptop.engine.idle();
  assert.equal(laptop.engine.status().label, 'Synced');
  const texts = await historyTexts(phone, 'p1');
  assert.equal(texts[0], 'original', 'the restore is the newest revision');
  for (const kept of ['mine', 'theirs', 'original']) assert.ok(texts.includes(kept), `${kept} is in the history: ${texts}`);
  await Promise.all([laptop.close(), phone.close()]);
});
