// A scripted in-memory implementation of the project API contract, reached through `fetch`.
// Each device gets its own fetch bound to a signed-in user (what the session cookie does for real).
// Scripts make the next matching requests fail, lose their response, or wait until released.

/**
 * @typedef {object} StoredProject
 * @property {string} id
 * @property {string} name
 * @property {unknown} data
 * @property {number} revision
 * @property {string} updatedAt
 * @property {string | null} deletedAt
 * @property {string | null} lastWriteId the writeId that produced the current revision
 */

/**
 * @typedef {object} Script
 * @property {string} [method]
 * @property {RegExp} [path]
 * @property {number} times
 * @property {'fail' | 'lose-response' | 'hold'} action
 * @property {number} [status]
 * @property {string} [retryAfter]
 * @property {Promise<void>} [released]
 * @property {boolean} [loseResponse]
 */

const PROJECT_PATH = /^\/api\/projects\/([^/?]+)$/;

/**
 * @param {{ maxBodyBytes?: number }} [options]
 */
export function createFakeServer({ maxBodyBytes = 64 * 1024 } = {}) {
  /** @type {Map<string, Map<string, StoredProject>>} */
  const projectsByUser = new Map();
  /** @type {Array<{ method: string, path: string, userId: string | null, body: any, at: number }>} */
  const requests = [];
  /** @type {Script[]} */
  const scripts = [];
  let clock = Date.parse('2026-01-01T00:00:00Z');
  let offline = false;
  const inFlightByProject = new Map();
  let maxInFlightPerProject = 0;

  /** @param {string} userId */
  const projectsOf = (userId) => {
    if (!projectsByUser.has(userId)) projectsByUser.set(userId, new Map());
    return /** @type {Map<string, StoredProject>} */ (projectsByUser.get(userId));
  };
  const tick = () => new Date((clock += 1000)).toISOString();

  /**
   * @param {string | null} userId
   * @returns {typeof fetch}
   */
  function fetchAs(userId) {
    return async (input, init = {}) => {
      const url = new URL(String(input), 'http://app.test');
      const method = (init.method ?? 'GET').toUpperCase();
      const body = init.body ? JSON.parse(String(init.body)) : undefined;
      if (offline) throw new TypeError('Failed to fetch');
      requests.push({ method, path: url.pathname + url.search, userId, body, at: Date.now() });
      const projectId = PROJECT_PATH.exec(url.pathname)?.[1];
      const script = takeScript(method, url.pathname);
      if (script?.action === 'fail') {
        const headers = script.retryAfter ? { 'Retry-After': script.retryAfter } : undefined;
        return json(script.status ?? 503, { error: { code: 'scripted', message: 'Scripted failure' } }, headers);
      }
      if (projectId) enterFlight(projectId);
      try {
        if (script?.action === 'hold') await script.released;
        if (script?.action === 'hold' && script.status) {
          return json(script.status, { error: { code: 'scripted', message: 'Scripted failure' } });
        }
        const response = handle(userId, method, url, projectId, body, init.body ? String(init.body) : '');
        if (script?.action === 'lose-response' || script?.loseResponse) throw new TypeError('Failed to fetch (response lost)');
        return response;
      } finally {
        if (projectId) inFlightByProject.set(projectId, inFlightByProject.get(projectId) - 1);
      }
    };
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
   */
  function takeScript(method, path) {
    const index = scripts.findIndex((script) => (!script.method || script.method === method) && (!script.path || script.path.test(path)));
    if (index < 0) return undefined;
    const script = scripts[index];
    script.times -= 1;
    if (script.times <= 0) scripts.splice(index, 1);
    return script;
  }

  /**
   * @param {string | null} userId
   * @param {string} method
   * @param {URL} url
   * @param {string | undefined} projectId
   * @param {any} body
   * @param {string} rawBody
   */
  function handle(userId, method, url, projectId, body, rawBody) {
    if (!userId) return json(401, { error: { code: 'unauthorized', message: 'Sign in first' } });
    const projects = projectsOf(userId);
    if (method === 'GET' && url.pathname === '/api/projects') {
      const includeDeleted = url.searchParams.get('includeDeleted') === '1';
      const rows = [...projects.values()]
        .filter((project) => includeDeleted || !project.deletedAt)
        .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
        .map(({ id, name, revision, updatedAt, deletedAt }) => ({ id, name, revision, updatedAt, deletedAt }));
      return json(200, rows);
    }
    if (!projectId) return json(404, { error: { code: 'not_found', message: 'No such route' } });
    const current = projects.get(projectId);
    if (method === 'GET') return current ? json(200, publicCopy(current), { ETag: `"${current.revision}"` }) : notFound();
    if (method === 'PUT') {
      if (rawBody.length > maxBodyBytes) return json(413, { error: { code: 'too_large', message: 'Project is too large' } });
      if (current && body.writeId && current.lastWriteId === body.writeId) {
        return json(200, { id: projectId, revision: current.revision, updatedAt: current.updatedAt });
      }
      if (body.baseRevision !== (current?.revision ?? 0)) return json(409, { server: publicCopy(/** @type {StoredProject} */ (current)) });
      const stored = {
        id: projectId, name: body.name, data: structuredClone(body.data), revision: (current?.revision ?? 0) + 1,
        updatedAt: tick(), deletedAt: null, lastWriteId: body.writeId ?? null,
      };
      projects.set(projectId, stored);
      return json(200, { id: projectId, revision: stored.revision, updatedAt: stored.updatedAt });
    }
    if (method === 'DELETE') {
      if (!current) return notFound();
      if (current.deletedAt) return json(200, publicCopy(current));
      if (body?.baseRevision !== current.revision) return json(409, { server: publicCopy(current) });
      const updatedAt = tick();
      Object.assign(current, { revision: current.revision + 1, updatedAt, deletedAt: updatedAt, lastWriteId: null });
      return json(200, publicCopy(current));
    }
    return json(405, { error: { code: 'method_not_allowed', message: method } });
  }

  /**
   * A project written by "another device" straight into the server.
   * @param {string} userId
   * @param {{ id: string, name: string, data: unknown }} project
   */
  function writeAsOtherDevice(userId, project) {
    const current = projectsOf(userId).get(project.id);
    const stored = {
      ...project, revision: (current?.revision ?? 0) + 1, updatedAt: tick(), deletedAt: null, lastWriteId: null,
    };
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
    Object.assign(current, { revision: current.revision + 1, updatedAt, deletedAt: updatedAt });
  }

  return {
    fetchAs,
    requests,
    /** @param {string} userId @param {string} projectId */
    project: (userId, projectId) => {
      const stored = projectsOf(userId).get(projectId);
      return stored ? publicCopy(stored) : undefined;
    },
    /** @param {string} userId */
    projects: (userId) => [...projectsOf(userId).values()].map(publicCopy),
    writeAsOtherDevice,
    deleteAsOtherDevice,
    /** @param {boolean} value */
    setOffline(value) { offline = value; },
    /** @param {{ method?: string, path?: RegExp, times?: number, status: number, retryAfter?: string }} spec */
    failNext({ times = 1, ...spec }) { scripts.push({ ...spec, times, action: 'fail' }); },
    /** @param {{ method?: string, path?: RegExp, times?: number }} spec */
    loseNextResponse({ times = 1, ...spec }) { scripts.push({ ...spec, times, action: 'lose-response' }); },
    /**
     * Holds the next matching request before the server handles it, until `release()`;
     * with `loseResponse` the server then commits it but the answer never arrives; with `status`
     * it then fails with that status without being handled.
     * @param {{ method?: string, path?: RegExp, loseResponse?: boolean, status?: number }} spec
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
  };
}

/** @param {StoredProject} project */
function publicCopy({ id, name, data, revision, updatedAt, deletedAt }) {
  return { id, name, data: structuredClone(data), revision, updatedAt, deletedAt };
}

function notFound() {
  return json(404, { error: { code: 'not_found', message: 'Project not found' } });
}

/**
 * @param {number} status
 * @param {unknown} body
 * @param {Record<string, string>} [headers]
 */
function json(status, body, headers = {}) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}
