// The push queue: every queued project that is not parked goes to the server, many at once in
// POST /api/changes, with one request at a time per project. A write is stored before it is sent
// and sent again exactly as it was (same writeId) until its answer is recorded, so a lost response
// never turns into a duplicate or a conflict. Each item of a batch is answered as its own PUT or
// DELETE would be, and recorded the same way. A project backing off after a server error of its
// own, and a write too big for a batch, go alone through the per-project routes; a batch refused
// as a whole (a server error) is sent again project by project, so one failing project backs off
// alone. The conflict policy itself is in conflict-policy.js; this file only applies its decisions.
import { decideDeleteConflict, decidePushConflict } from './conflict-policy.js';
import { adoptServerCopy, forgetProject } from './local-commits.js';
import { forEachConcurrently } from './pool.js';
import { withProjectLocks } from './project-locks.js';
import { concernsOnlyThisProject, holdsEveryRequest, mostPressingStop, stopFor } from './stops.js';

/** @typedef {import('./sync-types.js').SessionContext} SessionContext */
/** @typedef {import('./sync-types.js').PendingWrite} PendingWrite */
/** @typedef {import('./sync-types.js').ChangeItem} ChangeItem */
/** @typedef {import('./sync-types.js').ServerProject} ServerProject */
/** @typedef {import('./sync-types.js').WriteAccepted} WriteAccepted */
/** @template T @typedef {import('./sync-types.js').TransportOutcome<T>} TransportOutcome */
/** @typedef {import('./stops.js').Stop} Stop */

/** What one project's push came to: settled (synced or parked for the user) or queued again. */
/** @typedef {{ kind: 'settled' } | { kind: 'again' } | Stop} PushResult */

/** @typedef {{ projectId: string, write: PendingWrite, item: ChangeItem, bytes: number }} OutgoingWrite */
/** @typedef {OutgoingWrite & { outcome: TransportOutcome<WriteAccepted> }} AnsweredWrite */
/** @typedef {{ stop?: Stop, queuedAgain: boolean }} PushProgress */

/** The server takes at most 100 items per batch. */
const MAX_BATCH_ITEMS = 100;
/** Well under the server's MAX_BODY_BYTES (4 MiB by default); a bigger write goes alone, by PUT. */
const MAX_BATCH_BYTES = 3 * 1024 * 1024;
const utf8 = new TextEncoder();

/**
 * @param {SessionContext} context
 * @returns {Promise<PushProgress>} queuedAgain: edits made while their project's request was in
 *   flight, to go out in the next push
 */
export async function pushQueue(context) {
  const { metadata, settings, inFlight, projectRetries } = context;
  const [queue, errors] = await Promise.all([metadata.queue(), metadata.errors()]);
  const parked = new Set(errors.map((record) => record.projectId));
  projectRetries.keepQueued(new Set(queue.map((entry) => entry.projectId)));
  const ready = queue
    .filter((entry) => !parked.has(entry.projectId) && !inFlight.has(entry.projectId) && !projectRetries.isWaiting(entry.projectId))
    .sort((a, b) => a.enqueuedAt - b.enqueuedAt)
    .map((entry) => entry.projectId);
  /** @type {PushProgress} */
  const progress = { queuedAgain: false };
  // Each project is in flight from now until its answer is recorded (or the pass ends without sending it).
  const holding = new Set(ready);
  for (const projectId of ready) inFlight.add(projectId);
  /** @param {string} projectId */
  const release = (projectId) => { if (holding.delete(projectId)) inFlight.delete(projectId); };
  try {
    // A batch goes as soon as its own writes are ready: the server takes the first while the
    // next ones are read and stored here.
    await forEachConcurrently(inChunks(ready, MAX_BATCH_ITEMS), settings.concurrency, async (chunk) => {
      // Requests already in flight answer too; no new one starts once the pass is stopped.
      if (progress.stop || context.isStopped()) return;
      const outgoing = await prepareWrites(context, chunk);
      const sending = new Set(outgoing.map((write) => write.projectId));
      for (const projectId of chunk) if (!sending.has(projectId)) release(projectId);
      if (outgoing.length) context.statusChanged();
      const requests = [
        ...inRequestsBySize(outgoing.filter((write) => !projectRetries.hasFailed(write.projectId))),
        ...outgoing.filter((write) => projectRetries.hasFailed(write.projectId)).map((write) => [write]),
      ];
      for (const request of requests) {
        if (progress.stop || context.isStopped()) return;
        await pushRequest(context, progress, request, release);
      }
    });
  } finally {
    for (const projectId of [...holding]) release(projectId);
  }
  return progress;
}

/**
 * Sends one request (a batch, or a write alone) and records each answer under its project's lock.
 * @param {SessionContext} context
 * @param {PushProgress} progress
 * @param {OutgoingWrite[]} request
 * @param {(projectId: string) => void} release the project's request is over
 */
async function pushRequest(context, progress, request, release) {
  const answered = request.length === 1 && (request[0].bytes > MAX_BATCH_BYTES || context.projectRetries.hasFailed(request[0].projectId))
    ? [await sendAlone(context, request[0])]
    : await sendTogether(context, request);
  const accepted = answered.flatMap((answer) => (answer.outcome.kind === 'ok' ? [{ ...answer, revision: answer.outcome.body.revision }] : []));
  await Promise.all([
    recordAcceptedTogether(context, progress, accepted, release),
    ...answered.filter((answer) => answer.outcome.kind !== 'ok').map(async ({ projectId, write, outcome }) => {
      const result = await context.tabs.withProjectLock(projectId, () => recordOutcome(context, projectId, write, outcome));
      // Free at once: an edit recorded from now on is pushed by the next pass.
      release(projectId);
      noteResult(progress, result);
    }),
  ]);
}

/**
 * The writes of a request the server accepted, recorded as `recordAccepted` does one, under their
 * locks and in one transaction: a batch of 100 is one round, not 100.
 * @param {SessionContext} context
 * @param {PushProgress} progress
 * @param {Array<OutgoingWrite & { revision: number }>} accepted
 * @param {(projectId: string) => void} release
 */
async function recordAcceptedTogether(context, progress, accepted, release) {
  if (!accepted.length) return;
  const results = await withProjectLocks(context.tabs, accepted.map((answer) => answer.projectId), async () => {
    for (const { projectId } of accepted) context.projectRetries.answered(projectId);
    const dequeued = await context.metadata.finishWrites(accepted.map(({ projectId, write, revision }) => ({ projectId, change: write.change, revision })));
    return Promise.all(accepted.map(({ projectId, write }, index) => settledUnlessEditedMeanwhile(context, projectId, write, dequeued[index])));
  });
  accepted.forEach(({ projectId }, index) => {
    release(projectId);
    noteResult(progress, results[index]);
  });
}

/**
 * @param {PushProgress} progress
 * @param {PushResult} result
 */
function noteResult(progress, result) {
  if (result.kind === 'again') progress.queuedAgain = true;
  // Requests already in flight answer too; the next attempt waits as long as the most pressing one says.
  else if (result.kind !== 'settled') progress.stop = mostPressingStop(progress.stop, result);
}

/**
 * @param {SessionContext} context
 * @param {string[]} projectIds
 * @returns {Promise<OutgoingWrite[]>}
 */
async function prepareWrites(context, projectIds) {
  const writes = await withProjectLocks(context.tabs, projectIds, () => prepareWritesUnderLocks(context, projectIds));
  return projectIds.flatMap((projectId, index) => {
    const write = writes[index];
    if (!write) return [];
    const item = changeItem(projectId, write);
    return [{ projectId, write, item, bytes: utf8.encode(JSON.stringify(item)).length }];
  });
}

/**
 * @param {string} projectId
 * @param {PendingWrite} write
 * @returns {ChangeItem}
 */
function changeItem(projectId, write) {
  if (write.kind === 'delete') return { id: projectId, deleted: true, baseRevision: write.baseRevision, writeId: write.writeId };
  const { name, data, baseRevision, writeId, clientUpdatedAt } = write;
  return { id: projectId, name, data, baseRevision, writeId, clientUpdatedAt };
}

/**
 * @template T
 * @param {T[]} items
 * @param {number} size
 * @returns {T[][]}
 */
function inChunks(items, size) {
  /** @type {T[][]} */
  const chunks = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

/**
 * Batches under the size budget, in queue order; a write bigger than the budget is a request of its own.
 * @param {OutgoingWrite[]} writes
 * @returns {OutgoingWrite[][]}
 */
function inRequestsBySize(writes) {
  /** @type {OutgoingWrite[][]} */
  const requests = [];
  /** @type {OutgoingWrite[]} */
  let batch = [];
  let bytes = 0;
  for (const write of writes) {
    if (write.bytes > MAX_BATCH_BYTES) {
      requests.push([write]);
      continue;
    }
    if (batch.length && bytes + write.bytes > MAX_BATCH_BYTES) {
      requests.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(write);
    bytes += write.bytes;
  }
  if (batch.length) requests.push(batch);
  return requests;
}

/**
 * @param {SessionContext} context
 * @param {OutgoingWrite[]} writes
 * @returns {Promise<AnsweredWrite[]>}
 */
async function sendTogether(context, writes) {
  const outcome = await context.transport.pushChanges(writes.map((write) => write.item));
  if (outcome.kind === 'ok') return writes.map((write, index) => ({ ...write, outcome: outcome.body[index] }));
  if (answersEachWrite(outcome, writes.length)) return writes.map((write) => ({ ...write, outcome }));
  // Refused as a whole, and nothing says which project it was about: each goes on its own.
  /** @type {AnsweredWrite[]} */
  const answered = [];
  await forEachConcurrently(writes, context.settings.concurrency, async (write) => { answered.push(await sendAlone(context, write)); });
  return answered;
}

/**
 * What a batch refused as a whole says of each of its writes: an outage, a rate limit or a lost
 * session holds all of them back; a server error or a refused body is its only write's own answer.
 * @param {Exclude<TransportOutcome<unknown>, { kind: 'ok' }>} outcome
 * @param {number} writeCount
 */
function answersEachWrite(outcome, writeCount) {
  if (holdsEveryRequest(outcome)) return true;
  return writeCount === 1 && (concernsOnlyThisProject(outcome) || outcome.kind === 'rejected');
}

/**
 * @param {SessionContext} context
 * @param {OutgoingWrite} outgoing
 * @returns {Promise<AnsweredWrite>}
 */
async function sendAlone({ transport }, outgoing) {
  const { projectId, write } = outgoing;
  if (write.kind === 'delete') return { ...outgoing, outcome: await transport.deleteProject(projectId, write.baseRevision) };
  const { name, data, baseRevision, writeId, clientUpdatedAt } = write;
  return { ...outgoing, outcome: await transport.putProject(projectId, { name, data, baseRevision, writeId, clientUpdatedAt }) };
}

/**
 * The writes to send for queued projects, under their locks. A write whose answer never came is
 * sent again exactly as it was, with its writeId, before anything newer, so the server can
 * recognise it. The new writes are stored in one transaction before any is sent.
 * @param {SessionContext} context
 * @param {string[]} projectIds
 * @returns {Promise<Array<PendingWrite | undefined>>} in the order of `projectIds`
 */
async function prepareWritesUnderLocks(context, projectIds) {
  const { metadata, localStore } = context;
  const states = await metadata.pushStates(projectIds);
  const writes = await Promise.all(states.map(async ({ entry, error, lastSyncedRevision }, index) => {
    // Parked since the pass read the errors (a commit on a replaced copy): the user decides first.
    if (!entry || error?.kind === 'conflict') return undefined;
    if (entry.write) return entry.write;
    // Under the lock no edit lands in between: `entry.change` is the change the stored copy holds.
    const projectId = projectIds[index];
    return newWrite(context, projectId, entry.change, lastSyncedRevision, await localStore.get(projectId));
  }));
  const begun = projectIds.flatMap((projectId, index) => {
    const write = writes[index];
    return write && write !== states[index].entry?.write ? [{ projectId, write }] : [];
  });
  if (begun.length) await metadata.beginWrites(begun);
  return writes;
}

/**
 * @param {SessionContext} context
 * @param {string} projectId
 * @param {number} change
 * @param {number} baseRevision
 * @param {import('./sync-types.js').LocalProject | undefined} project the stored copy, if any
 * @returns {Promise<PendingWrite | undefined>}
 */
async function newWrite(context, projectId, change, baseRevision, project) {
  const { timers, newWriteId } = context;
  if (project) {
    return {
      kind: 'put', writeId: newWriteId(), change, baseRevision,
      name: project.name, data: project.data, clientUpdatedAt: new Date(timers.now()).toISOString(),
    };
  }
  if (baseRevision > 0) return { kind: 'delete', writeId: newWriteId(), change, baseRevision };
  // Made and deleted here before it ever reached the server: nothing to tell it, nothing to keep.
  await forgetProject(context, projectId);
  return undefined;
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
      if (write.keptForHistory) return keepHistoryCopyAside(context, projectId, write);
      return recordRejected(context, projectId, 'The server did not find this project');
    case 'rejected':
      if (write.kind === 'put' && write.keptForHistory) return keepHistoryCopyAside(context, projectId, write);
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
  return settledUnlessEditedMeanwhile(context, projectId, write, await context.metadata.finishWrite(projectId, write.change, revision));
}

/**
 * @param {SessionContext} context
 * @param {string} projectId
 * @param {PendingWrite} write accepted by the server
 * @param {boolean} dequeued false: an edit made while it was in flight is still queued
 * @returns {Promise<PushResult>}
 */
async function settledUnlessEditedMeanwhile(context, projectId, write, dequeued) {
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
  if (write.keptForHistory) await context.keepConflictedCopy({ id: projectId, name: write.name, data: write.data });
  // The server copy taken here is older than the server's now: pushing it would be an overwrite.
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
 * "Take theirs" could not keep this device's copy in the project's history (the server refused
 * it): it is kept as a conflicted copy instead, a project of its own, and the server copy taken
 * here goes out as the project's next write.
 * @param {SessionContext} context
 * @param {string} projectId
 * @param {PendingWrite & { kind: 'put' }} write
 * @returns {Promise<PushResult>}
 */
async function keepHistoryCopyAside(context, projectId, write) {
  await context.keepConflictedCopy({ id: projectId, name: write.name, data: write.data });
  await context.metadata.abandonWrite(projectId);
  return { kind: 'again' };
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
