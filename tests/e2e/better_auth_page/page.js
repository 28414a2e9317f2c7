// The editor's wiring in production, reduced to what tests/e2e/test_better_auth_sign_in.py drives:
// Better Auth's own browser client signs in against the real Better Auth server; the bearer plugin's
// `set-auth-token` is kept (Better Auth's documented bearer setup) and handed to the sync client,
// which calls the sync API on its own origin. ?auth=<Better Auth URL>&api=<sync API URL>
import { createAuthClient } from '/better-auth/client.js';
import { createSyncEngine, openIndexedDbProjectStore } from '/client/src/index.js';

const parameters = new URLSearchParams(location.search);
const TOKEN_KEY = 'bearer_token';

const authClient = createAuthClient({
  baseURL: parameters.get('auth'),
  fetchOptions: {
    auth: { type: 'Bearer', token: () => localStorage.getItem(TOKEN_KEY) ?? '' },
    onSuccess: (context) => {
      const token = context.response.headers.get('set-auth-token');
      if (token) localStorage.setItem(TOKEN_KEY, token);
    },
  },
});

/** The sync client's token: the kept one; after a 401, whatever Better Auth says of the session now. */
async function sessionToken({ refresh }) {
  if (refresh) {
    const { data } = await authClient.getSession();
    if (!data) localStorage.removeItem(TOKEN_KEY);
  }
  return localStorage.getItem(TOKEN_KEY);
}

const localStore = await openIndexedDbProjectStore({ indexedDB, name: 'better-auth-page-projects' });
const engine = createSyncEngine({ localStore, baseUrl: parameters.get('api'), auth: { mode: 'bearer', sessionToken } });
engine.on('status', (status) => { document.querySelector('[data-testid="sync-status"]').textContent = status.label; });

/** Resolves once nothing is left to do: idle, and the status no longer "Syncing" (it is while the tab waits for its lock). */
async function settled() {
  for (;;) {
    await engine.idle();
    if (engine.status().state !== 'syncing') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** @param {{ data: any, error: any }} answer */
async function useSession({ data, error }) {
  if (error) throw new Error(`Better Auth refused: ${error.status} ${error.message ?? ''}`);
  await engine.setUser({ id: data.user.id, email: data.user.email });
  await settled();
  return data.user.id;
}

window.editor = {
  signUp: async (email, password) => useSession(await authClient.signUp.email({ email, password, name: 'E2E' })),
  signIn: async (email, password) => useSession(await authClient.signIn.email({ email, password })),
  /** Better Auth ends the session; the sync client still holds its token until the API refuses it. */
  endSessionElsewhere: async () => {
    const kept = localStorage.getItem(TOKEN_KEY);
    await authClient.signOut();
    return kept;
  },
  async save(id, text) {
    await engine.saveProject({ id, name: `Project ${id}`, data: { text } });
    await settled();
  },
  async sync() {
    engine.syncNow();
    await settled();
  },
  text: async (id) => (await localStore.get(id))?.data?.text ?? null,
  status: () => engine.status(),
  token: () => localStorage.getItem(TOKEN_KEY),
};
document.body.dataset.ready = 'true';
