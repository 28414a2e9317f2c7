// A real Better Auth server for the browser e2e tests (tests/e2e/test_better_auth_sign_in.py): the
// npm package with email and password and the bearer plugin, on the tests' Postgres, reached from the
// editor's origin across sites. It also bundles Better Auth's own browser client (better-auth/client)
// into one ES module the test page imports. Once listening it prints one JSON line: {"url": ...}.
//   DATABASE_URL, BETTER_AUTH_SECRET   the same database and secret as the sync API
//   EDITOR_ORIGIN                      the page's origin: trusted by Better Auth, allowed by CORS
//   CLIENT_BUNDLE                      where the bundled client is written
import http from "node:http";
import { betterAuth } from "better-auth";
import { bearer } from "better-auth/plugins";
import { toNodeHandler } from "better-auth/node";
import * as esbuild from "esbuild";
import pg from "pg";

const { DATABASE_URL, BETTER_AUTH_SECRET, EDITOR_ORIGIN, CLIENT_BUNDLE } = process.env;

await esbuild.build({
  stdin: { contents: 'export { createAuthClient } from "better-auth/client";', resolveDir: import.meta.dirname },
  bundle: true,
  format: "esm",
  platform: "browser",
  outfile: CLIENT_BUNDLE,
  logLevel: "warning",
});

const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
let handleAuth = null;

const server = http.createServer((request, response) => {
  if (request.headers.origin === EDITOR_ORIGIN) {
    // Better Auth itself does no CORS; its client sends credentials, and the page reads set-auth-token.
    response.setHeader("Access-Control-Allow-Origin", EDITOR_ORIGIN);
    response.setHeader("Access-Control-Allow-Credentials", "true");
    response.setHeader("Access-Control-Expose-Headers", "set-auth-token");
    response.setHeader("Vary", "Origin");
    if (request.method === "OPTIONS") {
      response.setHeader("Access-Control-Allow-Methods", "GET, POST");
      response.setHeader("Access-Control-Allow-Headers", "Authorization, Content-Type");
      response.writeHead(204).end();
      return;
    }
  }
  handleAuth(request, response);
});

server.listen(0, "127.0.0.1", () => {
  const url = `http://127.0.0.1:${server.address().port}`;
  const auth = betterAuth({
    database: pool,
    secret: BETTER_AUTH_SECRET,
    baseURL: url,
    trustedOrigins: [EDITOR_ORIGIN],
    emailAndPassword: { enabled: true },
    plugins: [bearer()],
  });
  handleAuth = toNodeHandler(auth);
  process.stdout.write(JSON.stringify({ url }) + "\n");
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.close(() => pool.end().then(() => process.exit(0)));
    server.closeAllConnections();
  });
}
