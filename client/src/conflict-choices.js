// The user's answer to "Resolve conflict", from any tab. Each runs under the project's lock and only
// act on a project that is still parked as a conflict.

import { adoptServerCopy, forgetProject } from './local-commits.js';

/** @typedef {import('./sync-types.js').SessionContext} SessionContext */

/**
 * "Keep mine": push this device's copy on top of the revision the user saw. If the server moved
 * again meanwhile, that is a new conflict for the user, never a silent overwrite.
 * @param {SessionContext} context
 * @param {string} projectId
 */
export async function keepMine({ tabs, metadata, timers }, projectId) {
  await tabs.withProjectLock(projectId, async () => {
    const record = await metadata.error(projectId);
    if (record?.kind !== 'conflict' || !record.server) return;
    await metadata.setLastSyncedRevision(projectId, record.server.revision);
    await metadata.clearError(projectId);
    await metadata.enqueue([projectId], timers.now());
  });
}

/**
 * "Take theirs": replace this device's copy with the server copy the user saw (or remove it, when
 * that copy is a tombstone). Writes nothing to the server.
 * @param {SessionContext} context
 * @param {string} projectId
 * @returns {Promise<boolean>} whether the local store changed
 */
export async function takeTheirs(context, projectId) {
  const { tabs, metadata } = context;
  return tabs.withProjectLock(projectId, async () => {
    const record = await metadata.error(projectId);
    if (record?.kind !== 'conflict' || !record.server) return false;
    const server = record.server;
    if (server.deletedAt) {
      await forgetProject(context, projectId);
    } else {
      await adoptServerCopy(context, server);
    }
    return true;
  });
}

/**
 * "Keep both": this device's copy is kept as a new project (`keepCopy` commits it, "<name>
 * (conflicted copy, <date>)"), then the project takes the server copy as "Take theirs" does.
 * The copy is committed first: a crash in between leaves the conflict to answer again, never
 * this device's copy lost.
 * @param {SessionContext} context
 * @param {string} projectId
 * @param {(mine: import('./sync-types.js').LocalProject) => Promise<string>} keepCopy
 * @returns {Promise<string | undefined>} the copy's id; undefined when the conflict was already answered or nothing was stored here
 */
export async function keepBoth(context, projectId, keepCopy) {
  const { tabs, metadata, localStore } = context;
  return tabs.withProjectLock(projectId, async () => {
    const record = await metadata.error(projectId);
    if (record?.kind !== 'conflict' || !record.server) return undefined;
    const mine = await localStore.get(projectId);
    const copyId = mine ? await keepCopy(mine) : undefined;
    if (record.server.deletedAt) await forgetProject(context, projectId);
    else await adoptServerCopy(context, record.server);
    return copyId;
  });
}
