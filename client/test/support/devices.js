// Test devices: each is one browser profile (its own IndexedDB) running the real engine and
// adapters against the fake server, with a clock that runs a hundred times faster than real time.
import assert from 'node:assert/strict';
import { IDBFactory } from 'fake-indexeddb';
import { createSyncEngine, openIndexedDbProjectStore, createSingleTabCoordination } from '../../src/index.js';
import { createTabCoordination } from '../../src/adapters/tabs.js';
import { createFakeLockManager } from './fake-locks.js';
import { createFakeServer } from './fake-server.js';

/**
 * Timers whose clock runs `scale` times faster than real time; every requested delay is recorded.
 * @param {number} [scale]
 */
export function fastTimers(scale = 100) {
  const start = Date.now();
  /** @type {number[]} */
  const requestedDelays = [];
  return {
    scale,
    requestedDelays,
    now: () => start + (Date.now() - start) * scale,
    /** @param {() => void} callback @param {number} ms */
    setTimeout: (callback, ms) => {
      requestedDelays.push(ms);
      return setTimeout(callback, ms / scale);
    },
    /** @param {any} handle */
    clearTimeout: (handle) => clearTimeout(handle),
  };
}

/**
 * @param {ReturnType<typeof import('./fake-server.js').createFakeServer>} server
 * Tabs of one browser share `indexedDB` and `cookies`. With `sessionToken` the device is in bearer
 * mode: the server knows the user only from the token that function gives.
 * @param {{ indexedDB?: IDBFactory, cookies?: { userId: string | null }, tabs?: any, signals?: any, engineOptions?: object, sessionToken?: import('../../src/index.js').SessionTokenSource }} [options]
 */
export async function createDevice(server, { indexedDB = new IDBFactory(), cookies = { userId: null }, tabs, signals = {}, engineOptions = {}, sessionToken } = {}) {
  let offline = false;
  const localStore = await openIndexedDbProjectStore({ indexedDB });
  const timers = fastTimers();
  let writeCounter = 0;
  const deviceName = Math.random().toString(36).slice(2, 8);

  const startEngine = () => createSyncEngine({
    localStore,
    indexedDB,
    fetch: async (input, init) => {
      if (offline) throw new TypeError('Failed to fetch');
      return sessionToken ? server.fetchWithBearer(input, init) : server.fetchAs(cookies.userId)(input, init);
    },
    auth: sessionToken ? { mode: 'bearer', sessionToken } : undefined,
    baseUrl: 'http://app.test',
    tabs: tabs ?? createSingleTabCoordination(),
    signals,
    timers,
    random: () => 0.5,
    newWriteId: () => `${deviceName}-write-${(writeCounter += 1)}`,
    debounceMs: 50,
    pollMs: 0,
    backoff: { baseMs: 100, maxMs: 2_000 },
    ...engineOptions,
  });

  const device = {
    indexedDB,
    localStore,
    timers,
    engine: startEngine(),
    /** @param {{ id: string, email?: string }} user */
    async signIn(user) {
      cookies.userId = user.id;
      await device.engine.setUser(user);
      await device.engine.idle();
    },
    /** This device alone loses (or regains) the network. */
    /** @param {boolean} value */
    setOffline(value) { offline = value; },
    async signOut() {
      cookies.userId = null;
      await device.engine.setUser(null);
    },
    /** The page is closed and opened again: a new engine over the same IndexedDB. */
    async reload() {
      await device.engine.stop();
      device.engine = startEngine();
      if (cookies.userId) await device.engine.setUser({ id: cookies.userId });
    },
    /** @param {string} id @param {string} text @param {string} [name] */
    save: (id, text, name = `Project ${id}`) => device.engine.saveProject({ id, name, data: { text } }),
    /** @param {string} id */
    async text(id) {
      const project = await localStore.get(id);
      return /** @type {{ text?: string } | undefined} */ (project?.data)?.text;
    },
    async close() {
      await device.engine.stop();
      localStore.close();
    },
  };
  return device;
}

/**
 * Resolves once `predicate` holds, polling; fails the test with `what` after `timeoutMs`.
 * @param {() => boolean | Promise<boolean>} predicate
 * @param {string} what
 * @param {number} [timeoutMs]
 */
export async function eventually(predicate, what, timeoutMs = 3_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Two devices of `user`, both holding project p1 ("original") at revision 1.
 * @param {{ id: string }} user
 */
export async function twoDevicesSharingAProject(user) {
  const server = createFakeServer();
  const laptop = await createDevice(server);
  const phone = await createDevice(server);
  await laptop.signIn(user);
  await laptop.save('p1', 'original');
  await laptop.engine.idle();
  await phone.signIn(user);
  assert.equal(await phone.text('p1'), 'original');
  return { server, laptop, phone };
}

/** Two tabs of one browser (one IndexedDB, one cookie jar, Web Locks and a BroadcastChannel), signed out. */
export async function twoTabsOfOneBrowser() {
  const server = createFakeServer();
  const indexedDB = new IDBFactory();
  const locks = createFakeLockManager();
  const channelName = `tabs-${Math.random()}`;
  const tab = () => createTabCoordination({ locks, channel: new BroadcastChannel(channelName) });
  const cookies = { userId: null };
  const first = await createDevice(server, { indexedDB, cookies, tabs: tab() });
  const second = await createDevice(server, { indexedDB, cookies, tabs: tab() });
  return { server, first, second };
}

/**
 * Two tabs of one browser signed in as `user`: p1 ("original") was changed by another device while
 * tab two edited it, so p1 is a conflict, awaited as seen by the tab named `seenBy`.
 * @param {{ id: string }} user
 * @param {'first' | 'second'} seenBy
 */
export async function twoTabsWithAConflict(user, seenBy) {
  const tabs = await twoTabsOfOneBrowser();
  const { server, first, second } = tabs;
  await first.signIn(user);
  await second.engine.setUser(user);
  await first.save('p1', 'original');
  await first.engine.idle();
  server.writeAsOtherDevice(user.id, { id: 'p1', name: 'Project p1', data: { text: 'from another device' } });
  await second.save('p1', 'edited in tab two');
  const tab = tabs[seenBy];
  await eventually(() => tab.engine.status().projects.p1?.state === 'conflict', `the conflict in tab ${seenBy === 'first' ? 'one' : 'two'}`);
  return tabs;
}
