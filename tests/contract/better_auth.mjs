// The real better-auth library, driven from tests/contract: one command per run, JSON on stdout.
//   node better_auth.mjs migrate            Better Auth's own migration (getMigrations) on DATABASE_URL
//   node better_auth.mjs sign-up <email>    email+password sign-up: the cookie and bearer token it issues
//   node better_auth.mjs sign-out <cookie>  Better Auth's own sign-out for that cookie
//   node better_auth.mjs get-session <cookie header>  the user Better Auth itself sees in that header
// With BETTER_AUTH_SECURE_COOKIES=1 the base URL is https, so the library issues and reads the
// __Secure- cookie, as it does in production.
import { betterAuth } from "better-auth";
import { bearer } from "better-auth/plugins";
import { getMigrations } from "better-auth/db/migration";
import pg from "pg";

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
const auth = betterAuth({
  database: pool,
  secret: process.env.BETTER_AUTH_SECRET,
  baseURL: process.env.BETTER_AUTH_SECURE_COOKIES === "1" ? "https://sync.example" : "http://localhost:8000",
  emailAndPassword: { enabled: true },
  plugins: [bearer()],
});

const commands = {
  async migrate() {
    const { toBeCreated, toBeAdded, runMigrations } = await getMigrations(auth.options);
    await runMigrations();
    return { created: toBeCreated.map((t) => t.table), added: toBeAdded.map((t) => t.table) };
  },
  async "sign-up"(email) {
    const response = await auth.api.signUpEmail({
      body: { name: "Contract", email, password: "correct horse battery staple" },
      asResponse: true,
    });
    if (!response.ok) throw new Error(`sign-up failed: ${response.status} ${await response.text()}`);
    const body = await response.json();
    return {
      userId: body.user.id,
      setCookie: response.headers.getSetCookie(),
      bearer: response.headers.get("set-auth-token"),
    };
  },
  async "get-session"(cookieHeader) {
    const found = await auth.api.getSession({ headers: new Headers({ cookie: cookieHeader }) });
    return { userId: found?.user.id ?? null };
  },
  async "sign-out"(cookie) {
    const response = await auth.api.signOut({ headers: new Headers({ cookie }), asResponse: true });
    return { status: response.status };
  },
};

const [command, ...args] = process.argv.slice(2);
try {
  process.stdout.write(JSON.stringify(await commands[command](...args)) + "\n");
} finally {
  await pool.end();
}
