// Merge on load through the changes feed: a new device pages through everything, a returning
// device asks once from its cursor, a crash mid-page re-reads that page, an expired cursor lists
// from scratch without losing unsynced edits, and a pull held for typing is still pulled later.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IDBFactory, IDBObjectStore } from 'fake-indexeddb';
import { openIndexedDbProjectStore } from '../src/index.js';
import { createFakeServer } from './support/fake-server.js';
import { createDevice, eventually } from './support/devices.js';

const ALICE = { id: 'user-alice' };

/** @param {number} index */
const projectNamed = (index) => ({ id: `p${String(index).padStart(3, '0')}`, name: `Project ${index}`, data: { text: `text ${index}` } });

/**
 * @param {ReturnType<typeof createFakeServer>} server
 * @param {number} count
 */
function serverWithProjects(server, count) {
  for (let index = 0; index < count; index += 1) server.writeAsOtherDevice(ALICE.id, projectNamed(index));
  return server;
}

/** @param {{ path: string }} request */
const sinceOf = (request) => new URL(request.path, 'http://app.test').searchParams.get('since');

test('a new device pages through the whole feed, taking the data from the pages themselves', async () => {
  const server = serverWithProjects(createFakeServer({ pageLimit: 100 }), 250);
  const device = await createDevice(server);
  /** @type {string[][]} */
  const announced = [];
  device.engine.on('local-change', ({ projectIds }) => announced.push(projectIds));
  await device.signIn(ALICE);

  const feed = server.feedRequests();
  assert.equal(feed.length, 3);
  assert.equal(sinceOf(feed[0]), null, 'a device without a cursor lists from scratch');
  assert.equal(sinceOf(feed[1]), feed[0].response.cursor);
  assert.equal(sinceOf(feed[2]), feed[1].response.cursor);
  assert.equal(server.requests.length, 3, 'no per-project GET: the pages carry the data');
  assert.equal((await device.localStore.list()).length, 250);
  assert.equal(await device.text('p249'), 'text 249');
  assert.deepEqual(announced.map((projectIds) => projectIds.length), [100, 100, 50], 'one local-change per page');
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});

test('the next page is asked for while the page before it is applied', async () => {
  const server = serverWithProjects(createFakeServer({ pageLimit: 10 }), 30);
  const indexedDB = new IDBFactory();
  const store = await openIndexedDbProjectStore({ indexedDB });
  /** @type {Promise<number>[]} */
  const storedWhenAsked = [];
  /** @type {typeof fetch} */
  const fetchCountingStored = (input, init) => {
    // Read in the same turn as the request: what the device had applied when it asked.
    if (String(input).includes('/api/changes')) storedWhenAsked.push(store.list().then((projects) => projects.length));
    return server.fetchAs(ALICE.id)(input, init);
  };
  const device = await createDevice(server, { indexedDB, engineOptions: { fetch: fetchCountingStored } });
  await device.signIn(ALICE);

  assert.deepEqual(await Promise.all(storedWhenAsked), [0, 0, 10], 'page 2 asked before page 1 was stored, page 3 before page 2');
  assert.equal((await device.localStore.list()).length, 30);
  assert.equal(device.engine.status().label, 'Synced');
  store.close();
  await device.close();
});

test('a returning device with nothing changed makes one small request, and writes nothing', async () => {
  const server = serverWithProjects(createFakeServer(), 30);
  const device = await createDevice(server);
  await device.signIn(ALICE);
  const before = server.requests.length;

  await device.reload();
  await device.engine.idle();
  const made = server.requests.slice(before);
  assert.equal(made.length, 1);
  assert.deepEqual(made[0].response, { changes: [], cursor: sinceOf(made[0]), more: false });
  assert.ok(/** @type {number} */ (made[0].responseBytes) < 1024, `${made[0].responseBytes} bytes`);
  await device.close();
});

test('a crash while a page is applied re-reads that page: the cursor never skips it', async () => {
  const server = serverWithProjects(createFakeServer({ pageLimit: 10 }), 25);
  const device = await createDevice(server);
  // The tab dies (here: the disk refuses) while the second page's metadata is written.
  const realPut = IDBObjectStore.prototype.put;
  let feedWrites = 0;
  IDBObjectStore.prototype.put = function dieOnSecondPage(...args) {
    if (this.name === 'changesFeed' && (feedWrites += 1) === 2) throw new DOMException('The tab died', 'AbortError');
    return realPut.apply(this, args);
  };
  try {
    await device.signIn(ALICE);
  } finally {
    IDBObjectStore.prototype.put = realPut;
  }
  await device.engine.idle();

  const sinces = server.feedRequests().map(sinceOf);
  const [first, second] = server.feedRequests().map((request) => request.response.cursor);
  // The third page was asked for while the second was applied; the stored cursor still says the first.
  assert.deepEqual(sinces.slice(0, 5), [null, first, second, first, second], 'the second page is asked again, then the third');
  assert.equal((await device.localStore.list()).length, 25);
  assert.equal(device.engine.status().label, 'Synced');

  server.writeAsOtherDevice(ALICE.id, { id: 'p007', name: 'Seven', data: { text: 'changed' } });
  device.engine.syncNow();
  await device.engine.idle();
  assert.equal(await device.text('p007'), 'changed', 'the cursor continues from the last page applied');
  await device.close();
});

test('an expired cursor (410) lists from scratch: unsynced edits stay and are pushed, projects deleted meanwhile go', async () => {
  const server = serverWithProjects(createFakeServer(), 4);
  const laptop = await createDevice(server);
  await laptop.signIn(ALICE);
  laptop.setOffline(true);
  await laptop.save('p000', 'edited offline');
  await laptop.engine.deleteProject('p003');
  server.writeAsOtherDevice(ALICE.id, { id: 'p001', name: 'One', data: { text: 'changed elsewhere' } });
  server.deleteAsOtherDevice(ALICE.id, 'p002');
  server.writeAsOtherDevice(ALICE.id, { id: 'new', name: 'New', data: { text: 'made elsewhere' } });
  server.purgeTombstones(ALICE.id); // p002's tombstone is gone: only its absence tells

  laptop.setOffline(false);
  laptop.engine.syncNow();
  await laptop.engine.idle();

  const [expired, fromScratch] = server.feedRequests().slice(-2);
  assert.equal(expired.status, 410);
  assert.equal(sinceOf(fromScratch), null);
  assert.equal(await laptop.text('p000'), 'edited offline');
  assert.deepEqual(server.project(ALICE.id, 'p000')?.data, { text: 'edited offline' }, 'the unsynced edit was pushed');
  assert.equal(await laptop.text('p001'), 'changed elsewhere');
  assert.equal(await laptop.localStore.get('p002'), undefined, 'deleted on the server meanwhile: removed here');
  assert.equal(await laptop.text('new'), 'made elsewhere');
  assert.ok(server.project(ALICE.id, 'p003')?.deletedAt, 'the deletion made here reached the server');
  assert.equal(laptop.engine.status().label, 'Synced');
  await laptop.close();
});

test('a project skipped for typing is owed: pulled once the typing ended, even after a reload', async () => {
  const server = serverWithProjects(createFakeServer(), 2);
  const laptop = await createDevice(server);
  await laptop.signIn(ALICE);
  const editing = laptop.engine.openProject('p000');
  await editing.ready;
  editing.edited();
  server.writeAsOtherDevice(ALICE.id, { id: 'p000', name: 'Zero', data: { text: 'from the phone' } });
  server.writeAsOtherDevice(ALICE.id, { id: 'p001', name: 'One', data: { text: 'also from the phone' } });

  laptop.engine.syncNow();
  await laptop.engine.idle();
  assert.equal(await laptop.text('p000'), 'text 0', 'not replaced under the typing');
  assert.equal(await laptop.text('p001'), 'also from the phone');
  assert.equal(laptop.engine.status().projects.p000?.state, 'changed-on-server');

  // The page closes with the typing never committed; the cursor has moved past p000.
  await laptop.reload();
  await laptop.engine.idle();
  assert.equal(await laptop.text('p000'), 'from the phone', 'the owed pull was made');
  const gets = server.requests.filter((request) => request.method === 'GET' && request.path === '/api/projects/p000');
  assert.equal(gets.length, 1, 'by its own GET');
  assert.equal(laptop.engine.status().label, 'Synced');

  laptop.engine.syncNow();
  await laptop.engine.idle();
  assert.equal(server.requests.filter((request) => request.path === '/api/projects/p000').length, 1, 'and owed no more');
  await laptop.close();
});

test('a project skipped for typing and then committed is pushed, and meets the server copy as a conflict', async () => {
  const server = serverWithProjects(createFakeServer(), 1);
  const laptop = await createDevice(server);
  await laptop.signIn(ALICE);
  const editing = laptop.engine.openProject('p000');
  await editing.ready;
  editing.edited();
  server.writeAsOtherDevice(ALICE.id, { id: 'p000', name: 'Project 0', data: { text: 'from the phone' } });
  laptop.engine.syncNow();
  await laptop.engine.idle();

  await editing.commit({ name: 'Project 0', data: { text: 'typed on the laptop' } });
  await eventually(() => laptop.engine.status().projects.p000?.state === 'conflict', 'the conflict');
  await laptop.engine.idle();
  assert.equal(await laptop.text('p000'), 'typed on the laptop');
  assert.equal(server.requests.filter((request) => request.path === '/api/projects/p000').length, 0, 'queued: the push decides, no owed GET');
  await laptop.close();
});

test("an editor's store without writeBatch gets the page project by project", async () => {
  const server = serverWithProjects(createFakeServer(), 3);
  server.deleteAsOtherDevice(ALICE.id, 'p002');
  const device = await createDevice(server);
  await device.signIn(ALICE);
  server.writeAsOtherDevice(ALICE.id, { id: 'p000', name: 'Zero', data: { text: 'changed' } });
  server.deleteAsOtherDevice(ALICE.id, 'p001');
  delete device.localStore.writeBatch;

  device.engine.syncNow();
  await device.engine.idle();
  assert.equal(await device.text('p000'), 'changed');
  assert.equal(await device.localStore.get('p001'), undefined);
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});

test('the page asked for ahead failing (401, 503, a lost answer) leaves the page before it applied, and is asked again from there', async () => {
  for (const failure of /** @type {const} */ (['signed out', 'server error', 'lost answer'])) {
    const server = serverWithProjects(createFakeServer({ pageLimit: 10 }), 25);
    const device = await createDevice(server);
    // The first request (from scratch) passes; the second, asked while the first page is applied, fails.
    const spec = { method: 'GET', path: /^\/api\/changes$/, skip: 1 };
    if (failure === 'signed out') server.failNext({ ...spec, status: 401 });
    else if (failure === 'server error') server.failNext({ ...spec, status: 503 });
    else server.loseNextResponse(spec);
    await device.signIn(ALICE);
    if (failure === 'signed out') {
      assert.equal(device.engine.status().label, 'Sync error', 'a lost session is told, not skipped');
      assert.equal((await device.localStore.list()).length, 10, 'the first page stays applied');
      await device.signIn(ALICE);
    }
    await device.engine.idle();

    const [first] = server.feedRequests().map((request) => request.response?.cursor);
    const sinces = server.feedRequests().map(sinceOf);
    assert.deepEqual(sinces.slice(0, 3), [null, first, first], `${failure}: the failed page is asked again from the first page's cursor`);
    assert.equal((await device.localStore.list()).length, 25, failure);
    assert.equal(device.engine.status().label, 'Synced', failure);
    await device.close();
  }
});

test('an edit saved while the page asked for ahead is on its way is kept, even against that page\'s tombstone', async () => {
  const server = serverWithProjects(createFakeServer({ pageLimit: 10 }), 25);
  /** @type {Promise<void> | undefined} */
  let gate;
  let openGate = () => {};
  let pagesAsked = 0;
  /** @type {typeof fetch} */
  const fetchHoldingSecondPage = async (input, init) => {
    const response = await server.fetchAs(ALICE.id)(input, init);
    // The server answered already; the answer reaches the device only once the gate opens.
    if (gate && String(input).includes('/api/changes') && (pagesAsked += 1) === 2) await gate;
    return response;
  };
  const device = await createDevice(server, { engineOptions: { fetch: fetchHoldingSecondPage } });
  await device.signIn(ALICE);
  for (let index = 0; index < 19; index += 1) server.writeAsOtherDevice(ALICE.id, { ...projectNamed(index), data: { text: 'elsewhere' } });
  server.deleteAsOtherDevice(ALICE.id, 'p019');

  gate = new Promise((resolve) => { openGate = () => resolve(undefined); });
  const feedAsked = server.feedRequests().length;
  device.engine.syncNow();
  await eventually(() => server.feedRequests().length === feedAsked + 2, 'the second page is answered, not yet read');
  await device.save('p019', 'edited here');
  openGate();
  await device.engine.idle();

  assert.equal(await device.text('p000'), 'elsewhere', 'the first page was applied');
  assert.equal(await device.text('p019'), 'edited here', 'the tombstone of the page in flight did not remove the edit');
  assert.equal(device.engine.status().projects.p019?.state, 'conflict', 'deleted elsewhere while edited here: the user decides');
  await device.close();
});
