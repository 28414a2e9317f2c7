// The server API over fetch. Every HTTP status is turned into an outcome here and nowhere else.

import { sessionCredentials } from './session-credentials.js';

/** @typedef {import('../sync-types.js').SyncTransport} SyncTransport */
/** @typedef {import('../sync-types.js').SessionAuth} SessionAuth */
/** @typedef {import('../sync-types.js').ChangeItem} ChangeItem */
/** @template T @typedef {import('../sync-types.js').TransportOutcome<T>} TransportOutcome */

/** Statuses worth trying again: the request was fine, the server or the network was not. */
const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

const SESSION_ENDED = /** @type {const} */ ({ kind: 'unauthorized', message: 'Your session has ended' });

/** Bodies of this many bytes or more go gzip-encoded: JSON projects shrink 5-20x on a phone's uplink. */
export const COMPRESS_BODIES_FROM_BYTES = 8 * 1024;

/**
 * @param {{ baseUrl?: string, fetch?: typeof fetch, auth?: SessionAuth, compressFromBytes?: number }} [options]
 *   without `auth`, the Better Auth cookie of the page's own origin
 * @returns {SyncTransport}
 */
export function createHttpTransport({
  baseUrl = '',
  fetch: send = globalThis.fetch.bind(globalThis),
  auth = { mode: 'cookie' },
  compressFromBytes = COMPRESS_BODIES_FROM_BYTES,
} = {}) {
  const session = sessionCredentials(auth);
  // Cleared when a server answers a gzip body 415 (one that does not decode gzip): then bodies go plain.
  let serverDecodesGzip = true;

  /**
   * @param {string} method
   * @param {string} path
   * @param {(body: any) => boolean} isExpected whether a 2xx body is this API's answer to the call
   * @param {unknown} [body]
   * @returns {Promise<TransportOutcome<any>>}
   */
  async function call(method, path, isExpected, body) {
    try {
      const token = await session.token() ?? await session.freshTokenAfter(undefined);
      if (session.bearer && token === undefined) return SESSION_ENDED;
      const json = body === undefined ? undefined : JSON.stringify(body);
      let payload = json === undefined ? undefined : await encoded(json);
      let response = await request(method, path, payload, token);
      if (response?.status === 415 && payload?.gzip) {
        serverDecodesGzip = false;
        payload = { bytes: /** @type {string} */ (json), gzip: false };
        response = await request(method, path, payload, token);
      }
      if (response?.status === 401 && session.bearer) {
        // Once: a token refreshed in the meantime gets its chance; a second 401 means the session ended.
        const fresh = await session.freshTokenAfter(token);
        if (fresh === undefined) return SESSION_ENDED;
        response = await request(method, path, payload, fresh);
      }
      if (!response) return { kind: 'retry', message: 'You are offline or the server cannot be reached' };
      return outcomeOf(response, isExpected);
    } catch {
      // The editor's token function failed (its auth server unreachable): the session may well live on.
      return { kind: 'retry', message: 'The session could not be read' };
    }
  }

  /**
   * The body as it goes: gzip-encoded when it is large enough to gain and the browser has
   * CompressionStream (answers need nothing: fetch decodes them by itself), else the JSON as it is.
   * @param {string} json
   * @returns {Promise<{ bytes: string | ArrayBuffer, gzip: boolean }>}
   */
  async function encoded(json) {
    if (!serverDecodesGzip || typeof CompressionStream !== 'function') return { bytes: json, gzip: false };
    const plain = new TextEncoder().encode(json);
    if (plain.byteLength < compressFromBytes) return { bytes: json, gzip: false };
    const gzipped = new Blob([plain]).stream().pipeThrough(new CompressionStream('gzip'));
    return { bytes: await new Response(gzipped).arrayBuffer(), gzip: true };
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {{ bytes: string | ArrayBuffer, gzip: boolean } | undefined} payload
   * @param {string | undefined} token
   * @returns {Promise<Response | undefined>} undefined when no answer came
   */
  async function request(method, path, payload, token) {
    /** @type {Record<string, string>} */
    const headers = { Accept: 'application/json' };
    if (payload !== undefined) headers['Content-Type'] = 'application/json';
    if (payload?.gzip) headers['Content-Encoding'] = 'gzip';
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    try {
      return await send(`${baseUrl}${path}`, {
        method,
        credentials: session.credentials,
        cache: 'no-store',
        headers,
        body: payload?.bytes,
      });
    } catch {
      return undefined;
    }
  }

  const projectPath = (/** @type {string} */ id) => `/api/projects/${encodeURIComponent(id)}`;

  return {
    async listChanges(since) {
      const outcome = await call('GET', since === undefined ? '/api/changes' : `/api/changes?since=${encodeURIComponent(since)}`, isChangesPage);
      // Past the tombstone purge horizon (410), or a cursor the server cannot read (400): only a
      // listing from scratch can go on.
      const cursorRefused = since !== undefined && outcome.kind === 'rejected' && (outcome.status === 410 || outcome.status === 400);
      return cursorRefused ? { kind: 'cursor-expired' } : outcome;
    },
    async pushChanges(items) {
      const outcome = await call('POST', '/api/changes', (body) => answersEvery(items, body), { changes: items });
      if (outcome.kind !== 'ok') return outcome;
      /** @type {any[]} */
      const results = outcome.body.results;
      return { kind: 'ok', body: results.map(({ status, ...result }) => outcomeOfStatus(status, result, hasRevision)) };
    },
    getProject: (id) => call('GET', projectPath(id), hasRevision),
    putProject: (id, request) => call('PUT', projectPath(id), hasRevision, request),
    deleteProject: (id, baseRevision) => call('DELETE', projectPath(id), hasRevision, { baseRevision }),
    listProjects: ({ includeDeleted }) => call('GET', includeDeleted ? '/api/projects?includeDeleted=1' : '/api/projects', isListOf(hasRevision)),
    listRevisions: (id) => call('GET', `${projectPath(id)}/revisions`, isListOf(hasRevision)),
    getRevision: (id, revision) => call('GET', `${projectPath(id)}/revisions/${revision}`, hasRevision),
  };
}

/**
 * A 2xx from something that is not the API (a captive portal's page, a proxy) is retried like an
 * outage. Above all, a write receipt without the new revision is never recorded: every later push
 * of the project would be based on a wrong revision and conflict.
 * @param {any} body
 */
function hasRevision(body) {
  return typeof body === 'object' && body !== null && Number.isSafeInteger(body.revision);
}

/** @param {(entry: any) => boolean} isEntry */
function isListOf(isEntry) {
  return (/** @type {any} */ body) => Array.isArray(body) && body.every(isEntry);
}

/** @param {any} body */
function isChangesPage(body) {
  return Array.isArray(body?.changes) && typeof body.cursor === 'string' && typeof body.more === 'boolean';
}

/**
 * A batch answer is only taken when it answers every item, in order: an answer recorded against
 * the wrong project would be worse than none (the writes go again, with their writeIds).
 * @param {ChangeItem[]} items
 * @param {any} body
 */
function answersEvery(items, body) {
  const results = body?.results;
  return Array.isArray(results) && results.length === items.length
    && results.every((result, index) => result?.id === items[index].id && Number.isInteger(result.status));
}

/**
 * @param {Response} response
 * @param {(body: any) => boolean} isExpected
 * @returns {Promise<TransportOutcome<any>>}
 */
async function outcomeOf(response, isExpected) {
  const body = await response.json().catch(() => undefined);
  return outcomeOfStatus(response.status, body, isExpected, response.headers.get('Retry-After'));
}

/**
 * The one mapping from an HTTP status to an outcome, for whole responses and for each item of a batch.
 * @param {number} status
 * @param {any} body
 * @param {(body: any) => boolean} isExpected
 * @param {string | null} [retryAfter]
 * @returns {TransportOutcome<any>}
 */
function outcomeOfStatus(status, body, isExpected, retryAfter = null) {
  if (status >= 200 && status < 300) {
    if (isExpected(body)) return { kind: 'ok', body };
    return { kind: 'retry', message: 'The server gave an answer this app does not understand' };
  }
  if (status === 409 && body?.server) {
    // A live copy without data comes only from a function of the release before history, during the
    // deploy that moved data (docs/migrations.md): offering it, or taking it, would lose the content.
    if (!body.server.deletedAt && body.server.data === null) return { kind: 'retry', status, message: 'The server is being updated' };
    return { kind: 'conflict', server: body.server };
  }
  if (status === 404) return { kind: 'not-found' };
  if (status === 401) return { kind: 'unauthorized', message: 'Your session has ended' };
  if (RETRYABLE.has(status)) {
    return { kind: 'retry', status, retryAfterSeconds: parseRetryAfter(retryAfter), message: retryMessage(status) };
  }
  return { kind: 'rejected', status, message: refusalMessage(status, body?.error) };
}

/** @param {number} status */
function retryMessage(status) {
  if (status === 429) return 'The server is busy with too many changes from this account';
  if (status === 503) return 'The server is unavailable for a moment';
  return 'The server had a problem';
}

/** Shown as "Sync error: storage quota reached …"; the edits stay queued and go again on the next edit. */
export const QUOTA_REACHED = 'Storage quota reached: delete projects to make room, then edit to sync again';

/**
 * The server's own message is shown only where it says what to fix in the project (400, 422).
 * @param {number} status
 * @param {{ code?: unknown, message?: unknown } | undefined} serverError
 */
function refusalMessage(status, serverError) {
  const serverMessage = serverError?.message;
  if (status === 413) return 'This project is too large to sync';
  // The account is over its storage quota (bytes or projects): no retry can pass until it shrinks.
  if (status === 403 && serverError?.code === 'quota_exceeded') return QUOTA_REACHED;
  if ((status === 400 || status === 422) && typeof serverMessage === 'string' && serverMessage) {
    return `The server refused this project: ${serverMessage}`;
  }
  return 'The server refused this change';
}

/**
 * Retry-After is either seconds or an HTTP date; anything else means "use our own backoff".
 * @param {string | null} header
 * @returns {number | undefined}
 */
export function parseRetryAfter(header) {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}
