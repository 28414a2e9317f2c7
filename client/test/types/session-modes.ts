// Compiled by `tsc` (never run): the two session modes as the editor's TypeScript configures them.
import { createSyncEngine, createHttpTransport } from '../../src/index.js';
import type { LocalProjectStore, SessionAuth, SessionTokenSource } from '../../src/index.js';

declare const localStore: LocalProjectStore;
declare const betterAuth: { getSession(): Promise<{ data: { session: { token: string } } | null }> };

const sessionToken: SessionTokenSource = async ({ refresh }) => {
  if (refresh && !(await betterAuth.getSession()).data) localStorage.removeItem('bearer_token');
  return localStorage.getItem('bearer_token');
};

export const bearerEngine = createSyncEngine({ localStore, baseUrl: 'https://api.example', auth: { mode: 'bearer', sessionToken } });

const crossSubdomainCookie: SessionAuth = { mode: 'cookie', credentials: 'include' };
export const cookieTransport = createHttpTransport({ baseUrl: 'https://api.appframes.app', auth: crossSubdomainCookie });
