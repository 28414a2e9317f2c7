// The pure decisions: backoff delays, the merge plan and the conflict policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retryDelayMs } from '../src/backoff.js';
import { planMerge } from '../src/merge.js';
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
const listed = (id, revision, deletedAt = null) => ({ id, name: id, revision, updatedAt: '2026-01-01T00:00:00Z', deletedAt });

test('merge plan follows the spec, project by project', () => {
  const plan = planMerge({
    serverList: [
      listed('queued-and-newer', 5),
      listed('newer-on-server', 4),
      listed('same-revision', 2),
      listed('server-only', 1),
      listed('tombstone-here', 3, '2026-01-02T00:00:00Z'),
      listed('tombstone-queued', 3, '2026-01-02T00:00:00Z'),
      listed('tombstone-gone-here', 3, '2026-01-02T00:00:00Z'),
      listed('tombstone-never-seen', 1, '2026-01-02T00:00:00Z'),
      listed('other-account', 9),
    ],
    localIds: new Set(['queued-and-newer', 'newer-on-server', 'same-revision', 'tombstone-here', 'tombstone-queued', 'other-account', 'local-only']),
    otherAccountIds: new Set(['other-account']),
    queuedIds: new Set(['queued-and-newer', 'tombstone-queued']),
    lastSynced: new Map([['queued-and-newer', 1], ['newer-on-server', 3], ['same-revision', 2], ['tombstone-here', 2], ['tombstone-gone-here', 2]]),
  });
  assert.deepEqual(plan.pull.map((entry) => entry.id), ['newer-on-server', 'server-only']);
  assert.deepEqual(plan.removeLocally.map((entry) => entry.id), ['tombstone-here']);
  assert.deepEqual(plan.forget.map((entry) => entry.id), ['tombstone-gone-here']);
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
