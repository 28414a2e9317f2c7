// Merge on load: read the changes feed from this device's cursor (every page from scratch on a new
// device, one small request when nothing changed), plan each page with merge.js and apply it, then
// pull the projects owed from earlier pages one by one.
//
// A page is applied under the locks of its projects (all at once, see project-locks.js), re-reading
// the queue, the revisions and the typing under them: an edit saved after the page arrived is never
// overwritten, and a project an editor holds uncommitted typing on is not replaced. The feed moves
// past such a project, so it is remembered as owed (in the metadata, with the cursor) and fetched
// with GET /api/projects/{id} once the typing ended, if it is not queued by then (the push
// decides). The cursor moves only with the page it ends, in one transaction; the next page is
// asked for while this one is applied.
import { adoptServerCopy, adoptServerChanges, forgetProject } from './local-commits.js';
import { planPage, whoseStorageDecides } from './merge.js';
import { forEachConcurrently } from './pool.js';
import { typingAmong, withProjectLocks } from './project-locks.js';
import { stopFor } from './stops.js';

/** @typedef {import('./sync-types.js').SessionContext} SessionContext */
/** @typedef {import('./sync-types.js').ServerProject} ServerProject */
/** @typedef {import('./sync-types.js').ChangesPage} ChangesPage */
/** @typedef {import('./sync-types.js').FeedPosition} FeedPosition */
/** @typedef {import('./stops.js').Stop} Stop */

/**
 * @param {SessionContext} context
 * @returns {Promise<Stop | undefined>}
 */
export async function mergeWithServer(context) {
  // Until this merge ends, the pulls the last one held stay known: typing that ends meanwhile
  // asks for the next merge by them.
  /** @type {Set<string>} */
  const held = new Set();
  const stop = (await readFeed(context, held)) ?? (await pullOwedProjects(context, held));
  context.heldPulls = held;
  return stop;
}

/**
 * Whether a pull this merge held back is free to go: its typing ended while the merge ran.
 * @param {SessionContext} context
 */
export async function heldPullsReleased({ tabs, heldPulls }) {
  const typing = await Promise.all([...heldPulls].map((projectId) => tabs.isTyping(projectId)));
  return typing.some((isTyping) => !isTyping);
}

/**
 * @param {SessionContext} context
 * @param {Set<string>} held
 * @returns {Promise<Stop | undefined>}
 */
async function readFeed(context, held) {
  const { transport, metadata, device, user } = context;
  const otherAccountIds = await device.projectsOfOtherAccounts(user.id);
  let position = await metadata.feedPosition();
  if (position.cursor === undefined) position = await listingFromScratch(context);
  let asking = transport.listChanges(position.cursor);
  while (!context.isStopped()) {
    const page = await asking;
    if (page.kind === 'cursor-expired') {
      position = await listingFromScratch(context);
      asking = transport.listChanges(position.cursor);
      continue;
    }
    if (page.kind !== 'ok') return stopFor(page);
    // The next page is on its way while this one is applied: the server's time hides behind
    // IndexedDB's. Only the page applied moves the stored cursor, so a crash still re-reads it.
    if (page.body.more) asking = transport.listChanges(page.body.cursor);
    position = await applyPage(context, held, page.body, position, otherAccountIds);
    if (!page.body.more) return undefined;
  }
  return undefined;
}

/**
 * A listing without a cursor names every live project; the projects synced here before it that it
 * never names were deleted on the server meanwhile (their tombstones may be purged).
 * @param {SessionContext} context
 * @returns {Promise<FeedPosition>}
 */
async function listingFromScratch({ metadata }) {
  return { unlisted: Object.fromEntries(await metadata.lastSyncedRevisions()) };
}

/**
 * @param {SessionContext} context
 * @param {Set<string>} held
 * @param {ChangesPage} page
 * @param {FeedPosition} position before the page
 * @param {Set<string>} otherAccountIds
 * @returns {Promise<FeedPosition>} after the page
 */
async function applyPage(context, held, page, position, otherAccountIds) {
  const unlisted = position.unlisted && withoutListed(position.unlisted, page.changes);
  const deletedMeanwhile = !page.more && unlisted ? unlisted : {};
  /** @type {FeedPosition} */
  const next = { cursor: page.cursor, ...(page.more && unlisted ? { unlisted } : {}) };
  const projectIds = [...page.changes.map((server) => server.id), ...Object.keys(deletedMeanwhile)]
    .filter((id) => !otherAccountIds.has(id));
  const plan = await withProjectLocks(context.tabs, projectIds, async () => {
    const planned = await planUnderLocks(context, page.changes, deletedMeanwhile, otherAccountIds);
    const nothingToWrite = !planned.adopt.length && !planned.remove.length && !planned.forget.length && !planned.owe.length;
    if (!(nothingToWrite && samePosition(position, next))) await adoptServerChanges(context, planned, next);
    return planned;
  });
  for (const projectId of plan.owe) held.add(projectId);
  const changedHere = [...plan.adopt.map((server) => server.id), ...plan.remove];
  if (changedHere.length) context.publishLocalChange(changedHere);
  return next;
}

/**
 * @param {SessionContext} context
 * @param {ServerProject[]} changes
 * @param {Record<string, number>} deletedMeanwhile
 * @param {Set<string>} otherAccountIds
 */
async function planUnderLocks({ metadata, tabs, localStore }, changes, deletedMeanwhile, otherAccountIds) {
  const [queuedIds, lastSynced] = await Promise.all([metadata.queuedIds(), metadata.lastSyncedRevisions()]);
  const ids = [...new Set([...changes.map((server) => server.id), ...Object.keys(deletedMeanwhile)])];
  const [typingIds, localIds] = await Promise.all([
    typingAmong(tabs, ids),
    idsWhere(whoseStorageDecides({ changes, deletedMeanwhile, lastSynced }), async (id) => Boolean(await localStore.get(id))),
  ]);
  return planPage({
    changes, deletedMeanwhile, otherAccountIds, typingIds, localIds, lastSynced,
    queuedIds: new Set(queuedIds),
  });
}

/**
 * @param {string[]} ids
 * @param {(id: string) => Promise<boolean>} holds
 * @returns {Promise<Set<string>>}
 */
async function idsWhere(ids, holds) {
  const answers = await Promise.all(ids.map(holds));
  return new Set(ids.filter((_id, index) => answers[index]));
}

/**
 * @param {Record<string, number>} unlisted
 * @param {ServerProject[]} changes
 */
function withoutListed(unlisted, changes) {
  const rest = { ...unlisted };
  for (const server of changes) delete rest[server.id];
  return rest;
}

/**
 * @param {FeedPosition} a
 * @param {FeedPosition} b
 */
function samePosition(a, b) {
  return a.cursor === b.cursor && a.unlisted === undefined && b.unlisted === undefined;
}

// ---- owed pulls ---------------------------------------------------------------------------------

/**
 * @param {SessionContext} context
 * @param {Set<string>} held
 * @returns {Promise<Stop | undefined>}
 */
async function pullOwedProjects(context, held) {
  const owed = await context.metadata.owedPulls();
  /** @type {Stop | undefined} */
  let stop;
  await forEachConcurrently(owed, context.settings.concurrency, async (projectId) => {
    if (!stop && !context.isStopped()) stop = await pullOwedProject(context, held, projectId);
  });
  return stop;
}

/**
 * @param {SessionContext} context
 * @param {Set<string>} held
 * @param {string} projectId
 * @returns {Promise<Stop | undefined>}
 */
async function pullOwedProject(context, held, projectId) {
  const { transport, tabs, metadata } = context;
  if (await heldByTyping(tabs, held, projectId)) return undefined;
  if (await metadata.queueEntry(projectId)) {
    await metadata.dropOwedPull(projectId);
    return undefined;
  }
  const fetched = await transport.getProject(projectId);
  if (fetched.kind !== 'ok' && fetched.kind !== 'not-found') return stopFor(fetched);
  // Not found: the tombstone is purged already.
  const server = fetched.kind === 'ok' && !fetched.body.deletedAt ? fetched.body : undefined;
  const changed = await tabs.withProjectLock(projectId, async () => {
    if (await metadata.queueEntry(projectId)) {
      await metadata.dropOwedPull(projectId);
      return false;
    }
    if (await heldByTyping(tabs, held, projectId)) return false;
    if (server && (await alreadyHere(context, server))) {
      await metadata.dropOwedPull(projectId);
      return false;
    }
    if (server) await adoptServerCopy(context, server);
    else await forgetProject(context, projectId);
    return true;
  });
  if (changed) context.publishLocalChange([projectId]);
  return undefined;
}

/**
 * Replacing a copy with itself would only move its version, and turn an editor's next commit into a needless conflict.
 * @param {SessionContext} context
 * @param {ServerProject} server
 */
async function alreadyHere({ metadata, localStore }, server) {
  return (await metadata.lastSyncedRevision(server.id)) >= server.revision && Boolean(await localStore.get(server.id));
}

/**
 * @param {SessionContext['tabs']} tabs
 * @param {Set<string>} held
 * @param {string} projectId
 */
async function heldByTyping(tabs, held, projectId) {
  if (!(await tabs.isTyping(projectId))) return false;
  held.add(projectId);
  return true;
}
