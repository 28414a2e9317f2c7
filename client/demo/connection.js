// Where the demo's API is and how its session travels, from the page's URL:
//   ?api=<base URL>   the API on another origin (default: the origin that served this page)
//   &auth=bearer      the dev sign-in's token as `Authorization: Bearer` (any origin)
//   &auth=cookie      the session cookie, also sent to another origin of the same site (the default)
// The real editor gets its token from Better Auth's client instead of the dev sign-in.

/** @typedef {import('../src/index.js').SessionAuth} SessionAuth */

const parameters = new URLSearchParams(location.search);
const TOKEN_KEY = 'appframes-demo:session-token';

export const apiBase = (parameters.get('api') ?? '').replace(/\/+$/, '');
const bearer = parameters.get('auth') === 'bearer';
/** @type {'same-origin' | 'include'} the cookie also goes to an API on another origin of the site */
const cookieCredentials = apiBase ? 'include' : 'same-origin';
/** @type {RequestCredentials} */
const credentials = bearer ? 'omit' : cookieCredentials;

/**
 * The token this page holds; a refresh reads the one the last sign-in of this browser stored (another
 * tab may have signed in again since), as an editor would ask Better Auth again.
 * @type {string | null}
 */
let heldToken = localStorage.getItem(TOKEN_KEY);

/** @type {SessionAuth} */
export const engineAuth = bearer
  ? {
      mode: 'bearer',
      sessionToken: ({ refresh }) => {
        if (refresh) heldToken = localStorage.getItem(TOKEN_KEY);
        return heldToken;
      },
    }
  : { mode: 'cookie', credentials: cookieCredentials };

/**
 * fetch of one of the dev sign-in's routes, carrying the session the way the sync engine does.
 * @param {string} path
 * @param {RequestInit} [init]
 */
export function fetchDevAuth(path, init = {}) {
  const headers = new Headers(init.headers);
  if (bearer && heldToken) headers.set('Authorization', `Bearer ${heldToken}`);
  return fetch(`${apiBase}${path}`, { ...init, headers, credentials });
}

/** @param {string | null} token the dev sign-in's token (null at sign-out) */
export function holdSessionToken(token) {
  if (!bearer) return;
  heldToken = token;
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}
