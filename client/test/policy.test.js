// The pure decisions: backoff delays, the plan of a page of the changes feed and the conflict policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retryDelayMs } from '../src/backoff.js';
import { planPage, whoseStorageDecides } from '../src/merge.js';
import { decideDeleteConflict, decidePushConflict, sameJson } from '../src/conflict-policy.js';

const BACKOFF = { baseMs: 1_000, maxMs: 30_000 };

test('backoff doubles per attempt, keeps half fixed and half random, and stops at the ceiling', () => {
  assert.equal(retryDelayMs(1, BACKOFF, () => 0), 500);
  assert.equal(retryDelayMs(1, BACKOFF, () => 1), 1_000);
  assert.equal(retryDelayMs(3, BACKOFF, () => 0), 2_000);
  assert.equal(retryDelayMs(3, BACKOFF, () => 0.5), 3_000);
  assert.equal(retryDelayMs(20, BACKOFF, () => 1), 30_000);
  assert.equal(retryDelayMs(20, BACKOFF, () => 0), 15_000);
});

test('Retry-After from the server replaces the computed backoff', () => {
  assert.equal(retryDelayMs(1, BACKOFF, () => 0.5, 7), 7_000);
  assert.equal(retryDelayMs(9, BACKOFF, () => 0.5, 0), 0);
});

/** @param {string} id @param {number} revision @param {string | null} [deletedAt] */
const changed = (id, revision, deletedAt = null) => ({ id, name: id, data: deletedAt ? null : { id }, revision, updatedAt: '2026-01-01T00:00:00Z', deletedAt });

test('a page of the feed is planned as the spec merges, project by project', () => {
  const plan = planPage({
    changes: [
      changed('queued-and-newer', 5),
      changed('newer-on-server', 4),
      changed('same-revision', 2),
      changed('server-only', 1),
      changed('tombstone-here', 3, '2026-01-02T00:00:00Z'),
      changed('tombstone-queued', 3, '2026-01-02T00:00:00Z'),
      changed('tombstone-gone-here', 3, '2026-01-02T00:00:00Z'),
      changed('tombstone-never-seen', 1, '2026-01-02T00:00:00Z'),
      changed('other-account', 9),
      changed('typed-on', 7),
      changed('twice', 2),
      changed('twice', 3),
    ],
    deletedMeanwhile: {},
    localIds: new Set(['same-revision', 'tombstone-here', 'tombstone-queued']),
    otherAccountIds: new Set(['other-account']),
    queuedIds: new Set(['queued-and-newer', 'tombstone-queued']),
    typingIds: new Set(['typed-on']),
    lastSynced: new Map([['queued-and-newer', 1], ['newer-on-server', 3], ['same-revision', 2], ['tombstone-here', 2], ['tombstone-gone-here', 2], ['typed-on', 6], ['twice', 2]]),
  });
  assert.deepEqual(plan.adopt.map((server) => `${server.id}@${server.revision}`), ['newer-on-server@4', 'server-only@1', 'twice@3']);
  assert.deepEqual(plan.remove, ['tombstone-here']);
  assert.deepEqual(plan.forget, ['tombstone-gone-here']);
  assert.deepEqual(plan.owe, ['typed-on']);
});

test('at the end of a listing from scratch, what it never listed was deleted, unless pushed since it began', () => {
  const plan = planPage({
    changes: [changed('listed', 2)],
    deletedMeanwhile: { 'deleted-meanwhile': 2, 'pushed-since': 2, queued: 2, 'typed-on': 1 },
    localIds: new Set(['deleted-meanwhile', 'pushed-since', 'queued', 'typed-on']),
    otherAccountIds: new Set(),
    queuedIds: new Set(['queued']),
    typingIds: new Set(['typed-on']),
    lastSynced: new Map([['listed', 2], ['deleted-meanwhile', 2], ['pushed-since', 3], ['queued', 2], ['typed-on', 1]]),
  });
  assert.deepEqual(plan.adopt.map((server) => server.id), ['listed'], 'not stored here: taken again');
  assert.deepEqual(plan.remove, ['deleted-meanwhile']);
  assert.deepEqual(plan.owe, ['typed-on']);
});

test('only the projects whose plan depends on their local copy are read from the store', () => {
  const deciding = whoseStorageDecides({
    changes: [changed('newer', 3), changed('same', 2), changed('tombstone', 4, '2026-01-02T00:00:00Z')],
    deletedMeanwhile: { unlisted: 1 },
    lastSynced: new Map([['newer', 2], ['same', 2]]),
  });
  assert.deepEqual(deciding, ['same', 'tombstone', 'unlisted']);
});

test('a 409 carrying exactly what was sent adopts the server revision; anything else asks the user', () => {
  const server = { id: 'p', name: 'N', data: { b: 1, a: [1, { c: 2 }] }, revision: 4, updatedAt: '', deletedAt: null };
  assert.equal(decidePushConflict({ name: 'N', data: { a: [1, { c: 2 }], b: 1 } }, server), 'adopt-server-revision');
  assert.equal(decidePushConflict({ name: 'Renamed', data: server.data }, server), 'ask-user');
  assert.equal(decidePushConflict({ name: 'N', data: { a: [1, { c: 3 }], b: 1 } }, server), 'ask-user');
  assert.equal(decidePushConflict({ name: 'N', data: server.data }, { ...server, deletedAt: '2026-01-01' }), 'ask-user');
});

test('a delete that meets an edit restores it, meets a tombstone is done, meets a re-creation asks', () => {
  const server = { id: 'p', name: 'N', data: {}, revision: 4, updatedAt: '', deletedAt: null };
  assert.equal(decideDeleteConflict(server, false), 'restore-server-copy');
  assert.equal(decideDeleteConflict({ ...server, deletedAt: '2026-01-01' }, false), 'already-deleted');
  assert.equal(decideDeleteConflict(server, true), 'ask-user');
});

test('JSON equality ignores key order but not values, arrays or types', () => {
  assert.ok(sameJson({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 }));
  assert.ok(!sameJson([1, 2], [2, 1]));
  assert.ok(!sameJson({ a: 1 }, { a: '1' }));
  assert.ok(!sameJson({ a: undefined }, { b: undefined }));
  assert.ok(!sameJson([], {}));
  assert.ok(!sameJson(null, {}));
});
