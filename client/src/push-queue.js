// The push queue: every queued project that is not parked gets one request at a time. A write is
// stored before it is sent and sent again exactly as it was (same writeId) until its answer is
// recorded, so a lost response never turns into a duplicate or a conflict. The conflict policy
// itself is in conflict-policy.js; this file only applies its decisions.
import { decideDeleteConflict, decidePushConflict } from './conflict-policy.js';
import { adoptServerCopy, forgetProject } from './local-commits.js';
import { forEachConcurrently } from './pool.js';
import { concernsOnlyThisProject, mostPressingStop, stopFor } from './stops.js';

/** @typedef {import('./sync-types.js').SessionContext} SessionContext */
/** @typedef {import('./sync-types.js').PendingWrite} PendingWrite */
/** @typedef {import('./sync-types.js').ServerProject} ServerProject */
/** @template T @typedef {import('./sync-types.js').TransportOutcome<T>} TransportOutcome */
/** @typedef {import('./stops.js').Stop} Stop */

/** What one project's push came to: settled (synced or parked for the user) or queued again. */
/** @typedef {{ kind: 'settled' } | { kind: 'again' } | Stop} PushResult */

/**
 * @param {SessionContext} context
 * @returns {Promise<{ stop?: Stop, queuedAgain: boolean }>} queuedAgain: edits made while their
 *   project's request was in flight, to go out in the next push
 */
export async function pushQueue(context) {
  const { metadata, settings, inFlight, projectRetries } = context;
  const [queue, errors] = await Promise.all([metadata.queue(), metadata.errors()]);
  const parked = new Set(errors.map((record) => record.projectId));
  projectRetries.keepQueued(new Set(queue.map((entry) => entry.projectId)));
  const ready = queue
    .filter((entry) => !parked.has(entry.projectId) && !inFlight.has(entry.projectId) && !projectRetries.isWaiting(entry.projectId))
    .sort((a, b) => a.enqueuedAt - b.enqueuedAt);
  /** @type {Stop | undefined} */
  let stop;
  let queuedAgain = false;
  await forEachConcurrently(ready, settings.concurrency, async (entry) => {
    if (stop || context.isStopped()) return;
    const result = await pushProject(context, entry.projectId);
    if (result.kind === 'again') queuedAgain = true;
    // Requests already in flight answer too; the next attempt waits as long as the most pressing one says.
    else if (result.kind !== 'settled') stop = mostPressingStop(stop, result);
  });
  return { stop, queuedAgain };
}

/**
 * @param {SessionContext} context
 * @param {string} projectId
 * @returns {Promise<PushResult>}
 */
async function pushProject(context, projectId) {
  const { tabs, inFlight } = context;
  if (inFlight.has(projectId)) return { kind: 'again' };
  inFlight.add(projectId);
  try {
    const write = await tabs.withProjectLock(projectId, () => prepareWrite(context, projectId));
    if (!write) return { kind: 'settled' };
    context.statusChanged();
    const outcome = await send(context, projectId, write);
    return await tabs.withProjectLock(projectId, () => recordOutcome(context, projectId, write, outcome));
  } finally {
    inFlight.delete(projectId);
  }
}

/**
 * The write to send for a queued project. A write whose answer never came is sent again exactly
 * as it was, with its writeId, before anything newer, so the server can recognise it.
 * @param {SessionContext} context
 * @param {string} projectId
 * @returns {Promise<PendingWrite | undefined>}
 */
async function prepareWrite(context, projectId) {
  const { metadata, localStore, timers, newWriteId } = context;
  const [entry, parked] = await Promise.all([metadata.queueEntry(projectId), metadata.error(projectId)]);
  // Parked since the pass read the errors (a commit on a replaced copy): the user decides first.
  if (!entry || parked?.kind === 'conflict') return undefined;
  if (entry.write) return entry.write;
  // Read after `entry.change`: an edit landing in between bumps `change`, so it is pushed again.
  const project = await localStore.get(projectId);
  const baseRevision = await metadata.lastSyncedRevision(projectId);
  /** @type {PendingWrite} */
  let write;
  if (project) {
    write = {
      kind: 'put', writeId: newWriteId(), change: entry.change, baseRevision,
      name: project.name, data: project.data, clientUpdatedAt: new Date(timers.now()).toISOString(),
    };
  } else if (baseRevision > 0) {
    write = { kind: 'delete', writeId: newWriteId(), change: entry.change, baseRevision };
  } else {
    // Made and deleted here before it ever reached the server: nothing to tell it, nothing to keep.
    await forgetProject(context, projectId);
    return undefined;
  }
  await metadata.beginWrite(projectId, write);
  return write;
}

/**
 * @param {SessionContext} context
 * @param {string} projectId
 * @param {PendingWrite} write
 * @returns {Promise<TransportOutcome<{ revision: number }>>}
 */
function send({ transport }, projectId, write) {
  if (write.kind === 'delete') return transport.deleteProject(projectId, write.baseRevision);
  const { name, data, baseRevision, writeId, clientUpdatedAt } = write;
  return transport.putProject(projectId, { name, data, baseRevision, writeId, clientUpdatedAt });
}

/**
 * @param {SessionContext} context
 * @param {string} projectId
 * @param {PendingWrite} write
 * @param {TransportOutcome<{ revision: number }>} outcome
 * @returns {Promise<PushResult>}
 */
async function recordOutcome(context, projectId, write, outcome) {
  if (outcome.kind !== 'ok' && concernsOnlyThisProject(outcome)) {
    // The pending write stays and goes again, with the same writeId, when this project's wait ends.
    context.projectRetries.failed(projectId, outcome);
    return { kind: 'settled' };
  }
  // An outage or a lost session says nothing of this project: its own backoff stays as it was.
  if (outcome.kind !== 'retry' && outcome.kind !== 'unauthorized') context.projectRetries.answered(projectId);
  switch (outcome.kind) {
    case 'ok':
      return recordAccepted(context, projectId, write, outcome.body.revision);
    case 'conflict':
      return write.kind === 'put'
        ? recordPutConflict(context, projectId, write, outcome.server)
        : recordDeleteConflict(context, projectId, write, outcome.server);
    case 'not-found':
      if (write.kind === 'delete') return recordAccepted(context, projectId, write, 0);
      return recordRejected(context, projectId, 'The server did not find this project');
    case 'rejected':
      return recordRejected(context, projectId, outcome.message);
    default:
      // Retryable or signed out: the pending write stays, and goes again with the same writeId.
      return stopFor(outcome);
  }
}

/**
 * @param {SessionContext} context
 * @param {string} projectId
 * @param {PendingWrite} write
 * @param {number} revision
 * @returns {Promise<PushResult>}
 */
async function recordAccepted(context, projectId, write, revision) {
  const dequeued = await context.metadata.finishWrite(projectId, write.change, revision);
  if (!dequeued) return { kind: 'again' };
  // A synced deletion leaves nothing to remember: the server keeps the tombstone.
  if (write.kind === 'delete') await forgetProject(context, projectId);
  return { kind: 'settled' };
}

/**
 * @param {SessionContext} context
 * @param {string} projectId
 * @param {PendingWrite & { kind: 'put' }} write
 * @param {ServerProject} server
 * @returns {Promise<PushResult>}
 */
async function recordPutConflict(context, projectId, write, server) {
  if (decidePushConflict(write, server) === 'adopt-server-revision') {
    return recordAccepted(context, projectId, write, server.revision);
  }
  return parkConflict(context, projectId, server);
}

/**
 * @param {SessionContext} context
 * @param {string} projectId
 * @param {PendingWrite & { kind: 'delete' }} write
 * @param {ServerProject} server
 * @returns {Promise<PushResult>}
 */
async function recordDeleteConflict(context, projectId, write, server) {
  const { localStore } = context;
  const recreatedLocally = Boolean(await localStore.get(projectId));
  switch (decideDeleteConflict(server, recreatedLocally)) {
    case 'already-deleted':
      return recordAccepted(context, projectId, write, server.revision);
    case 'restore-server-copy':
      await adoptServerCopy(context, server);
      context.publishLocalChange([projectId]);
      return { kind: 'settled' };
    default:
      return parkConflict(context, projectId, server);
  }
}

/**
 * Parked, not retried: a client that re-sent on every 409 would loop. The user decides.
 * @param {SessionContext} context
 * @param {string} projectId
 * @param {ServerProject} server
 * @returns {Promise<PushResult>}
 */
async function parkConflict({ metadata, timers }, projectId, server) {
  await metadata.abandonWrite(projectId);
  const message = server.deletedAt
    ? 'Deleted on another device while edited here'
    : 'Changed on another device while edited here';
  await metadata.setError({ projectId, kind: 'conflict', message, at: timers.now(), server });
  return { kind: 'settled' };
}

/**
 * A write the server will never accept as it is (too large, invalid): parked until the next edit.
 * @param {SessionContext} context
 * @param {string} projectId
 * @param {string} message
 * @returns {Promise<PushResult>}
 */
async function recordRejected({ metadata, timers }, projectId, message) {
  await metadata.abandonWrite(projectId);
  await metadata.setError({ projectId, kind: 'error', message, at: timers.now() });
  return { kind: 'settled' };
}
