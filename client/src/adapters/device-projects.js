// The device-wide table of which account each local project belongs to. The editor's local store
// is shared by everyone who uses this browser; this table is what keeps one account's projects
// out of another account at sign-in, and what remembers edits made while signed out. It also holds
// each local copy's version, which every write through the engine moves, so an editor can say which
// copy its commit was based on.
import { inTransaction, openDatabase, readAll, readOne, settled } from './idb.js';

/** @typedef {import('../sync-types.js').DeviceProjects} DeviceProjects */
/** @typedef {import('../sync-types.js').DeviceProjectRecord} DeviceProjectRecord */

const PROJECTS = 'projects';
export const DEVICE_DATABASE_NAME = 'appframes-sync:device';

/**
 * Above the clock and every earlier value, so a project forgotten and stored again never comes
 * back to a version an editor still holds.
 * @param {DeviceProjectRecord} known
 * @param {number} now
 * @returns {DeviceProjectRecord}
 */
const withNextVersion = (known, now) => ({ ...known, localVersion: Math.max(now, (known.localVersion ?? 0) + 1) });

/**
 * @param {IDBFactory} factory
 * @returns {Promise<DeviceProjects>}
 */
export async function openDeviceProjects(factory) {
  const db = await openDatabase(factory, DEVICE_DATABASE_NAME, 1, (fresh) => {
    fresh.createObjectStore(PROJECTS, { keyPath: 'projectId' });
  });
  /**
   * Changes the projects' records in one transaction, keeping the fields `change` leaves alone.
   * @param {string[]} projectIds
   * @param {(known: DeviceProjectRecord) => DeviceProjectRecord} change
   * @returns {Promise<DeviceProjectRecord[]>}
   */
  const update = (projectIds, change) =>
    inTransaction(db, [PROJECTS], 'readwrite', async (store) => {
      const ids = [...new Set(projectIds)];
      // Every read asked for at once: one round trip to the database, not one per project.
      /** @type {Array<DeviceProjectRecord | undefined>} */
      const known = await Promise.all(ids.map((projectId) => settled(store(PROJECTS).get(projectId))));
      return ids.map((projectId, index) => {
        const record = change(known[index] ?? { projectId, ownerId: null, editedWithoutSession: false, localVersion: 0 });
        store(PROJECTS).put(record);
        return record;
      });
    });

  return {
    async all() {
      /** @type {DeviceProjectRecord[]} */
      const rows = await readAll(db, PROJECTS);
      return new Map(rows.map((row) => [row.projectId, row]));
    },
    get: (projectId) => readOne(db, PROJECTS, projectId),
    async projectsOfOtherAccounts(userId) {
      /** @type {DeviceProjectRecord[]} */
      const rows = await readAll(db, PROJECTS);
      return new Set(rows.filter((row) => row.ownerId && row.ownerId !== userId).map((row) => row.projectId));
    },
    claim: async (projectIds, userId) => {
      await update(projectIds, (known) => ({ ...known, ownerId: userId, editedWithoutSession: false }));
    },
    markEditedWithoutSession: async (projectId) => {
      await update([projectId], (known) => ({ ...known, editedWithoutSession: true }));
    },
    version: async (projectId) => (await readOne(db, PROJECTS, projectId))?.localVersion ?? 0,
    bumpVersion: async (projectId, now) => (await update([projectId], (known) => withNextVersion(known, now)))[0].localVersion ?? now,
    bumpVersionsAndClaim: async (projectIds, userId, now) => {
      await update(projectIds, (known) => ({ ...withNextVersion(known, now), ownerId: userId, editedWithoutSession: false }));
    },
    forget: (projectIds) =>
      inTransaction(db, [PROJECTS], 'readwrite', async (store) => {
        for (const projectId of projectIds) store(PROJECTS).delete(projectId);
      }),
    close: () => db.close(),
  };
}
