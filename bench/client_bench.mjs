// Client sync benchmark: the real engine and IndexedDB adapters (on fake-indexeddb, in Node) against
// the in-memory fake server from the client's tests, which counts requests and can add latency.
//
//   node bench/client_bench.mjs          (needs `cd client && npm ci` first)
//
// Scenarios: claim 500 local projects at first sign-in (batched pushes, target <= 6 requests);
// merge 1,000 projects on a brand-new device (every page of the changes feed, target <= 12); a
// returning device when nothing changed (target: 1 request, a response under 1 KiB); and a
// returning device after 50 changed and 25 deleted elsewhere and 25 edited here. Each runs with no
// network latency (the engine's own cost) and with 20 ms per request.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const client = new URL('../client/', import.meta.url);
const requireFromClient = createRequire(new URL('package.json', client));
const { IDBFactory } = await import(requireFromClient.resolve('fake-indexeddb'));
const { createSyncEngine, openIndexedDbProjectStore } = await import(new URL('src/index.js', client).href);
const { createFakeServer } = await import(new URL('test/support/fake-server.js', client).href);

const USER = { id: 'bench-user' };
const LATENCIES_MS = [0, 20];

/**
 * @param {ReturnType<typeof createFakeServer>} server
 * @param {number} latencyMs
 */
function fetchWithLatency(server, latencyMs) {
  const send = server.fetchAs(USER.id);
  return async (/** @type {any} */ input, /** @type {any} */ init) => {
    if (latencyMs) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    return send(input, init);
  };
}

/**
 * One browser profile: its IndexedDB and the editor's project store; engines are opened over it
 * with a given network latency (a page load).
 * @param {ReturnType<typeof createFakeServer>} server
 */
async function createBrowser(server) {
  const indexedDB = new IDBFactory();
  const localStore = await openIndexedDbProjectStore({ indexedDB });
  const startEngine = (/** @type {number} */ latencyMs) => createSyncEngine({
    localStore, indexedDB, fetch: fetchWithLatency(server, latencyMs), baseUrl: 'http://bench.local',
    signals: {}, debounceMs: 0, pollMs: 0,
  });
  return { localStore, startEngine };
}

/** @param {number} index */
const projectOf = (index) => ({ id: `project-${String(index).padStart(4, '0')}`, name: `Project ${index}`, data: { text: `text ${index}`, frames: [index, index + 1] } });

/**
 * Times `work` and counts the requests it made, by kind, and the bytes they answered with.
 * @param {ReturnType<typeof createFakeServer>} server
 * @param {() => Promise<void>} work
 */
async function measure(server, work) {
  const before = server.requests.length;
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  const made = server.requests.slice(before);
  const count = (/** @type {(request: any) => boolean} */ matches) => made.filter(matches).length;
  return {
    ms,
    feed: count((request) => request.method === 'GET' && request.path.startsWith('/api/changes')),
    batch: count((request) => request.method === 'POST'),
    get: count((request) => request.method === 'GET' && request.path.startsWith('/api/projects/')),
    put: count((request) => request.method === 'PUT'),
    delete: count((request) => request.method === 'DELETE'),
    responseBytes: made.reduce((sum, request) => sum + (request.responseBytes ?? 0), 0),
  };
}

/** @param {number} latencyMs */
async function claimFiveHundred(latencyMs) {
  const server = createFakeServer({ maxBodyBytes: 4 * 1024 * 1024 });
  const browser = await createBrowser(server);
  for (let index = 0; index < 500; index += 1) await browser.localStore.put(projectOf(index));
  const engine = browser.startEngine(latencyMs);
  const result = await measure(server, async () => {
    await engine.setUser(USER);
    await engine.idle();
  });
  assertSynced(engine, server.projects(USER.id).length === 500);
  await engine.stop();
  return result;
}

/** @param {number} latencyMs */
async function pullThousandOnNewDevice(latencyMs) {
  const server = createFakeServer();
  for (let index = 0; index < 1000; index += 1) server.writeAsOtherDevice(USER.id, projectOf(index));
  const browser = await createBrowser(server);
  const engine = browser.startEngine(latencyMs);
  const result = await measure(server, async () => {
    await engine.setUser(USER);
    await engine.idle();
  });
  assertSynced(engine, (await browser.localStore.list()).length === 1000);
  await engine.stop();
  return { result, server, browser };
}

/**
 * Setup (not timed): a device that synced 1,000 projects, then closed.
 * @returns {Promise<Awaited<ReturnType<typeof pullThousandOnNewDevice>>>}
 */
const returningDevice = () => pullThousandOnNewDevice(0);

/** @param {number} latencyMs */
async function returnWithNothingChanged(latencyMs) {
  const { server, browser } = await returningDevice();
  const engine = browser.startEngine(latencyMs);
  const result = await measure(server, async () => {
    await engine.setUser(USER);
    await engine.idle();
  });
  assertSynced(engine, (await browser.localStore.list()).length === 1000);
  await engine.stop();
  return result;
}

/** @param {number} latencyMs */
async function returnAfterChanges(latencyMs) {
  const { server, browser } = await returningDevice();
  for (let index = 0; index < 50; index += 1) server.writeAsOtherDevice(USER.id, { ...projectOf(index), data: { text: 'changed elsewhere' } });
  for (let index = 50; index < 75; index += 1) server.deleteAsOtherDevice(USER.id, projectOf(index).id);
  const signedOut = browser.startEngine(0); // edits made signed out are kept for the next sign-in
  for (let index = 75; index < 100; index += 1) await signedOut.saveProject({ ...projectOf(index), name: `Edited here ${index}` });
  await signedOut.stop();

  const engine = browser.startEngine(latencyMs);
  const result = await measure(server, async () => {
    await engine.setUser(USER);
    await engine.idle();
  });
  assertSynced(engine, (await browser.localStore.list()).length === 975);
  await engine.stop();
  return result;
}

/**
 * @param {{ status(): { label: string } }} engine
 * @param {boolean} outcomeHolds
 */
function assertSynced(engine, outcomeHolds) {
  if (engine.status().label !== 'Synced' || !outcomeHolds) {
    throw new Error(`Benchmark run did not end synced: ${JSON.stringify(engine.status())}`);
  }
}

const scenarios = [
  ['Claim 500 local projects (first sign-in)', claimFiveHundred, 'target <= 6'],
  ['Merge 1,000 on load, new device', async (/** @type {number} */ latency) => (await pullThousandOnNewDevice(latency)).result, 'target <= 12'],
  ['Returning device, nothing changed', returnWithNothingChanged, 'target 1, < 1 KiB'],
  ['Returning device, 50 changed + 25 deleted elsewhere, 25 edited here', returnAfterChanges, ''],
];

const rows = [];
for (const [name, run, target] of scenarios) {
  const timings = [];
  let counts;
  for (const latency of LATENCIES_MS) {
    const measured = await /** @type {(latency: number) => Promise<any>} */ (run)(latency);
    timings.push(measured.ms);
    counts ??= measured;
  }
  rows.push({ name, counts, timings, target });
}

const header = ['Scenario', 'Requests (feed/batch/GET/PUT/DELETE)', 'Target', 'Response bytes', ...LATENCIES_MS.map((ms) => `Time, ${ms} ms/request`)];
const lines = rows.map(({ name, counts, timings, target }) => [
  name,
  `${counts.feed + counts.batch + counts.get + counts.put + counts.delete} (${counts.feed}/${counts.batch}/${counts.get}/${counts.put}/${counts.delete})`,
  String(target),
  formatBytes(counts.responseBytes),
  ...timings.map((ms) => `${(ms / 1000).toFixed(2)} s`),
]);
const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column].length)));
const format = (/** @type {string[]} */ cells) => `| ${cells.map((cell, column) => cell.padEnd(widths[column])).join(' | ')} |`;
console.log(`Client sync benchmark (Node ${process.versions.node}, fake-indexeddb, concurrency 4, debounce 0)`);
console.log(format(header));
console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
for (const line of lines) console.log(format(line));

/** @param {number} bytes */
function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
