// Media does not sync (the spec's "Media handling"): a project's `data` only names files kept in
// the browser's origin private file system (OPFS), so another device may lack them. A reference is
// any string in `data`, at any depth, of the form `opfs:<absolute path>` (for example
// `opfs:/media/3f0c9b2e.png`); the editor decides where references sit in its own data.

/** @typedef {import('./sync-types.js').LocalMedia} LocalMedia */
/** @typedef {import('./sync-types.js').MissingMedia} MissingMedia */

const SCHEME = 'opfs:';

/**
 * The reference that `data` stores for a file at `path` in OPFS.
 * @param {string} path an absolute path, `/media/3f0c9b2e.png`
 */
export function mediaReference(path) {
  if (!path.startsWith('/')) throw new TypeError(`A media path is absolute (starts with "/"): ${JSON.stringify(path)}`);
  return `${SCHEME}${path}`;
}

/**
 * The OPFS path a reference names, or undefined when the value is not a media reference.
 * @param {unknown} value
 */
export function mediaPath(value) {
  return typeof value === 'string' && value.startsWith(`${SCHEME}/`) ? value.slice(SCHEME.length) : undefined;
}

/**
 * The references in `data` that `localMedia` does not have, each once, in the order they appear.
 * @param {unknown} data a project's data
 * @param {LocalMedia} localMedia
 * @returns {Promise<MissingMedia[]>}
 */
export async function listMissingMedia(data, localMedia) {
  const paths = new Set();
  collectPaths(data, paths);
  const found = await Promise.all([...paths].map(async (path) => ({ path, present: await localMedia.has(path) })));
  return found.filter(({ present }) => !present).map(({ path }) => ({ reference: mediaReference(path), path }));
}

/**
 * @param {unknown} value
 * @param {Set<string>} paths
 */
function collectPaths(value, paths) {
  const path = mediaPath(value);
  if (path !== undefined) paths.add(path);
  else if (Array.isArray(value)) for (const item of value) collectPaths(item, paths);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) collectPaths(item, paths);
}

/**
 * A copy of `data` in which every occurrence of the reference `from` is `to` (the file that replaced
 * a missing one). `data` itself is left as it was; parts without the reference are shared, not copied.
 * @template T
 * @param {T} data a project's data
 * @param {string} from
 * @param {string} to
 * @returns {T}
 */
export function replaceMediaReference(data, from, to) {
  for (const reference of [from, to]) {
    if (mediaPath(reference) === undefined) throw new TypeError(`Not a media reference: ${JSON.stringify(reference)}`);
  }
  return /** @type {T} */ (replaced(data, from, to));
}

/**
 * @param {unknown} value
 * @param {string} from
 * @param {string} to
 * @returns {unknown}
 */
function replaced(value, from, to) {
  if (value === from) return to;
  if (Array.isArray(value)) {
    const items = value.map((item) => replaced(item, from, to));
    return items.every((item, index) => item === value[index]) ? value : items;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    const items = entries.map(([, item]) => replaced(item, from, to));
    const changed = items.some((item, index) => item !== entries[index][1]);
    return changed ? Object.fromEntries(entries.map(([key], index) => [key, items[index]])) : value;
  }
  return value;
}
