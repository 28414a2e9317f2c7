// Which account a local project belongs to: auto-claim at sign-in, and where a local commit is
// queued. The local store is shared by everyone who uses this browser; the device table is what
// keeps one account's projects out of another's.

/** @typedef {import('./sync-types.js').SessionContext} SessionContext */

/**
 * Auto-claim (the spec's recommended v1 behaviour): every local project no account owns yet,
 * and every project of this user edited while signed out, is queued for a background push.
 * Another account's projects on this browser are never claimed.
 * @param {SessionContext} context
 */
export async function claimLocalProjects({ user, localStore, device, metadata, timers }) {
  const [localIds, records] = await Promise.all([storedIds(localStore), device.all()]);
  const claimed = new Set();
  for (const projectId of localIds) {
    if (!records.get(projectId)?.ownerId) claimed.add(projectId);
  }
  for (const record of records.values()) {
    const ownedHere = record.ownerId === null || record.ownerId === user.id;
    if (record.editedWithoutSession && ownedHere) claimed.add(record.projectId);
  }
  if (!claimed.size) return;
  // Queue before recording ownership: a crash in between only means claiming again next time.
  await metadata.enqueue([...claimed], timers.now());
  await device.claim([...claimed], user.id);
}

/**
 * @param {SessionContext['localStore']} localStore
 * @returns {Promise<string[]>}
 */
async function storedIds(localStore) {
  // Only the ids: listing 500 projects of 10 KiB read 5 MB to learn them.
  if (localStore.ids) return localStore.ids();
  return (await localStore.list()).map((project) => project.id);
}

/**
 * Queues a local commit for this user, or, for a project of another account, remembers it for
 * that account's next sign-in. Must run under the project's lock.
 * @param {SessionContext} context
 * @param {string} projectId
 * @returns {Promise<boolean>} whether it went into this user's queue
 */
export async function queueLocalCommit({ user, device, metadata, timers }, projectId) {
  const record = await device.get(projectId);
  if (record?.ownerId && record.ownerId !== user.id) {
    await device.markEditedWithoutSession(projectId);
    return false;
  }
  await metadata.enqueue([projectId], timers.now());
  if (!record?.ownerId || record.editedWithoutSession) await device.claim([projectId], user.id);
  return true;
}
