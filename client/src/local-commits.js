// Writes to the editor's local store, by the editor (a commit) and by sync (a pull, "take theirs",
// a restore). Every write moves the local copy's version first, so a commit can say which copy
// it was based on, and a commit based on a copy that sync replaced underneath the editor never
// overwrites it without a word:
//   - the replaced copy is the server's (nothing of it pending here): the project becomes a
//     conflict with it, as when a push meets a newer server copy (the spec's background policy);
//   - the replaced copy holds edits the server has not seen (another tab's, or a conflict already
//     waits), or no one is signed in: it is kept beside the commit as a conflicted copy, a project
//     of its own, as Dropbox does.
// All of it runs under the project's lock.
import { sameJson } from './conflict-policy.js';

/** @typedef {import('./sync-types.js').LocalProject} LocalProject */
/** @typedef {import('./sync-types.js').DeviceProjects} DeviceProjects */
/** @typedef {import('./sync-types.js').LocalProjectStore} LocalProjectStore */
/** @typedef {import('./sync-types.js').SyncMetadata} SyncMetadata */
/** @typedef {import('./sync-types.js').Timers} Timers */
/** @typedef {import('./sync-types.js').ServerCopy} ServerCopy */
/** @typedef {import('./sync-types.js').SessionContext} SessionContext */
/** @typedef {import('./sync-types.js').ServerProject} ServerProject */
/** @typedef {import('./sync-types.js').FeedPosition} FeedPosition */

/**
 * @typedef {object} LocalWrites
 * @property {DeviceProjects} device
 * @property {LocalProjectStore} localStore
 * @property {Timers} timers
 */

/**
 * @typedef {object} CommitDependencies
 * @property {DeviceProjects} device
 * @property {LocalProjectStore} localStore
 * @property {Timers} timers
 * @property {(projectId: string) => Promise<void>} queueCommit puts the project in the signed-in user's queue (or remembers it for the next sign-in)
 * @property {SyncMetadata | null} metadata the signed-in user's, or null while signed out
 * @property {string | null} userId the signed-in user, or null
 * @property {() => string} newProjectId
 * @property {<T>(projectId: string, work: () => Promise<T>) => Promise<T>} withProjectLock
 * @property {(projectIds: string[]) => void} publishLocalChange
 */

/**
 * Sync replaces the local copy: the version moves before the store changes, so a crash in between
 * can only make an editor's next commit a needless conflict, never a silent overwrite.
 * @param {LocalWrites} writes
 * @param {LocalProject} project
 */
export async function replaceLocalCopy({ device, localStore, timers }, project) {
  await device.bumpVersion(project.id, timers.now());
  await localStore.put({ id: project.id, name: project.name, data: project.data });
}

/**
 * This device takes the server's copy: stored here, recorded as synced at its revision (nothing
 * left queued or parked for it), owned by the signed-in user.
 * @param {SessionContext} context
 * @param {ServerCopy} server
 */
export async function adoptServerCopy(context, server) {
  await replaceLocalCopy(context, server);
  await context.metadata.acceptServer(server.id, server.revision);
  await context.device.claim([server.id], context.user.id);
}

/**
 * Everything this device knew of a project goes: the local copy, its sync metadata and its owner.
 * @param {LocalWrites & { metadata: SyncMetadata }} writes
 * @param {string} projectId
 */
export async function forgetProject({ localStore, metadata, device }, projectId) {
  await localStore.remove(projectId);
  await metadata.forget(projectId);
  await device.forget([projectId]);
}

/**
 * @typedef {object} ServerChanges what one page of the changes feed does here (see merge.js)
 * @property {ServerProject[]} adopt server copies to store here
 * @property {string[]} remove gone on the server: removed here, every trace forgotten
 * @property {string[]} forget gone on the server and already not stored here: only the metadata goes
 * @property {string[]} owe skipped for an editor's typing, pulled later
 */

/**
 * A page of server changes, taken with one transaction per store and in the order the single
 * writes keep: versions move before the store changes (see `replaceLocalCopy`), the metadata and
 * the feed position last (a crash before it re-reads the page), the device records of removed
 * projects after that (a local copy without one would be claimed as new at the next sign-in).
 * @param {SessionContext} context
 * @param {ServerChanges} changes
 * @param {FeedPosition} position
 */
export async function adoptServerChanges(context, { adopt, remove, forget, owe }, position) {
  const { device, localStore, metadata, timers, user } = context;
  if (adopt.length) await device.bumpVersionsAndClaim(adopt.map((server) => server.id), user.id, timers.now());
  const put = adopt.map(({ id, name, data }) => ({ id, name, data }));
  if (put.length || remove.length) await writeLocalBatch(localStore, { put, remove });
  await metadata.recordFeedPage({
    accepted: adopt.map((server) => ({ projectId: server.id, revision: server.revision })),
    forgotten: [...remove, ...forget],
    owed: owe,
    position,
  });
  if (remove.length || forget.length) await device.forget([...remove, ...forget]);
}

/**
 * @param {LocalProjectStore} localStore
 * @param {{ put: LocalProject[], remove: string[] }} batch
 */
async function writeLocalBatch(localStore, batch) {
  if (localStore.writeBatch) return localStore.writeBatch(batch);
  // An editor's store without batches: the same writes, one by one.
  for (const project of batch.put) await localStore.put(project);
  for (const id of batch.remove) await localStore.remove(id);
}

/**
 * The editor's commit of `project`, based on the local copy of version `baseVersion` (undefined:
 * whatever is stored, as for a new project or an import).
 * @param {CommitDependencies} deps
 * @param {LocalProject} project
 * @param {number | undefined} baseVersion
 * @returns {Promise<number>} the version the commit left, to base the next commit on
 */
export async function commitLocally(deps, project, baseVersion) {
  const { device, localStore, timers, queueCommit } = deps;
  const current = await device.version(project.id);
  if (baseVersion !== undefined && baseVersion !== current) {
    const replaced = await localStore.get(project.id);
    // A copy deleted underneath comes back with the commit: the push meets the tombstone, if any.
    if (replaced && sameContent(replaced, project)) return current;
    if (replaced) await keepReplacedCopy(deps, replaced);
  }
  // Queued before the store changes: an edit stored but not queued could be pulled over unseen.
  await queueCommit(project.id);
  const version = await device.bumpVersion(project.id, timers.now());
  await localStore.put({ id: project.id, name: project.name, data: project.data });
  return version;
}

/**
 * @param {CommitDependencies} deps
 * @param {LocalProject} replaced
 */
async function keepReplacedCopy(deps, replaced) {
  if (await parkAsConflict(deps, replaced)) return;
  await keepAsConflictedCopy(deps, replaced);
}

/**
 * Keeps `project`'s name and data as a new project, "<name> (conflicted copy, <date>)", committed
 * and queued like any commit (the caller holds `project`'s lock, not the copy's).
 * @param {CommitDependencies} deps
 * @param {LocalProject} project
 * @returns {Promise<string>} the copy's id
 */
export async function keepAsConflictedCopy(deps, project) {
  const copy = { id: deps.newProjectId(), name: conflictedCopyName(project.name, deps.timers.now()), data: project.data };
  // The copy belongs to whoever the project belongs to: another account's copy waits for them.
  const ownerId = (await deps.device.get(project.id))?.ownerId;
  // Under its own lock too: the syncing tab must not push the copy between queue and store.
  await deps.withProjectLock(copy.id, async () => {
    if (ownerId) await deps.device.claim([copy.id], ownerId);
    await commitLocally(deps, copy, undefined);
  });
  deps.publishLocalChange([copy.id]);
  return copy.id;
}

/**
 * When the replaced copy is the signed-in user's server copy as last synced here, the commit meets
 * it exactly as a push meeting a newer revision would: a conflict for the user, parked before it
 * is queued. Anything else (edits not pushed yet, not claimed yet, another account's) is not the
 * server's copy.
 * @param {CommitDependencies} deps
 * @param {LocalProject} replaced
 * @returns {Promise<boolean>} whether it was parked
 */
async function parkAsConflict({ metadata, userId, device, timers }, replaced) {
  if (!metadata || !userId) return false;
  const [queued, parked, revision, record] = await Promise.all([
    metadata.queueEntry(replaced.id), metadata.error(replaced.id), metadata.lastSyncedRevision(replaced.id), device.get(replaced.id),
  ]);
  const syncedHere = revision > 0 && record?.ownerId === userId && !record.editedWithoutSession;
  // Queued only to write "Take theirs"'s history copy: the replaced copy is still the server's.
  const unsynced = queued && !(queued.write?.kind === 'put' && queued.write.keptForHistory);
  if (unsynced || parked || !syncedHere) return false;
  await metadata.setError({
    projectId: replaced.id,
    kind: 'conflict',
    message: 'Changed on another device or tab while edited here',
    at: timers.now(),
    server: { id: replaced.id, name: replaced.name, data: replaced.data, revision, deletedAt: null },
  });
  return true;
}

/**
 * @param {string} name
 * @param {number} now
 */
function conflictedCopyName(name, now) {
  const at = new Date(now);
  const pad = (/** @type {number} */ value) => String(value).padStart(2, '0');
  const date = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
  return `${name} (conflicted copy, ${date} ${pad(at.getHours())}:${pad(at.getMinutes())})`;
}

/**
 * @param {LocalProject} a
 * @param {LocalProject} b
 */
function sameContent(a, b) {
  return a.name === b.name && sameJson(a.data, b.data);
}
