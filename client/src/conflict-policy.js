// The v1 conflict policy (spec: "server-wins in background + Resolve prompt"), in one place.
//
// - Pulling (merge on load, polling): the server copy replaces the local one only when this device
//   has no unsynced edits to the project; a queued project is never overwritten by a pull.
// - A push that gets 409 carries unsynced edits, so it never overwrites either side on its own:
//   the project is parked as a conflict until the user picks "Keep mine" (push again on top of the
//   server's revision) or "Take theirs" (replace the local copy). Parking, not retrying, is what
//   keeps a client from looping on 409s.
// - A 409 whose server copy holds exactly what we sent is no conflict (our own earlier write whose
//   answer was lost, or the same edit made twice): we adopt its revision.
// - A delete that gets 409 means another device edited the project after we last saw it. The edit
//   wins and the project comes back here: an unwanted project is easy to delete again, a lost edit
//   cannot be recovered. A delete that meets a tombstone is simply done.

/** @typedef {import('./sync-types.js').LocalProject} LocalProject */
/** @typedef {import('./sync-types.js').ServerProject} ServerProject */

/**
 * @param {{ name: string, data: unknown }} sent the body of the PUT that got 409
 * @param {ServerProject} server
 * @returns {'adopt-server-revision' | 'ask-user'}
 */
export function decidePushConflict(sent, server) {
  const sameContent = !server.deletedAt && server.name === sent.name && sameJson(server.data, sent.data);
  return sameContent ? 'adopt-server-revision' : 'ask-user';
}

/**
 * @param {ServerProject} server
 * @param {boolean} recreatedLocally the editor saved the project again after deleting it
 * @returns {'already-deleted' | 'restore-server-copy' | 'ask-user'}
 */
export function decideDeleteConflict(server, recreatedLocally) {
  if (server.deletedAt) return 'already-deleted';
  return recreatedLocally ? 'ask-user' : 'restore-server-copy';
}

/**
 * Structural equality of JSON values. Key order is ignored: two devices' serializers need not agree on it.
 * @param {unknown} a
 * @param {unknown} b
 * @returns {boolean}
 */
export function sameJson(a, b) {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aRecord = /** @type {Record<string, unknown>} */ (a);
  const bRecord = /** @type {Record<string, unknown>} */ (b);
  const aKeys = Object.keys(aRecord);
  if (aKeys.length !== Object.keys(bRecord).length) return false;
  return aKeys.every((key) => Object.hasOwn(bRecord, key) && sameJson(aRecord[key], bRecord[key]));
}
