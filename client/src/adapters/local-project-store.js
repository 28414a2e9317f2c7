// A local project store in IndexedDB, as the editor keeps it. The demo uses it; an editor with its
// own store hands the engine an object with the same four methods instead (and `writeBatch` and
// `ids` if it can).
import { inTransaction, openDatabase, readAll, readKeys, readOne } from './idb.js';

/** @typedef {import('../sync-types.js').LocalProject} LocalProject */
/** @typedef {import('../sync-types.js').LocalProjectStore} LocalProjectStore */

const PROJECTS = 'projects';

/**
 * @param {{ indexedDB: IDBFactory, name?: string }} options
 * @returns {Promise<LocalProjectStore & { close(): void }>}
 */
export async function openIndexedDbProjectStore({ indexedDB, name = 'appframes-projects' }) {
  const db = await openDatabase(indexedDB, name, 1, (fresh) => {
    fresh.createObjectStore(PROJECTS, { keyPath: 'id' });
  });
  return {
    list: () => readAll(db, PROJECTS),
    ids: () => readKeys(db, PROJECTS),
    get: (id) => readOne(db, PROJECTS, id),
    put: (project) =>
      inTransaction(db, [PROJECTS], 'readwrite', async (store) => {
        store(PROJECTS).put({ id: project.id, name: project.name, data: project.data });
      }),
    remove: (id) =>
      inTransaction(db, [PROJECTS], 'readwrite', async (store) => { store(PROJECTS).delete(id); }),
    writeBatch: ({ put, remove }) =>
      inTransaction(db, [PROJECTS], 'readwrite', async (store) => {
        for (const project of put) store(PROJECTS).put({ id: project.id, name: project.name, data: project.data });
        for (const id of remove) store(PROJECTS).delete(id);
      }),
    close: () => db.close(),
  };
}
