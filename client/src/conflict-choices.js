// The user's answer to "Resolve conflict", from any tab. Each runs under the project's lock and only
// act on a project that is still parked as a conflict.

import { sameJson } from './conflict-policy.js';
import { adoptServerCopy, forgetProject, replaceLocalCopy } from './local-commits.js';

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
 * "Take theirs": the project becomes the server copy the user saw (or goes, when that copy is a
 * tombstone), shown here at once. This device's copy, never synced, is not thrown away: it is
 * pushed first as a revision on top of theirs, so it stays in the project's history, and the
 * server copy follows it as the next revision (see `keepInHistoryBeforeTheirs`).
 * @param {SessionContext} context
 * @param {string} projectId
 * @returns {Promise<boolean>} whether the local store changed
 */
export async function takeTheirs(context, projectId) {
  const { tabs, metadata, localStore } = context;
  return tabs.withProjectLock(projectId, async () => {
    const record = await metadata.error(projectId);
    if (record?.kind !== 'conflict' || !record.server) return false;
    const server = record.server;
    const mine = await localStore.get(projectId);
    // A deletion here, or the same copy as theirs: nothing of this device's is lost by taking theirs.
    const nothingToKeep = !mine || (!server.deletedAt && mine.name === server.name && sameJson(mine.data, server.data));
    if (await historyWritePending(context, projectId)) {
      // An earlier "Take theirs" still owes the history its copy: that goes first, this one beside the project.
      if (mine && !nothingToKeep) await context.keepConflictedCopy(mine);
      await showServerCopyAfterHistoryWrite(context, server);
    } else if (!mine || nothingToKeep) {
      if (server.deletedAt) await forgetProject(context, projectId);
      else await adoptServerCopy(context, server);
    } else {
      await keepInHistoryBeforeTheirs(context, mine, server);
    }
    return true;
  });
}

/**
 * Queues this device's copy as a write on top of the server copy, then the server copy itself as
 * the write after it: the queue sends the pending write first (with its own writeId, again after
 * a lost answer, from the metadata after a reload or offline) and, because the project was queued
 * again after it, sends what the local store holds next, on top of the revision it got. Mine is
 * stored in the metadata before the conflict is cleared and before the local store takes theirs,
 * so a crash in between never loses it (at worst the conflict waits to be answered again, or mine
 * is also the newest revision). A server that moved again meanwhile meets the first write as a
 * conflict: push-queue.js then keeps mine as a conflicted copy and the project meets the newer
 * copy as a new conflict, never an overwrite.
 * @param {SessionContext} context
 * @param {import('./sync-types.js').LocalProject} mine
 * @param {import('./sync-types.js').ServerCopy} server
 */
async function keepInHistoryBeforeTheirs(context, mine, server) {
  const { metadata, timers } = context;
  const projectId = server.id;
  await metadata.setLastSyncedRevision(projectId, server.revision);
  await metadata.enqueue([projectId], timers.now());
  const queued = await metadata.queueEntry(projectId);
  await metadata.beginWrite(projectId, {
    kind: 'put', writeId: context.newWriteId(), change: queued?.change ?? 0, baseRevision: server.revision,
    name: mine.name, data: mine.data, clientUpdatedAt: new Date(timers.now()).toISOString(), keptForHistory: true,
  });
  await showServerCopyAfterHistoryWrite(context, server);
}

/**
 * @param {SessionContext} context
 * @param {string} projectId
 */
async function historyWritePending({ metadata }, projectId) {
  const queued = await metadata.queueEntry(projectId);
  return queued?.write?.kind === 'put' && Boolean(queued.write.keptForHistory);
}

/**
 * The project shows the server copy at once and is queued once more, so that copy is written
 * after the pending history write, on top of the revision it gets.
 * @param {SessionContext} context
 * @param {import('./sync-types.js').ServerCopy} server
 */
async function showServerCopyAfterHistoryWrite(context, server) {
  const { metadata, timers, device, localStore, user } = context;
  await metadata.enqueue([server.id], timers.now());
  await metadata.clearError(server.id);
  if (server.deletedAt) {
    await device.bumpVersion(server.id, timers.now());
    await localStore.remove(server.id);
  } else {
    await replaceLocalCopy(context, server);
    await device.claim([server.id], user.id);
  }
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
    // Taking the server copy drops the queue: a history write still owed goes first.
    if (await historyWritePending(context, projectId)) await showServerCopyAfterHistoryWrite(context, record.server);
    else if (record.server.deletedAt) await forgetProject(context, projectId);
    else await adoptServerCopy(context, record.server);
    return copyId;
  });
}
