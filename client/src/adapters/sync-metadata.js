// Sync metadata in IndexedDB, in one database per signed-in user, so signing in as someone else
// on the same browser never reads or writes the previous account's queue or revisions.
import { inTransaction, openDatabase, readAll, readKeys, readOne, settled } from './idb.js';

/** @typedef {import('../sync-types.js').SyncMetadata} SyncMetadata */
/** @typedef {import('../sync-types.js').QueueEntry} QueueEntry */
/** @typedef {import('../sync-types.js').SyncErrorRecord} SyncErrorRecord */
/** @typedef {import('../sync-types.js').FeedPosition} FeedPosition */

const LAST_SYNCED = 'lastSyncedRevisionByProjectId';
const QUEUE = 'syncQueue';
const ERRORS = 'syncErrorsByProjectId';
/** Projects the feed moved past while an editor held typing on them: pulled one by one later. */
const OWED_PULLS = 'owedPulls';
/** One record: where this device is in the changes feed. */
const FEED = 'changesFeed';
const FEED_KEY = 'position';
const PER_PROJECT = [LAST_SYNCED, QUEUE, ERRORS, OWED_PULLS];

/** @param {string} userId */
export const metadataDatabaseName = (userId) => `appframes-sync:user:${userId}`;

/**
 * @param {IDBFactory} factory
 * @param {string} userId
 * @returns {Promise<SyncMetadata>}
 */
export async function openSyncMetadata(factory, userId) {
  // Version 2 added the feed position and the owed pulls; a version 1 database keeps its stores.
  const db = await openDatabase(factory, metadataDatabaseName(userId), 2, (upgraded) => {
    for (const store of PER_PROJECT) {
      if (!upgraded.objectStoreNames.contains(store)) upgraded.createObjectStore(store, { keyPath: 'projectId' });
    }
    if (!upgraded.objectStoreNames.contains(FEED)) upgraded.createObjectStore(FEED, { keyPath: 'key' });
  });

  /**
   * @template T
   * @param {string[]} stores
   * @param {(store: (name: string) => IDBObjectStore) => Promise<T>} work
   */
  const write = (stores, work) => inTransaction(db, stores, 'readwrite', work);

  /**
   * @param {Array<{ projectId: string, write: import('../sync-types.js').PendingWrite }>} writes
   */
  const beginWrites = (writes) =>
    write([QUEUE], async (store) => {
      /** @type {Array<QueueEntry | undefined>} */
      const queued = await readEach(store(QUEUE), writes.map((pending) => pending.projectId));
      writes.forEach((pending, index) => {
        const entry = queued[index];
        if (entry) store(QUEUE).put({ ...entry, write: pending.write });
      });
    });

  /**
   * @param {Array<{ projectId: string, change: number, revision: number }>} answers
   * @returns {Promise<boolean[]>}
   */
  const finishWrites = (answers) =>
    write([QUEUE, LAST_SYNCED, ERRORS], async (store) => {
      const projectIds = answers.map((answer) => answer.projectId);
      /** @type {[Array<QueueEntry | undefined>, Array<SyncErrorRecord | undefined>]} */
      const [queued, errors] = await Promise.all([readEach(store(QUEUE), projectIds), readEach(store(ERRORS), projectIds)]);
      return answers.map(({ projectId, change, revision }, index) => {
        const entry = queued[index];
        store(LAST_SYNCED).put({ projectId, revision });
        // A conflict parked while this write was in flight still waits for the user.
        if (errors[index]?.kind === 'error') store(ERRORS).delete(projectId);
        if (!entry) return true;
        if (entry.change === change) {
          store(QUEUE).delete(projectId);
          return true;
        }
        store(QUEUE).put(withoutWrite(entry));
        return false;
      });
    });

  return {
    userId,
    async lastSyncedRevision(projectId) {
      return (await readOne(db, LAST_SYNCED, projectId))?.revision ?? 0;
    },
    async lastSyncedRevisions() {
      const rows = await readAll(db, LAST_SYNCED);
      return new Map(rows.map((row) => [row.projectId, row.revision]));
    },
    setLastSyncedRevision: (projectId, revision) =>
      write([LAST_SYNCED], async (store) => { store(LAST_SYNCED).put({ projectId, revision }); }),
    queue: () => readAll(db, QUEUE),
    queuedIds: () => readKeys(db, QUEUE),
    queueEntry: (projectId) => readOne(db, QUEUE, projectId),
    enqueue: (projectIds, now) =>
      write([QUEUE, ERRORS], async (store) => {
        const ids = [...new Set(projectIds)];
        /** @type {[Array<QueueEntry | undefined>, Array<SyncErrorRecord | undefined>]} */
        const [queued, errors] = await Promise.all([readEach(store(QUEUE), ids), readEach(store(ERRORS), ids)]);
        ids.forEach((projectId, index) => {
          const entry = queued[index];
          // `change` must differ from every earlier value for this project, even one dequeued and
          // queued again, so it never goes below the clock.
          const change = Math.max(now, (entry?.change ?? 0) + 1);
          store(QUEUE).put({ ...entry, projectId, enqueuedAt: entry?.enqueuedAt ?? now, change });
          // A rejected write waits for the next edit; a conflict waits for the user, edits or not.
          if (errors[index]?.kind === 'error') store(ERRORS).delete(projectId);
        });
      }),
    beginWrite: (projectId, pendingWrite) => beginWrites([{ projectId, write: pendingWrite }]),
    beginWrites,
    finishWrite: async (projectId, change, revision) => (await finishWrites([{ projectId, change, revision }]))[0],
    finishWrites,
    pushStates: (projectIds) =>
      inTransaction(db, [QUEUE, ERRORS, LAST_SYNCED], 'readonly', async (store) => {
        const [entries, errors, synced] = await Promise.all(
          [QUEUE, ERRORS, LAST_SYNCED].map((name) => readEach(store(name), projectIds)),
        );
        return projectIds.map((_projectId, index) => ({
          entry: entries[index], error: errors[index], lastSyncedRevision: synced[index]?.revision ?? 0,
        }));
      }),
    abandonWrite: (projectId) =>
      write([QUEUE], async (store) => {
        /** @type {QueueEntry | undefined} */
        const queued = await settled(store(QUEUE).get(projectId));
        if (queued) store(QUEUE).put(withoutWrite(queued));
      }),
    acceptServer: (projectId, revision) =>
      write(PER_PROJECT, async (store) => { acceptInto(store, projectId, revision); }),
    forget: (projectId) =>
      write(PER_PROJECT, async (store) => { forgetIn(store, projectId); }),
    async feedPosition() {
      const { key: _key, ...position } = (await readOne(db, FEED, FEED_KEY)) ?? {};
      return position;
    },
    recordFeedPage: ({ accepted, forgotten, owed, position }) =>
      write([...PER_PROJECT, FEED], async (store) => {
        // Only records that exist are deleted: a page of 100 on a new device was 300 deletes of nothing.
        const keys = await Promise.all([QUEUE, ERRORS, OWED_PULLS].map((name) => settled(store(name).getAllKeys())));
        const tracked = new Set(keys.flat());
        for (const { projectId, revision } of accepted) acceptInto(store, projectId, revision, tracked);
        for (const projectId of forgotten) forgetIn(store, projectId);
        for (const projectId of owed) store(OWED_PULLS).put({ projectId });
        // In the same transaction as what the page changed: a crash re-reads the page, never skips it.
        store(FEED).put({ key: FEED_KEY, ...position });
      }),
    owedPulls: async () => (await readAll(db, OWED_PULLS)).map((row) => row.projectId),
    dropOwedPull: (projectId) => write([OWED_PULLS], async (store) => { store(OWED_PULLS).delete(projectId); }),
    errors: () => readAll(db, ERRORS),
    error: (projectId) => readOne(db, ERRORS, projectId),
    setError: (record) => write([ERRORS], async (store) => { store(ERRORS).put(record); }),
    clearError: (projectId) => write([ERRORS], async (store) => { store(ERRORS).delete(projectId); }),
    close: () => db.close(),
  };
}

/**
 * Every key's record, all asked for at once: one round trip to the database, not one per key.
 * @param {IDBObjectStore} store
 * @param {string[]} keys
 * @returns {Promise<any[]>}
 */
function readEach(store, keys) {
  return Promise.all(keys.map((key) => settled(store.get(key))));
}

/**
 * The server copy was taken: nothing queued, parked or owed for the project, synced at `revision`.
 * @param {(name: string) => IDBObjectStore} store
 * @param {string} projectId
 * @param {number} revision
 * @param {Set<IDBValidKey>} [tracked] the projects queued, parked or owed now, when known
 */
function acceptInto(store, projectId, revision, tracked) {
  if (!tracked || tracked.has(projectId)) for (const name of [QUEUE, ERRORS, OWED_PULLS]) store(name).delete(projectId);
  store(LAST_SYNCED).put({ projectId, revision });
}

/**
 * @param {(name: string) => IDBObjectStore} store
 * @param {string} projectId
 */
function forgetIn(store, projectId) {
  for (const name of PER_PROJECT) store(name).delete(projectId);
}

/**
 * @param {QueueEntry} entry
 * @returns {QueueEntry}
 */
function withoutWrite({ write: _answered, ...entry }) {
  return entry;
}
