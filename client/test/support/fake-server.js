// A scripted in-memory implementation of the project API contract, reached through `fetch`.
// Each device gets its own fetch bound to a signed-in user (what the session cookie does for real).
// Scripts make the next matching requests fail, lose their response, or wait until released.
//
// Besides the per-project routes it serves the changes feed (GET /api/changes, cursors in change
// order, tombstones purged on demand) and batched writes (POST /api/changes), whose items follow
// exactly the rules of PUT and DELETE. Every write keeps its revision in the project's history
// (GET /api/projects/{id}/revisions and /revisions/{revision}); GET /api/projects lists summaries.

import { gunzipSync } from 'node:zlib';

/**
 * @typedef {object} StoredProject
 * @property {string} id
 * @property {string} name
 * @property {unknown} data
 * @property {number} revision
 * @property {string} updatedAt
 * @property {string | null} deletedAt
 * @property {string | null} lastWriteId the writeId that produced the current revision
 * @property {number} changedAt position in the change order of the feed
 * @property {KeptRevision[]} history every revision written, oldest first, the current one included
 */

/**
 * @typedef {object} KeptRevision
 * @property {number} revision
 * @property {string} name
 * @property {unknown} data null for a deletion's revision
 * @property {string} updatedAt
 * @property {string | null} deletedAt
 */

/**
 * @typedef {object} Script
 * @property {string} [method]
 * @property {RegExp} [path]
 * @property {string} [project] matches every request carrying a write or read of this project
 * @property {number} [skip] let this many matching requests through first
 * @property {number} times
 * @property {'fail' | 'lose-response' | 'hold'} action
 * @property {number} [status]
 * @property {string} [retryAfter]
 * @property {Promise<void>} [released]
 * @property {boolean} [loseResponse]
 */

/** @typedef {{ status: number, body: any }} Answer */

const PROJECT_PATH = /^\/api\/projects\/([^/?]+)$/;
const REVISIONS_PATH = /^\/api\/projects\/([^/?]+)\/revisions(?:\/([^/?]+))?$/;
const PROJECTS_PATH = '/api/projects';
const REVISION_NUMBER = /^[1-9]\d*$/;
const CHANGES_PATH = '/api/changes';
const MAX_BATCH_ITEMS = 100;
const MAX_PAGE_LIMIT = 500;
const CURSOR = /^c1\.(\d+)$/;

/**
 * @param {{ maxBodyBytes?: number, pageLimit?: number, pageBytes?: number, maxProjects?: number }} [options]
 *   pageLimit: the feed's default page size; pageBytes: the size budget of one page; maxProjects:
 *   the live projects a user may have (QUOTA_PROJECTS_PER_USER), a new one past it answered 403
 */
export function createFakeServer({ maxBodyBytes = 64 * 1024, pageLimit = 100, pageBytes = 1024 * 1024, maxProjects = Infinity } = {}) {
  /** @type {Map<string, Map<string, StoredProject>>} */
  const projectsByUser = new Map();
  /** @type {Map<string, number>} tombstones up to this change were purged, per user */
  const purgedThrough = new Map();
  /** @type {Array<{ method: string, path: string, userId: string | null, authorization: string | null, body: any, at: number, status?: number, response?: any, responseBytes?: number }>} */
  const requests = [];
  /** @type {Array<{ route: 'batch' | 'project', id: string, deleted?: boolean, name?: string, data?: unknown, baseRevision?: number, writeId?: string, at: number }>} */
  const writes = [];
  /** @type {Script[]} */
  const scripts = [];
  let clock = Date.parse('2026-01-01T00:00:00Z');
  let lastChange = 0;
  let offline = false;
  const inFlightByProject = new Map();
  let maxInFlightPerProject = 0;

  /** @param {string} userId */
  const projectsOf = (userId) => {
    if (!projectsByUser.has(userId)) projectsByUser.set(userId, new Map());
    return /** @type {Map<string, StoredProject>} */ (projectsByUser.get(userId));
  };
  const tick = () => new Date((clock += 1000)).toISOString();
  const nextChange = () => (lastChange += 1);

  /** @type {Map<string, string>} live bearer tokens and their user */
  const sessionTokens = new Map();
  let tokensIssued = 0;

  /**
   * The API reached with `Authorization: Bearer`: the user is whoever the token was issued to.
   * @type {typeof fetch}
   */
  function fetchWithBearer(input, init = {}) {
    const authorization = new Headers(init.headers).get('Authorization') ?? '';
    const token = /^Bearer (.+)$/.exec(authorization)?.[1];
    return fetchAs(token === undefined ? null : sessionTokens.get(token) ?? null)(input, init);
  }

  /**
   * @param {string | null} userId
   * @returns {typeof fetch}
   */
  function fetchAs(userId) {
    return async (input, init = {}) => {
      const url = new URL(String(input), 'http://app.test');
      const method = (init.method ?? 'GET').toUpperCase();
      const rawBody = requestText(init);
      const body = rawBody ? JSON.parse(rawBody) : undefined;
      if (offline) throw new TypeError('Failed to fetch');
      const logged = { method, path: url.pathname + url.search, userId, authorization: new Headers(init.headers).get('Authorization'), body, at: Date.now() };
      requests.push(logged);
      const concerned = projectsConcerned(method, url.pathname, body);
      const script = takeScript(method, url.pathname, concerned);
      if (script?.action === 'fail') {
        const headers = script.retryAfter ? { 'Retry-After': script.retryAfter } : undefined;
        return logResponse(logged, json(script.status ?? 503, { error: { code: 'scripted', message: 'Scripted failure' } }, headers));
      }
      for (const projectId of concerned) enterFlight(projectId);
      try {
        if (script?.action === 'hold') await script.released;
        if (script?.action === 'hold' && script.status) {
          return logResponse(logged, json(script.status, { error: { code: 'scripted', message: 'Scripted failure' } }));
        }
        const response = await logResponse(logged, handle(userId, method, url, body, rawBody));
        if (script?.action === 'lose-response' || script?.loseResponse) throw new TypeError('Failed to fetch (response lost)');
        return response;
      } finally {
        for (const projectId of concerned) inFlightByProject.set(projectId, inFlightByProject.get(projectId) - 1);
      }
    };
  }

  /**
   * @param {{ status?: number, response?: any, responseBytes?: number }} logged
   * @param {Response} response
   */
  async function logResponse(logged, response) {
    const text = await response.clone().text();
    Object.assign(logged, { status: response.status, responseBytes: new TextEncoder().encode(text).length, response: JSON.parse(text) });
    return response;
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {any} body
   * @returns {string[]}
   */
  function projectsConcerned(method, path, body) {
    const projectId = PROJECT_PATH.exec(path)?.[1] ?? REVISIONS_PATH.exec(path)?.[1];
    if (projectId) return [projectId];
    if (method === 'POST' && path === CHANGES_PATH && Array.isArray(body?.changes)) return body.changes.map((/** @type {any} */ item) => item.id);
    return [];
  }

  /** @param {string} projectId */
  function enterFlight(projectId) {
    const now = (inFlightByProject.get(projectId) ?? 0) + 1;
    inFlightByProject.set(projectId, now);
    maxInFlightPerProject = Math.max(maxInFlightPerProject, now);
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {string[]} concerned
   */
  function takeScript(method, path, concerned) {
    const index = scripts.findIndex((script) => (!script.method || script.method === method)
      && (!script.path || script.path.test(path))
      && (!script.project || concerned.includes(script.project)));
    if (index < 0) return undefined;
    const script = scripts[index];
    if (script.skip) {
      script.skip -= 1;
      return undefined;
    }
    script.times -= 1;
    if (script.times <= 0) scripts.splice(index, 1);
    return script;
  }

  /**
   * @param {string | null} userId
   * @param {string} method
   * @param {URL} url
   * @param {any} body
   * @param {string} rawBody
   * @returns {Response}
   */
  function handle(userId, method, url, body, rawBody) {
    if (!userId) return json(401, { error: { code: 'unauthorized', message: 'Sign in first' } });
    const projects = projectsOf(userId);
    if (rawBody.length > maxBodyBytes) return json(413, { error: { code: 'too_large', message: 'The request body is too large' } });
    if (url.pathname === CHANGES_PATH && method === 'GET') return answer(changesPage(userId, url));
    if (url.pathname === CHANGES_PATH && method === 'POST') return answer(batch(projects, body));
    if (url.pathname === PROJECTS_PATH && method === 'GET') return answer(listProjects(projects, url));
    const revisions = REVISIONS_PATH.exec(url.pathname);
    if (revisions && method === 'GET') return answer(revisions[2] === undefined ? listRevisions(projects, revisions[1]) : getRevision(projects, revisions[1], revisions[2]));
    const projectId = PROJECT_PATH.exec(url.pathname)?.[1];
    if (!projectId) return json(404, { error: { code: 'not_found', message: 'No such route' } });
    const current = projects.get(projectId);
    if (method === 'GET') return current ? json(200, publicCopy(current), { ETag: `"${current.revision}"` }) : answer(notFound());
    if (method === 'PUT') {
      writes.push({ route: 'project', id: projectId, ...body, at: Date.now() });
      return answer(putProject(projects, projectId, body));
    }
    if (method === 'DELETE') {
      writes.push({ route: 'project', id: projectId, deleted: true, ...body, at: Date.now() });
      return answer(deleteProject(projects, projectId, body));
    }
    return json(405, { error: { code: 'method_not_allowed', message: method } });
  }

  /**
   * GET /api/changes: after the cursor, every change in change order (tombstones included);
   * without one, every live project. Bounded by `limit` and by size; a project bigger than the
   * size budget comes alone.
   * @param {string} userId
   * @param {URL} url
   * @returns {Answer}
   */
  function changesPage(userId, url) {
    const since = url.searchParams.get('since');
    const after = since === null ? 0 : Number(CURSOR.exec(since)?.[1] ?? NaN);
    if (Number.isNaN(after)) return { status: 400, body: { error: { code: 'invalid_cursor', message: 'The cursor is not one of ours' } } };
    if (since !== null && after < (purgedThrough.get(userId) ?? 0)) {
      return { status: 410, body: { error: { code: 'cursor_expired', message: 'Changes this old were purged; list from scratch' } } };
    }
    const limit = Math.min(MAX_PAGE_LIMIT, Number(url.searchParams.get('limit') ?? pageLimit));
    const pending = [...projectsOf(userId).values()]
      .filter((project) => project.changedAt > after && (since !== null || !project.deletedAt))
      .sort((a, b) => a.changedAt - b.changedAt);
    const changes = [];
    let bytes = 0;
    for (const project of pending) {
      const size = JSON.stringify(publicCopy(project)).length;
      if (changes.length === limit || (changes.length > 0 && bytes + size > pageBytes)) break;
      changes.push(project);
      bytes += size;
    }
    const more = changes.length < pending.length;
    const cursorAt = more ? changes[changes.length - 1].changedAt : lastChange;
    return { status: 200, body: { changes: changes.map(feedEntry), cursor: `c1.${cursorAt}`, more } };
  }

  /**
   * GET /api/projects: summaries without data, newest first; tombstones only with includeDeleted=1.
   * @param {Map<string, StoredProject>} projects
   * @param {URL} url
   * @returns {Answer}
   */
  function listProjects(projects, url) {
    const includeDeleted = url.searchParams.get('includeDeleted') === '1';
    const listed = [...projects.values()]
      .filter((project) => includeDeleted || !project.deletedAt)
      .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
      .map(({ id, name, revision, updatedAt, deletedAt }) => ({ id, name, revision, updatedAt, deletedAt }));
    return { status: 200, body: listed };
  }

  /**
   * GET /api/projects/{id}/revisions: newest first, the current revision included.
   * @param {Map<string, StoredProject>} projects
   * @param {string} projectId
   * @returns {Answer}
   */
  function listRevisions(projects, projectId) {
    const current = projects.get(projectId);
    if (!current) return notFound();
    const listed = current.history.map(({ revision, name, updatedAt, deletedAt, data }) => ({
      revision, name, updatedAt, deletedAt, bytes: deletedAt ? 0 : new TextEncoder().encode(JSON.stringify(data)).length,
    }));
    return { status: 200, body: listed.reverse() };
  }

  /**
   * GET /api/projects/{id}/revisions/{revision}
   * @param {Map<string, StoredProject>} projects
   * @param {string} projectId
   * @param {string} revisionText
   * @returns {Answer}
   */
  function getRevision(projects, projectId, revisionText) {
    if (!REVISION_NUMBER.test(revisionText)) return { status: 400, body: { error: { code: 'invalid_request', message: 'revision must be a whole number' } } };
    const kept = projects.get(projectId)?.history.find((entry) => entry.revision === Number(revisionText));
    if (!kept) return { status: 404, body: { error: { code: 'revision_not_found', message: 'Revision not kept' } } };
    return { status: 200, body: { id: projectId, ...kept, data: structuredClone(kept.data) } };
  }

  /**
   * Forgets a kept revision, as the server's retention does (never the current one).
   * @param {string} userId
   * @param {string} projectId
   * @param {number} revision
   */
  function purgeRevision(userId, projectId, revision) {
    const current = /** @type {StoredProject} */ (projectsOf(userId).get(projectId));
    if (revision !== current.revision) current.history = current.history.filter((entry) => entry.revision !== revision);
  }

  /**
   * POST /api/changes: each item exactly as its PUT or DELETE, independently, in request order.
   * @param {Map<string, StoredProject>} projects
   * @param {any} body
   * @returns {Answer}
   */
  function batch(projects, body) {
    const items = body?.changes;
    if (!Array.isArray(items) || items.length > MAX_BATCH_ITEMS) return invalid(`changes must be a list of at most ${MAX_BATCH_ITEMS} items`);
    if (new Set(items.map((item) => item.id)).size !== items.length) return invalid('a project appears twice in one batch');
    const results = items.map((/** @type {any} */ { id, deleted, ...write }) => {
      writes.push({ route: 'batch', id, ...(deleted ? { deleted } : {}), ...write, at: Date.now() });
      const { status, body: answered } = deleted ? deleteProject(projects, id, write) : putProject(projects, id, write);
      if (status !== 200) return { id, status, ...answered };
      return { id, status, revision: answered.revision, updatedAt: answered.updatedAt };
    });
    return { status: 200, body: { results } };
  }

  /**
   * @param {Map<string, StoredProject>} projects
   * @param {string} projectId
   * @param {any} body
   * @returns {Answer}
   */
  function putProject(projects, projectId, body) {
    const current = projects.get(projectId);
    if (typeof body?.name !== 'string') return invalid('name must be a string');
    if (current && body.writeId && current.lastWriteId === body.writeId) {
      return { status: 200, body: { id: projectId, revision: current.revision, updatedAt: current.updatedAt } };
    }
    if (body.baseRevision !== (current?.revision ?? 0)) return { status: 409, body: { server: current ? publicCopy(current) : null } };
    const live = [...projects.values()].filter((project) => !project.deletedAt).length;
    if ((!current || current.deletedAt) && live >= maxProjects) {
      return { status: 403, body: { error: { code: 'quota_exceeded', message: `a user may have ${maxProjects} projects` } } };
    }
    const stored = withRevisionKept(current, {
      id: projectId, name: body.name, data: structuredClone(body.data), revision: (current?.revision ?? 0) + 1,
      updatedAt: tick(), deletedAt: null, lastWriteId: body.writeId ?? null, changedAt: nextChange(),
    });
    projects.set(projectId, stored);
    return { status: 200, body: { id: projectId, revision: stored.revision, updatedAt: stored.updatedAt } };
  }

  /**
   * @param {Map<string, StoredProject>} projects
   * @param {string} projectId
   * @param {any} body
   * @returns {Answer}
   */
  function deleteProject(projects, projectId, body) {
    const current = projects.get(projectId);
    if (!current) return notFound();
    if (current.deletedAt) return { status: 200, body: publicCopy(current) };
    if (body?.baseRevision !== current.revision) return { status: 409, body: { server: publicCopy(current) } };
    const updatedAt = tick();
    Object.assign(current, { revision: current.revision + 1, updatedAt, deletedAt: updatedAt, lastWriteId: null, changedAt: nextChange() });
    keepTombstone(current);
    return { status: 200, body: publicCopy(current) };
  }

  /**
   * A project written by "another device" straight into the server.
   * @param {string} userId
   * @param {{ id: string, name: string, data: unknown }} project
   */
  function writeAsOtherDevice(userId, project) {
    const current = projectsOf(userId).get(project.id);
    const stored = withRevisionKept(current, {
      ...project, revision: (current?.revision ?? 0) + 1, updatedAt: tick(), deletedAt: null, lastWriteId: null, changedAt: nextChange(),
    });
    projectsOf(userId).set(project.id, stored);
    return publicCopy(stored);
  }

  /**
   * @param {string} userId
   * @param {string} projectId
   */
  function deleteAsOtherDevice(userId, projectId) {
    const current = /** @type {StoredProject} */ (projectsOf(userId).get(projectId));
    const updatedAt = tick();
    Object.assign(current, { revision: current.revision + 1, updatedAt, deletedAt: updatedAt, changedAt: nextChange() });
    keepTombstone(current);
  }

  /**
   * The tombstone purge: tombstones go, and cursors from before now are answered 410.
   * @param {string} userId
   */
  function purgeTombstones(userId) {
    const projects = projectsOf(userId);
    for (const [id, project] of projects) if (project.deletedAt) projects.delete(id);
    purgedThrough.set(userId, lastChange);
  }

  return {
    fetchAs,
    fetchWithBearer,
    /** @param {string} userId a new session of the user, as its bearer token */
    issueSessionToken(userId) {
      const token = `token-${(tokensIssued += 1)}`;
      sessionTokens.set(token, userId);
      return token;
    },
    /** @param {string} token the session expired or was signed out: its token is refused from now on */
    endSession(token) { sessionTokens.delete(token); },
    requests,
    /** Every write received, per-project or inside a batch, in order: the item as sent, and its route. */
    writes,
    /** @param {string} projectId */
    writesOf: (projectId) => writes.filter((write) => write.id === projectId),
    /** @param {string} userId @param {string} projectId */
    project: (userId, projectId) => {
      const stored = projectsOf(userId).get(projectId);
      return stored ? publicCopy(stored) : undefined;
    },
    /** @param {string} userId */
    projects: (userId) => [...projectsOf(userId).values()].map(publicCopy),
    writeAsOtherDevice,
    deleteAsOtherDevice,
    purgeTombstones,
    purgeRevision,
    /** @param {boolean} value */
    setOffline(value) { offline = value; },
    /** @param {{ method?: string, path?: RegExp, project?: string, skip?: number, times?: number, status: number, retryAfter?: string }} spec */
    failNext({ times = 1, ...spec }) { scripts.push({ ...spec, times, action: 'fail' }); },
    /** @param {{ method?: string, path?: RegExp, project?: string, skip?: number, times?: number }} spec */
    loseNextResponse({ times = 1, ...spec }) { scripts.push({ ...spec, times, action: 'lose-response' }); },
    /**
     * Holds the next matching request before the server handles it, until `release()`;
     * with `loseResponse` the server then commits it but the answer never arrives; with `status`
     * it then fails with that status without being handled.
     * @param {{ method?: string, path?: RegExp, project?: string, skip?: number, loseResponse?: boolean, status?: number }} spec
     */
    holdNext({ loseResponse = false, ...spec }) {
      /** @type {() => void} */
      let release = () => {};
      const released = new Promise((resolve) => { release = () => resolve(undefined); });
      scripts.push({ ...spec, times: 1, action: 'hold', loseResponse, released: /** @type {Promise<void>} */ (released) });
      return { release };
    },
    maxInFlightPerProject: () => maxInFlightPerProject,
    /** @param {string} method */
    count: (method) => requests.filter((request) => request.method === method).length,
    /** Requests to the changes feed (GET /api/changes). */
    feedRequests: () => requests.filter((request) => request.method === 'GET' && request.path.startsWith(CHANGES_PATH)),
  };
}

/**
 * The project after a write, its new revision appended to the history of the one it replaced.
 * @param {StoredProject | undefined} replaced
 * @param {Omit<StoredProject, 'history'>} written
 * @returns {StoredProject}
 */
function withRevisionKept(replaced, written) {
  const { revision, name, data, updatedAt, deletedAt } = written;
  return { ...written, history: [...(replaced?.history ?? []), { revision, name, data: structuredClone(data), updatedAt, deletedAt }] };
}

/** @param {StoredProject} tombstone a deletion's revision: its data is not kept */
function keepTombstone(tombstone) {
  const { revision, name, updatedAt, deletedAt } = tombstone;
  tombstone.history.push({ revision, name, data: null, updatedAt, deletedAt });
}

/** @param {StoredProject} project */
function publicCopy({ id, name, data, revision, updatedAt, deletedAt }) {
  return { id, name, data: structuredClone(data), revision, updatedAt, deletedAt };
}

/** @param {StoredProject} project a change as the feed carries it: a tombstone without its data */
function feedEntry(project) {
  return { ...publicCopy(project), data: project.deletedAt ? null : structuredClone(project.data) };
}

/** @returns {Answer} */
function notFound() {
  return { status: 404, body: { error: { code: 'not_found', message: 'Project not found' } } };
}

/**
 * @param {string} message
 * @returns {Answer}
 */
function invalid(message) {
  return { status: 422, body: { error: { code: 'invalid_field', message } } };
}

/** @param {Answer} answered */
function answer({ status, body }) {
  return json(status, body);
}

/**
 * @param {number} status
 * @param {unknown} body
 * @param {Record<string, string>} [headers]
 */
function json(status, body, headers = {}) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

/**
 * A request body's text, gzip decoded as the real server decodes a `Content-Encoding: gzip` body.
 * @param {RequestInit} init
 */
function requestText(init) {
  if (!init.body) return '';
  if (new Headers(init.headers).get('Content-Encoding') !== 'gzip') return String(init.body);
  return gunzipSync(new Uint8Array(/** @type {ArrayBuffer} */ (init.body))).toString('utf8');
}
