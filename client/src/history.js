// Project history as the server keeps it: the revisions of a project, one revision's copy, the
// projects deleted recently. A restore is not a server call of its own: the old revision's name and
// data become an ordinary local commit on top of the current server revision (see `restoreLocally`),
// so it shows at once, survives going offline, syncs through the queue and can itself be undone.
import { sameJson } from './conflict-policy.js';
import { commitLocally, keepAsConflictedCopy } from './local-commits.js';

/** @typedef {import('./sync-types.js').HistoryFailure} HistoryFailure */
/** @typedef {import('./sync-types.js').SyncTransport} SyncTransport */
/** @typedef {import('./sync-types.js').ServerProject} ServerProject */
/** @typedef {import('./sync-types.js').RevisionSummary} RevisionSummary */
/** @typedef {import('./sync-types.js').DeletedProject} DeletedProject */
/** @typedef {import('./sync-types.js').LocalProject} LocalProject */
/** @typedef {import('./sync-types.js').SyncMetadata} SyncMetadata */
/** @typedef {import('./local-commits.js').CommitDependencies} CommitDependencies */
/** @template T @typedef {import('./sync-types.js').TransportOutcome<T>} TransportOutcome */

/** A history call that could not be answered; `failure` says why, `message` says it to the user. */
export class HistoryError extends Error {
  /**
   * @param {HistoryFailure} failure
   * @param {string} message
   */
  constructor(failure, message) {
    super(message);
    this.name = 'HistoryError';
    this.failure = failure;
  }
}

/** No session here: history lives on the server, for the signed-in account. */
export const signedOut = () => new HistoryError('signed-out', 'Sign in to see the history of your projects');

/**
 * @template T
 * @param {TransportOutcome<T>} outcome
 * @param {string} missing what a 404 means here, as a sentence
 * @returns {T}
 */
function answerOf(outcome, missing) {
  switch (outcome.kind) {
    case 'ok': return outcome.body;
    case 'not-found': throw new HistoryError('not-found', missing);
    case 'unauthorized': throw new HistoryError('signed-out', `${outcome.message}: sign in again to see the history`);
    case 'retry': throw new HistoryError('offline', `${outcome.message}: the history needs the server, try again`);
    default: throw new HistoryError('rejected', 'The server refused to show this history');
  }
}

/**
 * @param {SyncTransport} transport
 * @param {string} projectId
 * @returns {Promise<RevisionSummary[]>} newest first, the current revision included
 */
export async function listRevisions(transport, projectId) {
  return answerOf(await transport.listRevisions(projectId), 'This project has no history on the server (it was never synced, or it is gone)');
}

/**
 * @param {SyncTransport} transport
 * @param {string} projectId
 * @param {number} revision
 * @returns {Promise<ServerProject>}
 */
export async function getRevision(transport, projectId, revision) {
  return answerOf(await transport.getRevision(projectId, revision), `Revision ${revision} of this project is not kept on the server`);
}

/**
 * Tombstones the server still keeps, newest deletion first, except those this device already
 * brought back (their restore not pushed yet).
 * @param {SyncTransport} transport
 * @param {Set<string>} restoredHere
 * @returns {Promise<DeletedProject[]>}
 */
export async function listRecentlyDeleted(transport, restoredHere) {
  const listing = answerOf(await transport.listProjects({ includeDeleted: true }), 'The project list is not on the server');
  return listing
    .flatMap(({ id, name, revision, deletedAt }) => (deletedAt && !restoredHere.has(id) ? [{ id, name, revision, deletedAt }] : []))
    .sort((a, b) => b.deletedAt.localeCompare(a.deletedAt));
}

/**
 * What a restore of `revision` commits, and the current server revision it goes on top of.
 * @param {SyncTransport} transport
 * @param {string} projectId
 * @param {number} revision
 */
export async function revisionToRestore(transport, projectId, revision) {
  const [revisions, restored] = await Promise.all([listRevisions(transport, projectId), getRevision(transport, projectId, revision)]);
  if (restored.deletedAt) throw new HistoryError('rejected', 'That revision is the deletion itself; restore the one before it');
  return { restored, currentRevision: revisions[0]?.revision ?? revision };
}

/**
 * For a deleted project: its newest revision that had data, on top of its tombstone.
 * @param {SyncTransport} transport
 * @param {string} projectId
 */
export async function deletedProjectToRestore(transport, projectId) {
  const revisions = await listRevisions(transport, projectId);
  const withData = revisions.find((kept) => !kept.deletedAt);
  if (!withData) throw new HistoryError('not-found', 'No revision of this project with content is kept any more');
  const restored = await getRevision(transport, projectId, withData.revision);
  return { restored, currentRevision: revisions[0].revision };
}

/**
 * The restore as a local commit, under the project's lock. The push that follows is based on
 * `currentRevision`, the server revision the user chose from (a tombstone for a deleted project):
 * the restore goes on top of it instead of meeting it as a conflict. Edits of this device the
 * server has not seen (queued, parked as a conflict, made signed out) would be replaced without a
 * trace, so they are kept first as a conflicted copy, a project of their own.
 * @param {CommitDependencies & { metadata: SyncMetadata }} deps
 * @param {ServerProject} restored
 * @param {number} currentRevision
 */
export async function restoreLocally(deps, restored, currentRevision) {
  const { metadata, localStore, device } = deps;
  const [current, queued, parked, record] = await Promise.all([
    localStore.get(restored.id), metadata.queueEntry(restored.id), metadata.error(restored.id), device.get(restored.id),
  ]);
  const unsynced = Boolean(queued || parked?.kind === 'conflict' || record?.editedWithoutSession);
  const replacesUnsyncedEdits = current && unsynced && !(current.name === restored.name && sameJson(current.data, restored.data));
  if (replacesUnsyncedEdits) await keepAsConflictedCopy(deps, current);
  await metadata.setLastSyncedRevision(restored.id, currentRevision);
  // A parked conflict is answered by the restore: it is what the user chose to have.
  if (parked) await metadata.clearError(restored.id);
  await commitLocally(deps, { id: restored.id, name: restored.name, data: restored.data }, undefined);
}
