// The device-wide table of which account each local project belongs to. The editor's local store
// is shared by everyone who uses this browser; this table is what keeps one account's projects
// out of another account at sign-in, and what remembers edits made while signed out.
import { inTransaction, openDatabase, readAll, readOne, settled } from './idb.js';

/** @typedef {import('../sync-types.js').DeviceProjects} DeviceProjects */
/** @typedef {import('../sync-types.js').DeviceProjectRecord} DeviceProjectRecord */

const PROJECTS = 'projects';
export const DEVICE_DATABASE_NAME = 'appframes-sync:device';

/**
 * @param {IDBFactory} factory
 * @returns {Promise<DeviceProjects>}
 */
export async function openDeviceProjects(factory) {
  const db = await openDatabase(factory, DEVICE_DATABASE_NAME, 1, (fresh) => {
    fresh.createObjectStore(PROJECTS, { keyPath: 'projectId' });
  });
  return {
    async all() {
      /** @type {DeviceProjectRecord[]} */
      const rows = await readAll(db, PROJECTS);
      return new Map(rows.map((row) => [row.projectId, row]));
    },
    get: (projectId) => readOne(db, PROJECTS, projectId),
    claim: (projectIds, userId) =>
      inTransaction(db, [PROJECTS], 'readwrite', async (store) => {
        for (const projectId of projectIds) store(PROJECTS).put({ projectId, ownerId: userId, editedWithoutSession: false });
      }),
    markEditedWithoutSession: (projectId) =>
      inTransaction(db, [PROJECTS], 'readwrite', async (store) => {
        /** @type {DeviceProjectRecord | undefined} */
        const known = await settled(store(PROJECTS).get(projectId));
        store(PROJECTS).put({ projectId, ownerId: known?.ownerId ?? null, editedWithoutSession: true });
      }),
    forget: (projectId) =>
      inTransaction(db, [PROJECTS], 'readwrite', async (store) => { store(PROJECTS).delete(projectId); }),
    close: () => db.close(),
  };
}
