// The sync metadata's batch forms (what a push of 100 projects reads and records in one
// transaction each) answer exactly as the single forms do, project by project.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IDBFactory } from 'fake-indexeddb';
import { openSyncMetadata } from '../src/adapters/sync-metadata.js';

/** @param {string} writeId @param {number} change @returns {import('../src/index.js').PendingWrite} */
const putWrite = (writeId, change) => ({ kind: 'put', writeId, change, baseRevision: 0, name: 'N', data: { text: writeId }, clientUpdatedAt: '2026-01-01T00:00:00Z' });

test('queuedIds names the queued projects without their pending writes', async () => {
  const metadata = await openSyncMetadata(new IDBFactory(), 'user-a');
  await metadata.enqueue(['b', 'a', 'b'], 1_000);
  await metadata.beginWrite('a', putWrite('w-a', 1_000));
  assert.deepEqual((await metadata.queuedIds()).sort(), ['a', 'b']);
  assert.equal((await metadata.queue()).length, 2, 'an id named twice is queued once');
  metadata.close();
});

test('pushStates reads each project\'s entry, error and revision; beginWrites stores writes only for queued projects', async () => {
  const metadata = await openSyncMetadata(new IDBFactory(), 'user-a');
  await metadata.enqueue(['a', 'b'], 1_000);
  await metadata.setLastSyncedRevision('b', 7);
  await metadata.setError({ projectId: 'b', kind: 'conflict', message: 'Changed elsewhere', at: 1 });
  await metadata.beginWrites([{ projectId: 'a', write: putWrite('w-a', 1_000) }, { projectId: 'never-queued', write: putWrite('w-x', 1) }]);

  const [a, b, none] = await metadata.pushStates(['a', 'b', 'never-queued']);
  assert.equal(a.entry?.write?.writeId, 'w-a');
  assert.equal(a.lastSyncedRevision, 0);
  assert.equal(b.entry?.write, undefined);
  assert.equal(b.error?.kind, 'conflict');
  assert.equal(b.lastSyncedRevision, 7);
  assert.deepEqual(none, { entry: undefined, error: undefined, lastSyncedRevision: 0 }, 'not queued: no entry made');
  metadata.close();
});

test('finishWrites records every revision and dequeues only the projects not edited since their write', async () => {
  const metadata = await openSyncMetadata(new IDBFactory(), 'user-a');
  await metadata.enqueue(['a', 'b', 'c'], 1_000);
  const [a, b, c] = await metadata.pushStates(['a', 'b', 'c']);
  await metadata.beginWrites([
    { projectId: 'a', write: putWrite('w-a', /** @type {number} */ (a.entry?.change)) },
    { projectId: 'b', write: putWrite('w-b', /** @type {number} */ (b.entry?.change)) },
  ]);
  await metadata.setError({ projectId: 'c', kind: 'conflict', message: 'Changed elsewhere', at: 1 });
  await metadata.enqueue(['b'], 2_000); // edited while its write was in flight

  const dequeued = await metadata.finishWrites([
    { projectId: 'a', change: /** @type {number} */ (a.entry?.change), revision: 1 },
    { projectId: 'b', change: /** @type {number} */ (b.entry?.change), revision: 4 },
    { projectId: 'c', change: /** @type {number} */ (c.entry?.change), revision: 2 },
  ]);
  assert.deepEqual(dequeued, [true, false, true]);
  assert.deepEqual(await metadata.queuedIds(), ['b']);
  assert.equal((await metadata.queueEntry('b'))?.write, undefined, 'the answered write is gone; the edit goes next');
  assert.deepEqual([...(await metadata.lastSyncedRevisions())].sort(), [['a', 1], ['b', 4], ['c', 2]]);
  assert.equal((await metadata.error('c'))?.kind, 'conflict', 'a conflict parked meanwhile still waits for the user');
  metadata.close();
});

test('recordFeedPage clears what was queued, parked or owed for the projects it accepts, and nothing else', async () => {
  const metadata = await openSyncMetadata(new IDBFactory(), 'user-a');
  await metadata.recordFeedPage({ accepted: [], forgotten: [], owed: ['owed', 'still-owed'], position: { cursor: 'c1' } });
  await metadata.setError({ projectId: 'parked', kind: 'error', message: 'Refused', at: 1 });
  await metadata.enqueue(['queued'], 1_000);

  await metadata.recordFeedPage({
    accepted: ['owed', 'parked', 'queued', 'new'].map((projectId) => ({ projectId, revision: 3 })),
    forgotten: [], owed: [], position: { cursor: 'c2' },
  });
  assert.deepEqual(await metadata.owedPulls(), ['still-owed']);
  assert.deepEqual(await metadata.errors(), []);
  assert.deepEqual(await metadata.queuedIds(), []);
  assert.deepEqual([...(await metadata.lastSyncedRevisions())].sort(), [['new', 3], ['owed', 3], ['parked', 3], ['queued', 3]]);
  assert.deepEqual(await metadata.feedPosition(), { cursor: 'c2' });
  metadata.close();
});
