// An edit is committed on top of the copy the editor loaded. When sync replaced that copy
// underneath the editor (a pull, another tab, a conflict choice), the commit is a conflict or
// keeps both copies: never a silent overwrite of the other device's or the other tab's edit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IDBFactory } from 'fake-indexeddb';
import { createFakeServer } from './support/fake-server.js';
import { createDevice, eventually, twoDevicesSharingAProject, twoTabsOfOneBrowser } from './support/devices.js';
import { createFakeLockManager } from './support/fake-locks.js';
import { createTabCoordination } from '../src/adapters/tabs.js';

const ALICE = { id: 'user-alice' };
const BOB = { id: 'user-bob' };

/** @param {any} engine @param {string} projectId */
async function opened(engine, projectId) {
  const editing = engine.openProject(projectId);
  await editing.ready;
  return editing;
}

/** @param {any} editing @param {string} text */
const commitText = (editing, text) => editing.commit({ name: 'Project p1', data: { text } });

test('a commit based on a copy that a pull replaced is a conflict, not an overwrite', async () => {
  const { server, laptop, phone } = await twoDevicesSharingAProject(ALICE);
  const editing = await opened(laptop.engine, 'p1');
  assert.equal(/** @type {any} */ (editing.project?.data).text, 'original');

  await phone.save('p1', "the phone's paragraph");
  await phone.engine.idle();
  // The pull lands just before the laptop's user starts typing on the copy the editor shows.
  laptop.engine.syncNow();
  await laptop.engine.idle();
  assert.equal(await laptop.text('p1'), "the phone's paragraph");

  await commitText(editing, 'original, typed on the laptop');
  await laptop.engine.idle();

  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: "the phone's paragraph" }, 'the phone edit stays on the server');
  const status = laptop.engine.status().projects.p1;
  assert.equal(status?.state, 'conflict');
  assert.equal(/** @type {any} */ (status?.server?.data).text, "the phone's paragraph");
  assert.equal(await laptop.text('p1'), 'original, typed on the laptop', 'the laptop edit is kept here');

  await laptop.engine.keepMine('p1');
  await laptop.engine.idle();
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'original, typed on the laptop' }, 'only a choice overwrites');
  await Promise.all([laptop.close(), phone.close()]);
});

test('a pull waits while the open project has uncommitted typing, and says the server changed', async () => {
  const { server, laptop, phone } = await twoDevicesSharingAProject(ALICE);
  const editing = await opened(laptop.engine, 'p1');
  editing.edited();

  await phone.save('p1', "the phone's paragraph");
  await phone.engine.idle();
  laptop.engine.syncNow();
  await laptop.engine.idle();

  assert.equal(await laptop.text('p1'), 'original', 'the pull did not replace the copy being typed on');
  assert.equal(laptop.engine.status().projects.p1?.state, 'changed-on-server');

  await commitText(editing, 'original, typed on the laptop');
  await laptop.engine.idle();
  assert.equal(laptop.engine.status().projects.p1?.state, 'conflict');
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: "the phone's paragraph" });
  assert.equal(await laptop.text('p1'), 'original, typed on the laptop');
  await Promise.all([laptop.close(), phone.close()]);
});

test('an editor closed without committing lets the held pull through', async () => {
  const { laptop, phone } = await twoDevicesSharingAProject(ALICE);
  const editing = await opened(laptop.engine, 'p1');
  editing.edited();
  await phone.save('p1', "the phone's paragraph");
  await phone.engine.idle();
  laptop.engine.syncNow();
  await laptop.engine.idle();
  assert.equal(await laptop.text('p1'), 'original');

  editing.close();
  await eventually(async () => (await laptop.text('p1')) === "the phone's paragraph", 'the pull after the editor closed');
  await laptop.engine.idle();
  assert.equal(laptop.engine.status().label, 'Synced');
  await Promise.all([laptop.close(), phone.close()]);
});

test('commits of one editing session build on each other, and reload() rebases it', async () => {
  const { server, laptop, phone } = await twoDevicesSharingAProject(ALICE);
  const editing = await opened(laptop.engine, 'p1');
  await Promise.all([commitText(editing, 'one'), commitText(editing, 'one two')]);
  await laptop.engine.idle();
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'one two' });

  phone.engine.syncNow();
  await phone.engine.idle();
  await phone.save('p1', 'from the phone');
  await phone.engine.idle();
  laptop.engine.syncNow();
  await laptop.engine.idle();
  const reloaded = await editing.reload();
  assert.equal(/** @type {any} */ (reloaded?.data).text, 'from the phone');
  await commitText(editing, 'from the phone, then the laptop');
  await laptop.engine.idle();
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'from the phone, then the laptop' });
  assert.equal(laptop.engine.status().label, 'Synced');
  await Promise.all([laptop.close(), phone.close()]);
});

test('typing that starts while a reload is on its way keeps its commit based on the copy it was typed on', async () => {
  const { server, laptop, phone } = await twoDevicesSharingAProject(ALICE);
  const editing = await opened(laptop.engine, 'p1');
  await phone.save('p1', "the phone's paragraph");
  await phone.engine.idle();
  laptop.engine.syncNow();
  await laptop.engine.idle();

  const reloading = editing.reload();
  editing.edited(); // the user types on the copy still shown, before the reload lands
  assert.equal(await reloading, undefined, 'nothing to show: the typing came first');
  await commitText(editing, 'original, typed on the laptop');
  await laptop.engine.idle();

  assert.equal(laptop.engine.status().projects.p1?.state, 'conflict');
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: "the phone's paragraph" });
  await Promise.all([laptop.close(), phone.close()]);
});

test('"take theirs" made underneath an editor turns its next commit into a conflict again', async () => {
  const { server, laptop, phone } = await twoDevicesSharingAProject(ALICE);
  laptop.setOffline(true);
  await laptop.save('p1', 'laptop offline edit');
  await phone.save('p1', 'phone edit');
  await phone.engine.idle();
  laptop.setOffline(false);
  laptop.engine.syncNow();
  await laptop.engine.idle();
  assert.equal(laptop.engine.status().projects.p1?.state, 'conflict');

  const editing = await opened(laptop.engine, 'p1');
  await laptop.engine.takeTheirs('p1');
  await commitText(editing, 'laptop offline edit, typed on');
  await laptop.engine.idle();

  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'phone edit' });
  assert.equal(laptop.engine.status().projects.p1?.state, 'conflict');
  assert.equal(await laptop.text('p1'), 'laptop offline edit, typed on');

  // Answered again while the first answer's history write still waits: both copies stay findable.
  await laptop.engine.takeTheirs('p1');
  await laptop.engine.idle();
  assert.equal(await laptop.text('p1'), 'phone edit');
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'phone edit' });
  assert.deepEqual((await phone.engine.getRevision('p1', 3)).data, { text: 'laptop offline edit' });
  const copy = server.projects(ALICE.id).find((project) => project.name.startsWith('Project p1 (conflicted copy, '));
  assert.deepEqual(copy?.data, { text: 'laptop offline edit, typed on' });
  await Promise.all([laptop.close(), phone.close()]);
});

async function twoTabs() {
  const { server, first, second } = await twoTabsOfOneBrowser();
  await first.signIn(ALICE);
  await second.engine.setUser(ALICE);
  await first.save('p1', 'original');
  await first.engine.idle();
  return { server, first, second };
}

test('two tabs: a commit on a copy the other tab replaced, once synced, is a conflict', async () => {
  const { server, first, second } = await twoTabs();
  const inFirst = await opened(first.engine, 'p1');
  const inSecond = await opened(second.engine, 'p1');
  await commitText(inFirst, 'typed in tab one');
  await first.engine.idle();
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'typed in tab one' });

  await commitText(inSecond, 'typed in tab two');
  await first.engine.idle();
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'typed in tab one' });
  await eventually(() => second.engine.status().projects.p1?.state === 'conflict', 'the conflict in tab two');
  assert.equal(/** @type {any} */ (second.engine.status().projects.p1?.server?.data).text, 'typed in tab one');
  await Promise.all([first.close(), second.close()]);
});

test('two tabs: a commit on a copy the other tab replaced, not yet synced, keeps both copies', async () => {
  const { server, first, second } = await twoTabs();
  const inFirst = await opened(first.engine, 'p1');
  const inSecond = await opened(second.engine, 'p1');
  const held = server.holdNext({ method: 'POST' });
  await commitText(inFirst, 'typed in tab one');
  await eventually(() => server.count('POST') === 2, "tab one's push in flight");

  await commitText(inSecond, 'typed in tab two');
  held.release();
  await first.engine.idle();

  assert.equal(await first.text('p1'), 'typed in tab two');
  const projects = await first.localStore.list();
  const copy = projects.find((project) => project.id !== 'p1');
  assert.ok(copy, `a conflicted copy: ${JSON.stringify(projects)}`);
  assert.match(copy.name, /^Project p1 \(conflicted copy, \d{4}-\d\d-\d\d \d\d:\d\d\)$/);
  assert.deepEqual(copy.data, { text: 'typed in tab one' });
  await eventually(() => server.project(ALICE.id, copy.id) !== undefined, 'the copy to sync');
  await first.engine.idle();
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'typed in tab two' });
  assert.deepEqual(server.project(ALICE.id, copy.id)?.data, { text: 'typed in tab one' });
  await Promise.all([first.close(), second.close()]);
});

test('signed out, a commit on a copy another tab replaced keeps both copies', async () => {
  const server = createFakeServer();
  const device = await createDevice(server);
  await device.save('p1', 'original');
  const inFirst = await opened(device.engine, 'p1');
  const inSecond = await opened(device.engine, 'p1');
  await commitText(inFirst, 'typed in tab one');
  await commitText(inSecond, 'typed in tab two');

  const texts = (await device.localStore.list()).map((project) => /** @type {any} */ (project.data).text).sort();
  assert.deepEqual(texts, ['typed in tab one', 'typed in tab two']);
  assert.equal(await device.text('p1'), 'typed in tab two');
  await device.close();
});

test('a commit with the same content as the copy that replaced its base is no conflict', async () => {
  const { server, laptop, phone } = await twoDevicesSharingAProject(ALICE);
  const editing = await opened(laptop.engine, 'p1');
  await phone.save('p1', 'same words');
  await phone.engine.idle();
  laptop.engine.syncNow();
  await laptop.engine.idle();

  await commitText(editing, 'same words');
  await laptop.engine.idle();
  assert.equal(laptop.engine.status().label, 'Synced');
  assert.equal((await laptop.localStore.list()).length, 1);
  assert.equal(server.project(ALICE.id, 'p1')?.revision, 2);
  await Promise.all([laptop.close(), phone.close()]);
});

test("a conflicted copy of another account's project stays that account's, never uploaded to the signed-in one", async () => {
  const server = createFakeServer();
  const device = await createDevice(server);
  await device.signIn(BOB);
  await device.save('bobs', "Bob's private notes", "Bob's project");
  await device.engine.idle();
  await device.signOut();
  await device.signIn(ALICE);
  assert.equal(device.engine.status().projects.bobs?.state, 'other-account');

  const inFirst = await opened(device.engine, 'bobs');
  const inSecond = await opened(device.engine, 'bobs');
  await inFirst.commit({ name: "Bob's project", data: { text: "Bob's notes, edited in tab one" } });
  await inSecond.commit({ name: "Bob's project", data: { text: 'edited in tab two' } });
  await device.engine.idle();
  assert.equal(server.projects(ALICE.id).length, 0, "nothing of Bob's reaches Alice's account");
  assert.equal((await device.localStore.list()).length, 2, 'both copies are kept here');

  await device.signOut();
  await device.signIn(BOB);
  const texts = server.projects(BOB.id).map((project) => /** @type {any} */ (project.data).text).sort();
  assert.deepEqual(texts, ["Bob's notes, edited in tab one", 'edited in tab two'], 'both reach Bob at his next sign-in');
  await device.close();
});

test('a stale commit on an edit not claimed yet keeps both copies instead of calling it the server copy', async () => {
  const server = createFakeServer();
  const indexedDB = new IDBFactory();
  const locks = createFakeLockManager();
  const tabs = createTabCoordination({ locks, channel: new BroadcastChannel(`unclaimed-${Math.random()}`) });
  const cookies = { userId: null };
  const device = await createDevice(server, { indexedDB, cookies, tabs });
  await device.signIn(ALICE);
  await device.save('p1', 'original');
  await device.engine.idle();
  await device.signOut();
  const inSecond = await opened(device.engine, 'p1');
  const inFirst = await opened(device.engine, 'p1');
  await commitText(inFirst, 'edited signed out in tab one');
  /** @type {() => void} */
  let releaseLeader = () => {};
  const leaderHeld = new Promise((resolve) => { releaseLeader = () => resolve(undefined); });
  // Another tab leads and has not run the claim yet.
  locks.request(`appframes-sync:leader:${ALICE.id}`, () => leaderHeld);
  cookies.userId = ALICE.id;
  await device.engine.setUser(ALICE);
  await commitText(inSecond, 'typed in tab two');
  releaseLeader();
  await eventually(() => server.projects(ALICE.id).length === 2, 'both copies on the server');
  await device.engine.idle();

  const texts = server.projects(ALICE.id).map((project) => /** @type {any} */ (project.data).text).sort();
  assert.deepEqual(texts, ['edited signed out in tab one', 'typed in tab two']);
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});

test('a pull held for typing goes through when the typing ends during the merge that held it', async () => {
  // One project per page: the merge holds p1 on its first page, and the typing ends while the
  // second page is on its way.
  const server = createFakeServer({ pageLimit: 1 });
  const laptop = await createDevice(server);
  await laptop.signIn(ALICE);
  await laptop.save('p1', 'original 1');
  await laptop.save('p2', 'original 2');
  await laptop.engine.idle();
  const editing = await opened(laptop.engine, 'p1');
  editing.edited();
  server.writeAsOtherDevice(ALICE.id, { id: 'p1', name: 'Project p1', data: { text: 'phone 1' } });
  server.writeAsOtherDevice(ALICE.id, { id: 'p2', name: 'Project p2', data: { text: 'phone 2' } });
  const feedRequestsBefore = server.feedRequests().length;
  const secondPage = server.holdNext({ method: 'GET', path: /^\/api\/changes$/, skip: 1 });
  laptop.engine.syncNow();
  await eventually(() => server.feedRequests().length === feedRequestsBefore + 2, 'the merge asking for its second page');
  assert.equal(await laptop.text('p1'), 'original 1', 'held on the first page');
  editing.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
  secondPage.release();
  await eventually(async () => (await laptop.text('p1')) === 'phone 1', 'the held pull of p1 after the editor closed', 1_500);
  await laptop.engine.idle();
  assert.equal(await laptop.text('p2'), 'phone 2');
  assert.equal(laptop.engine.status().label, 'Synced');
  await laptop.close();
});
