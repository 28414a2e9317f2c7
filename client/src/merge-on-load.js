// Merge on load: fetch the server list, plan with merge.js, then apply the plan to the local store.
// A pull never overwrites a project with unsynced edits: that is re-checked under the project's
// lock, because an edit may have been saved after the plan was made. Nor does it replace a project
// an editor holds uncommitted typing on: that pull waits, and the project shows `changed-on-server`.
import { adoptServerCopy, forgetProject } from './local-commits.js';
import { planMerge } from './merge.js';
import { forEachConcurrently } from './pool.js';
import { stopFor } from './stops.js';

/** @typedef {import('./sync-types.js').SessionContext} SessionContext */
/** @typedef {import('./sync-types.js').ServerListEntry} ServerListEntry */
/** @typedef {import('./stops.js').Stop} Stop */

/**
 * @param {SessionContext} context
 * @returns {Promise<Stop | undefined>}
 */
export async function mergeWithServer(context) {
  const { transport, localStore, metadata, device, user, settings } = context;
  const listed = await transport.listProjects();
  if (listed.kind !== 'ok') return stopFor(listed);
  // Read local state after the list arrived, so a push that finished meanwhile is accounted for.
  const [localProjects, queue, lastSynced, otherAccountIds] = await Promise.all([
    localStore.list(), metadata.queue(), metadata.lastSyncedRevisions(), device.projectsOfOtherAccounts(user.id),
  ]);
  const plan = planMerge({
    serverList: listed.body,
    localIds: new Set(localProjects.map((project) => project.id)),
    otherAccountIds,
    queuedIds: new Set(queue.map((entry) => entry.projectId)),
    lastSynced,
  });
  // Until this merge ends, the pulls the last one held stay known: typing that ends meanwhile
  // asks for the next merge by them.
  /** @type {Set<string>} */
  const held = new Set();
  for (const tombstone of plan.forget) await metadata.forget(tombstone.id);
  for (const tombstone of plan.removeLocally) await removeTombstonedLocally(context, held, tombstone);
  /** @type {Stop | undefined} */
  let stop;
  await forEachConcurrently(plan.pull, settings.concurrency, async (entry) => {
    if (!stop && !context.isStopped()) stop = await pullProject(context, held, entry);
  });
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
 * @param {Set<string>} held pulls held back for typing, in this merge
 * @param {ServerListEntry} entry
 * @returns {Promise<Stop | undefined>}
 */
async function pullProject(context, held, entry) {
  const { transport, tabs, metadata, localStore } = context;
  if (await heldByTyping(tabs, held, entry.id)) return undefined;
  const fetched = await transport.getProject(entry.id);
  if (fetched.kind === 'not-found') return undefined;
  if (fetched.kind !== 'ok') return stopFor(fetched);
  const server = fetched.body;
  if (server.deletedAt) {
    await removeTombstonedLocally(context, held, server);
    return undefined;
  }
  const pulled = await tabs.withProjectLock(server.id, async () => {
    // An edit may have been saved since the plan was made: then the push decides, not the pull.
    if (await metadata.queueEntry(server.id)) return false;
    if (await heldByTyping(tabs, held, server.id)) return false;
    const alreadyHere = (await metadata.lastSyncedRevision(server.id)) >= server.revision && (await localStore.get(server.id));
    if (alreadyHere) return false;
    await adoptServerCopy(context, server);
    return true;
  });
  if (pulled) context.publishLocalChange(server.id);
  return undefined;
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

/**
 * A project tombstoned on the server goes here too, unless it has unsynced edits (then the push
 * that follows meets the tombstone and the user decides).
 * @param {SessionContext} context
 * @param {Set<string>} held
 * @param {{ id: string }} tombstone
 */
async function removeTombstonedLocally(context, held, tombstone) {
  const removed = await context.tabs.withProjectLock(tombstone.id, async () => {
    if (await context.metadata.queueEntry(tombstone.id)) return false;
    if (await heldByTyping(context.tabs, held, tombstone.id)) return false;
    await forgetProject(context, tombstone.id);
    return true;
  });
  if (removed) context.publishLocalChange(tombstone.id);
}
