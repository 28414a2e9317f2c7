// How each request tells the API who is signed in: the Better Auth cookie (the browser sends it), or
// `Authorization: Bearer` with the token the editor hands over. After a 401 a bearer session asks the
// editor once for a fresh token; calls refused at the same time share that one ask.

/** @typedef {import('../sync-types.js').SessionAuth} SessionAuth */

/**
 * @typedef {object} SessionCredentials
 * @property {boolean} bearer requests carry the editor's token
 * @property {RequestCredentials} credentials what fetch sends of the browser's cookies
 * @property {() => Promise<string | undefined>} token the bearer token for the next call (undefined: none, or cookie mode)
 * @property {(refused: string | undefined) => Promise<string | undefined>} freshTokenAfter a token other than the refused one, or undefined when the session ended
 */

/**
 * @param {SessionAuth} auth
 * @returns {SessionCredentials}
 */
export function sessionCredentials(auth) {
  if (auth.mode === 'cookie') {
    const noToken = async () => undefined;
    return { bearer: false, credentials: auth.credentials ?? 'same-origin', token: noToken, freshTokenAfter: noToken };
  }
  const { sessionToken } = auth;
  /** @type {string | undefined} the newest token the editor gave */
  let newest;
  /** @type {Promise<string | undefined> | null} */
  let refreshing = null;

  /** @param {boolean} refresh */
  async function ask(refresh) {
    const token = await sessionToken({ refresh });
    return typeof token === 'string' && token ? token : undefined;
  }

  return {
    bearer: true,
    // A bearer session sends no cookie: a cookie of the API's site must not stand in for the token.
    credentials: 'omit',
    async token() {
      newest = await ask(false);
      return newest;
    },
    async freshTokenAfter(refused) {
      // Another call already got a newer token while this one waited for its 401.
      if (newest !== undefined && newest !== refused) return newest;
      refreshing ??= ask(true).finally(() => { refreshing = null; });
      const fresh = await refreshing;
      if (fresh !== undefined) newest = fresh;
      return fresh !== refused ? fresh : undefined;
    },
  };
}
