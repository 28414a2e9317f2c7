// Every HTTP answer of the contract maps to one outcome, in the one adapter that knows HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QUOTA_REACHED, createHttpTransport, parseRetryAfter } from '../src/adapters/http-transport.js';

/**
 * A fetch that records its calls and answers with `status`, `body` and `headers`.
 * @param {number} status
 * @param {unknown} [body]
 * @param {Record<string, string>} [headers]
 */
function answering(status, body, headers = {}) {
  /** @type {Array<{ url: string, init: RequestInit }>} */
  const calls = [];
  /** @type {typeof fetch} */
  const send = async (url, init = {}) => {
    calls.push({ url: String(url), init });
    return new Response(body === undefined ? null : JSON.stringify(body), { status, headers });
  };
  return { calls, transport: createHttpTransport({ baseUrl: 'https://editor.example', fetch: send }) };
}

test('PUT sends the contract body as JSON with the same-origin session cookie by default', async () => {
  const { calls, transport } = answering(200, { id: 'p 1', revision: 3, updatedAt: 'now' });
  const request = { name: 'N', data: { text: 't' }, baseRevision: 2, writeId: 'w-1', clientUpdatedAt: '2026-01-01T00:00:00.000Z' };
  const outcome = await transport.putProject('p 1', request);
  assert.deepEqual(outcome, { kind: 'ok', body: { id: 'p 1', revision: 3, updatedAt: 'now' } });
  assert.equal(calls[0].url, 'https://editor.example/api/projects/p%201');
  assert.equal(calls[0].init.method, 'PUT');
  assert.equal(calls[0].init.credentials, 'same-origin');
  assert.deepEqual(JSON.parse(String(calls[0].init.body)), request);
  assert.equal(/** @type {Record<string, string>} */ (calls[0].init.headers)['Content-Type'], 'application/json');
});

test('the feed is asked from scratch without a cursor, and after one with it; DELETE carries baseRevision', async () => {
  const page = { changes: [], cursor: 'c/9+', more: false };
  const { calls, transport } = answering(200, page);
  assert.deepEqual(await transport.listChanges(undefined), { kind: 'ok', body: page });
  await transport.listChanges('c/9+');
  await transport.deleteProject('p1', 7);
  assert.equal(calls[0].url, 'https://editor.example/api/changes');
  assert.equal(calls[1].url, 'https://editor.example/api/changes?since=c%2F9%2B');
  assert.equal(calls[2].init.method, 'DELETE');
  assert.deepEqual(JSON.parse(String(calls[2].init.body)), { baseRevision: 7 });
});

test('a cursor past the purge horizon (410) or unreadable (400) asks for a listing from scratch', async () => {
  const expired = { error: { code: 'cursor_expired', message: 'Too old' } };
  assert.deepEqual(await answering(410, expired).transport.listChanges('c1'), { kind: 'cursor-expired' });
  assert.deepEqual(await answering(400, { error: { code: 'invalid_cursor', message: 'No' } }).transport.listChanges('c1'), { kind: 'cursor-expired' });
  assert.equal((await answering(400).transport.listChanges(undefined)).kind, 'rejected', 'without a cursor there is nothing to start over from');
  assert.equal((await answering(200, { changes: [] }).transport.listChanges('c1')).kind, 'retry', 'a page without its cursor is not an answer');
});

test('a batch is one POST of every item; each result maps to the outcome its own PUT or DELETE would have had', async () => {
  const server = { id: 'b', name: 'B', data: {}, revision: 5, updatedAt: 'x', deletedAt: null };
  const { calls, transport } = answering(200, { results: [
    { id: 'a', status: 200, revision: 2, updatedAt: 'now' },
    { id: 'b', status: 409, server },
    { id: 'c', status: 422, error: { code: 'invalid_field', message: 'name must be a string' } },
    { id: 'd', status: 404, error: { code: 'not_found', message: 'Project not found' } },
  ] });
  const items = [
    { id: 'a', name: 'A', data: {}, baseRevision: 1, writeId: 'w-a', clientUpdatedAt: '' },
    { id: 'b', name: 'B2', data: {}, baseRevision: 1, writeId: 'w-b', clientUpdatedAt: '' },
    { id: 'c', name: 'C', data: {}, baseRevision: 0, writeId: 'w-c', clientUpdatedAt: '' },
    { id: 'd', deleted: /** @type {const} */ (true), baseRevision: 3, writeId: 'w-d' },
  ];
  assert.deepEqual(await transport.pushChanges(items), { kind: 'ok', body: [
    { kind: 'ok', body: { id: 'a', revision: 2, updatedAt: 'now' } },
    { kind: 'conflict', server },
    { kind: 'rejected', status: 422, message: 'The server refused this project: name must be a string' },
    { kind: 'not-found' },
  ] });
  assert.equal(calls[0].url, 'https://editor.example/api/changes');
  assert.equal(calls[0].init.method, 'POST');
  assert.deepEqual(JSON.parse(String(calls[0].init.body)), { changes: items });
});

test('a batch answer that does not answer every item, in order, is not taken', async () => {
  const items = [{ id: 'a', name: 'A', data: {}, baseRevision: 0, writeId: 'w', clientUpdatedAt: '' }, { id: 'b', deleted: /** @type {const} */ (true), baseRevision: 1, writeId: 'v' }];
  const answers = [{ results: [{ id: 'a', status: 200, revision: 1 }] }, { results: [{ id: 'b', status: 200, revision: 2 }, { id: 'a', status: 200, revision: 1 }] }, {}];
  for (const body of answers) assert.equal((await answering(200, body).transport.pushChanges(items)).kind, 'retry', JSON.stringify(body));
  const withoutRevision = await answering(200, { results: [{ id: 'a', status: 200 }, { id: 'b', status: 200, revision: 2 }] }).transport.pushChanges(items);
  assert.equal(withoutRevision.kind === 'ok' && withoutRevision.body[0].kind, 'retry', 'an item receipt without its revision is never recorded');
});

test('a 409 whose live server copy has no data is retried, never offered as a conflict', async () => {
  const server = { id: 'p1', name: 'N', data: null, revision: 4, updatedAt: 'u', deletedAt: null };
  assert.equal((await answering(409, { server }).transport.putProject('p1', { name: 'N', data: {}, baseRevision: 3 })).kind, 'retry');
  const tombstone = { ...server, deletedAt: 'd' };
  assert.equal((await answering(409, { server: tombstone }).transport.putProject('p1', { name: 'N', data: {}, baseRevision: 3 })).kind, 'conflict');
});

test('409 with the server copy is a conflict', async () => {
  const server = { id: 'p1', name: 'N', data: {}, revision: 5, updatedAt: 'x', deletedAt: null };
  const { transport } = answering(409, { server });
  assert.deepEqual(await transport.putProject('p1', { name: 'N', data: {}, baseRevision: 1, writeId: 'w', clientUpdatedAt: '' }), { kind: 'conflict', server });
});

test('429 and 503 are retryable and carry Retry-After; other 5xx are retryable too', async () => {
  assert.deepEqual(await answering(429, { error: { code: 'rate_limited', message: 'Slow down' } }, { 'Retry-After': '4' }).transport.listChanges(undefined),
    { kind: 'retry', status: 429, retryAfterSeconds: 4, message: 'The server is busy with too many changes from this account' });
  assert.deepEqual(await answering(503, undefined, { 'Retry-After': '2' }).transport.listChanges(undefined),
    { kind: 'retry', status: 503, retryAfterSeconds: 2, message: 'The server is unavailable for a moment' });
  assert.deepEqual(await answering(502).transport.listChanges(undefined),
    { kind: 'retry', status: 502, retryAfterSeconds: undefined, message: 'The server had a problem' });
});

test('401 is unauthorized, 404 not found, 413 and other 4xx rejected', async () => {
  assert.equal((await answering(401, { error: { code: 'unauthorized', message: 'No session' } }).transport.listChanges(undefined)).kind, 'unauthorized');
  assert.deepEqual(await answering(404).transport.getProject('p1'), { kind: 'not-found' });
  assert.deepEqual(await answering(413, { error: { code: 'payload_too_large', message: 'the request body is 4300147 bytes' } }).transport.getProject('p1'),
    { kind: 'rejected', status: 413, message: 'This project is too large to sync' });
  assert.deepEqual(await answering(422, { error: { code: 'invalid_field', message: 'name must be a string' } }).transport.getProject('p1'),
    { kind: 'rejected', status: 422, message: 'The server refused this project: name must be a string' });
});

test('every message reads as a sentence for the user, never as an HTTP dump', async () => {
  for (const status of [400, 401, 403, 405, 413, 422, 429, 500, 502, 503]) {
    const outcome = /** @type {any} */ (await answering(status, { error: { code: 'x', message: 'detail from the server' } }).transport.listChanges(undefined));
    assert.doesNotMatch(outcome.message, /HTTP|\d{3}/, `${status}: ${outcome.message}`);
    assert.match(outcome.message, /^[A-Z]/, `${status}: ${outcome.message}`);
  }
});

test('a network failure is retryable', async () => {
  const transport = createHttpTransport({ fetch: async () => { throw new TypeError('Failed to fetch'); } });
  const outcome = await transport.listChanges(undefined);
  assert.equal(outcome.kind, 'retry');
  assert.equal(/** @type {{ message: string }} */ (outcome).message, 'You are offline or the server cannot be reached');
});

test('Retry-After accepts seconds and HTTP dates, and ignores garbage', () => {
  assert.equal(parseRetryAfter('120'), 120);
  assert.equal(parseRetryAfter(null), undefined);
  assert.equal(parseRetryAfter('soon'), undefined);
  const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
  const seconds = /** @type {number} */ (parseRetryAfter(inTenSeconds));
  assert.ok(seconds >= 9 && seconds <= 11, String(seconds));
});

test('a 200 that is not the API\'s answer (captive portal, proxy page) is retried, never taken as a write receipt', async () => {
  const portal = createHttpTransport({
    fetch: async () => new Response('<html>Sign in to the Wi-Fi</html>', { status: 200, headers: { 'Content-Type': 'text/html' } }),
  });
  const put = await portal.putProject('p1', { name: 'N', data: {}, baseRevision: 1, writeId: 'w', clientUpdatedAt: '' });
  assert.equal(put.kind, 'retry');
  assert.equal(/** @type {{ message: string }} */ (put).message, 'The server gave an answer this app does not understand');
  assert.equal((await portal.listChanges(undefined)).kind, 'retry');
  assert.equal((await portal.getProject('p1')).kind, 'retry');

  // A receipt without the new revision would make every later push of the project conflict.
  const { transport } = answering(200, { id: 'p1' });
  assert.equal((await transport.putProject('p1', { name: 'N', data: {}, baseRevision: 1, writeId: 'w', clientUpdatedAt: '' })).kind, 'retry');
  assert.equal((await transport.deleteProject('p1', 1)).kind, 'retry');
});

/**
 * A fetch that accepts only `Bearer <accepted>` and records each call's Authorization header.
 * @param {() => string} accepted
 */
function acceptingToken(accepted) {
  /** @type {Array<{ authorization: string | null, credentials: RequestCredentials | undefined }>} */
  const calls = [];
  /** @type {typeof fetch} */
  const send = async (_url, init = {}) => {
    const authorization = new Headers(init.headers).get('Authorization');
    calls.push({ authorization, credentials: init.credentials });
    if (authorization !== `Bearer ${accepted()}`) return Response.json({ error: { code: 'unauthorized', message: 'No session' } }, { status: 401 });
    return Response.json({ changes: [], cursor: 'c1', more: false });
  };
  return { calls, send };
}

/**
 * The editor's token function: hands out `tokens` in turn, one per refresh, and records every ask.
 * @param {Array<string | null>} tokens the first is kept until a refresh asks for the next
 */
function editorTokens(tokens) {
  /** @type {boolean[]} */
  const asks = [];
  let current = 0;
  /** @param {{ refresh: boolean }} request */
  const sessionToken = async ({ refresh }) => {
    asks.push(refresh);
    if (refresh) current += 1;
    return tokens[current] ?? null;
  };
  return { asks, sessionToken };
}

test('bearer mode sends Authorization: Bearer with the editor\'s token on every call, and no cookie', async () => {
  const { calls, send } = acceptingToken(() => 'signed.token%3D');
  const { asks, sessionToken } = editorTokens(['signed.token%3D']);
  const transport = createHttpTransport({ fetch: send, auth: { mode: 'bearer', sessionToken } });
  assert.equal((await transport.listChanges(undefined)).kind, 'ok');
  assert.equal((await transport.getProject('p1')).kind, 'retry', 'answered, with the feed body: not a project');
  assert.deepEqual(calls, [
    { authorization: 'Bearer signed.token%3D', credentials: 'omit' },
    { authorization: 'Bearer signed.token%3D', credentials: 'omit' },
  ]);
  assert.deepEqual(asks, [false, false], 'a kept token is fine: no refresh without a 401');
});

test('cookie mode sends the cookie (same-origin, or include for an API on a sibling subdomain) and no Authorization', async () => {
  for (const credentials of /** @type {const} */ ([undefined, 'include'])) {
    const { calls, send } = acceptingToken(() => 'never');
    await createHttpTransport({ fetch: send, auth: { mode: 'cookie', credentials } }).listChanges(undefined);
    assert.deepEqual(calls, [{ authorization: null, credentials: credentials ?? 'same-origin' }]);
  }
});

test('a 401 asks the editor once for a fresh token and retries the call with it', async () => {
  let live = 'second';
  const { calls, send } = acceptingToken(() => live);
  const { asks, sessionToken } = editorTokens(['first', 'second']);
  const transport = createHttpTransport({ fetch: send, auth: { mode: 'bearer', sessionToken } });
  assert.equal((await transport.listChanges(undefined)).kind, 'ok');
  assert.deepEqual(calls.map((call) => call.authorization), ['Bearer first', 'Bearer second']);
  assert.deepEqual(asks, [false, true]);

  live = 'third';
  assert.equal((await transport.listChanges(undefined)).kind, 'unauthorized', 'the fresh token refused too: no second refresh');
  assert.deepEqual(asks, [false, true, false, true]);
});

test('a 401 with no fresh token is the end of the session, after one request', async () => {
  const { calls, send } = acceptingToken(() => 'someone else');
  const { asks, sessionToken } = editorTokens(['expired', null]);
  const transport = createHttpTransport({ fetch: send, auth: { mode: 'bearer', sessionToken } });
  assert.deepEqual(await transport.putProject('p1', { name: 'N', data: {}, baseRevision: 0, writeId: 'w', clientUpdatedAt: '' }),
    { kind: 'unauthorized', message: 'Your session has ended' });
  assert.equal(calls.length, 1);
  assert.deepEqual(asks, [false, true]);

  const same = editorTokens(['expired', 'expired']);
  const again = createHttpTransport({ fetch: send, auth: { mode: 'bearer', sessionToken: same.sessionToken } });
  assert.equal((await again.listChanges(undefined)).kind, 'unauthorized', 'the refused token again is no fresh token');
  assert.equal(calls.length, 2, 'and is not sent again');
});

test('without any token nothing is sent: the session ended', async () => {
  const { calls, send } = acceptingToken(() => 'x');
  const { asks, sessionToken } = editorTokens([null, null]);
  const transport = createHttpTransport({ fetch: send, auth: { mode: 'bearer', sessionToken } });
  assert.equal((await transport.listChanges(undefined)).kind, 'unauthorized');
  assert.deepEqual(asks, [false, true], 'asked once to refresh before giving up');
  assert.equal(calls.length, 0);
});

test('calls refused together share one refresh', async () => {
  let live = 'old';
  const { calls, send } = acceptingToken(() => live);
  const { asks, sessionToken } = editorTokens(['old', 'new']);
  const transport = createHttpTransport({ fetch: send, auth: { mode: 'bearer', sessionToken } });
  await transport.listChanges(undefined);
  live = 'new';
  const outcomes = await Promise.all([transport.listChanges('c1'), transport.listChanges('c1'), transport.listChanges('c1')]);
  assert.deepEqual(outcomes.map((outcome) => outcome.kind), ['ok', 'ok', 'ok']);
  assert.equal(asks.filter((refresh) => refresh).length, 1);
  assert.equal(calls.filter((call) => call.authorization === 'Bearer new').length, 3);
});

test('a token function that fails (the auth server unreachable) is retried later, not taken as a sign-out', async () => {
  const { calls, send } = acceptingToken(() => 'x');
  const transport = createHttpTransport({ fetch: send, auth: { mode: 'bearer', sessionToken: async () => { throw new TypeError('Failed to fetch'); } } });
  assert.deepEqual(await transport.listChanges(undefined), { kind: 'retry', message: 'The session could not be read' });
  assert.equal(calls.length, 0);
});

test('history reads: the project list with tombstones, a project\'s revisions and one revision, each checked', async () => {
  const revisions = [{ revision: 2, name: 'N', updatedAt: 'u', deletedAt: null, bytes: 12 }];
  const { calls, transport } = answering(200, revisions);
  assert.deepEqual(await transport.listRevisions('p 1'), { kind: 'ok', body: revisions });
  await transport.listProjects({ includeDeleted: true });
  await transport.listProjects({ includeDeleted: false });
  assert.equal(calls[0].url, 'https://editor.example/api/projects/p%201/revisions');
  assert.equal(calls[1].url, 'https://editor.example/api/projects?includeDeleted=1');
  assert.equal(calls[2].url, 'https://editor.example/api/projects');

  const revision = { id: 'p1', name: 'N', data: { text: 't' }, revision: 1, updatedAt: 'u', deletedAt: null };
  const one = answering(200, revision);
  assert.deepEqual(await one.transport.getRevision('p1', 1), { kind: 'ok', body: revision });
  assert.equal(one.calls[0].url, 'https://editor.example/api/projects/p1/revisions/1');
  assert.equal((await answering(200, [{ name: 'no revision' }]).transport.listRevisions('p1')).kind, 'retry', 'not this API\'s answer');
  assert.equal((await answering(404, { error: { code: 'revision_not_found', message: 'gone' } }).transport.getRevision('p1', 9)).kind, 'not-found');
});

test('a body of compressFromBytes or more goes gzip-encoded; a smaller one as plain JSON', async () => {
  /** @type {Array<{ url: string, init: RequestInit }>} */
  const calls = [];
  /** @type {typeof fetch} */
  const send = async (url, init = {}) => {
    calls.push({ url: String(url), init });
    return new Response(JSON.stringify({ id: 'p', revision: 1, updatedAt: 'now' }), { status: 200 });
  };
  const transport = createHttpTransport({ fetch: send, compressFromBytes: 1024 });
  const large = { name: 'N', data: { layers: Array.from({ length: 100 }, (_, i) => ({ id: `layer-${i}`, x: i })) }, baseRevision: 0, writeId: 'w', clientUpdatedAt: '' };
  assert.equal((await transport.putProject('p', large)).kind, 'ok');
  await transport.putProject('p', { ...large, data: {} });
  const [compressed, plain] = calls.map(({ init }) => /** @type {Record<string, string>} */ (init.headers));
  assert.equal(compressed['Content-Encoding'], 'gzip');
  const sent = /** @type {ArrayBuffer} */ (calls[0].init.body);
  assert.ok(sent.byteLength < JSON.stringify(large).length / 3, 'the project JSON shrinks');
  const decoded = await new Response(new Blob([sent]).stream().pipeThrough(new DecompressionStream('gzip'))).text();
  assert.deepEqual(JSON.parse(decoded), large);
  assert.equal(plain['Content-Encoding'], undefined);
  assert.equal(typeof calls[1].init.body, 'string');
});

test('a server that answers a gzip body 415 gets it again plain, and plain bodies from then on', async () => {
  /** @type {Array<Record<string, string>>} */
  const sentHeaders = [];
  /** @type {typeof fetch} */
  const send = async (_url, init = {}) => {
    const headers = /** @type {Record<string, string>} */ (init.headers);
    sentHeaders.push(headers);
    if (headers['Content-Encoding']) return new Response(JSON.stringify({ error: { code: 'unsupported_content_encoding', message: 'no' } }), { status: 415 });
    return new Response(JSON.stringify({ id: 'p', revision: 1, updatedAt: 'now' }), { status: 200 });
  };
  const transport = createHttpTransport({ fetch: send, compressFromBytes: 10 });
  const request = { name: 'N', data: { text: 'x'.repeat(100) }, baseRevision: 0, writeId: 'w', clientUpdatedAt: '' };
  assert.equal((await transport.putProject('p', request)).kind, 'ok');
  assert.equal((await transport.putProject('p', request)).kind, 'ok');
  assert.deepEqual(sentHeaders.map((headers) => headers['Content-Encoding']), ['gzip', undefined, undefined]);
});

test('without CompressionStream a large body goes plain', async () => {
  const original = globalThis.CompressionStream;
  // @ts-ignore: the browsers that lack it
  delete globalThis.CompressionStream;
  try {
    const { calls, transport } = answering(200, { id: 'p', revision: 1, updatedAt: 'now' });
    await transport.putProject('p', { name: 'N', data: { text: 'x'.repeat(20_000) }, baseRevision: 0, writeId: 'w', clientUpdatedAt: '' });
    assert.equal(/** @type {Record<string, string>} */ (calls[0].init.headers)['Content-Encoding'], undefined);
    assert.equal(typeof calls[0].init.body, 'string');
  } finally {
    globalThis.CompressionStream = original;
  }
});

test('403 quota_exceeded is rejected as "storage quota reached", for a PUT and for a batch item', async () => {
  const refusal = { error: { code: 'quota_exceeded', message: 'storage quota reached: a user may have 2 projects' } };
  assert.deepEqual(await answering(403, refusal).transport.putProject('p1', { name: 'n', data: {}, baseRevision: 0, writeId: 'w' }),
    { kind: 'rejected', status: 403, message: QUOTA_REACHED });
  const batch = { results: [{ id: 'p1', status: 403, ...refusal }] };
  const outcome = /** @type {any} */ (await answering(200, batch).transport.pushChanges([{ id: 'p1', name: 'n', data: {}, baseRevision: 0, writeId: 'w' }]));
  assert.deepEqual(outcome.body, [{ kind: 'rejected', status: 403, message: QUOTA_REACHED }]);
});
