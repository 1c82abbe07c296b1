/**
 * Tests of the local Supabase Auth stand-in (`auth.ts`): it refuses to run
 * against anything but this machine, and, against the test database
 * (`SUPABASE_DB_URL`), answers supabase-js's password and refresh grants,
 * `/user` and `/logout` the way GoTrue does.
 *
 * ```sh
 * SUPABASE_DB_URL=postgresql://postgres:postgres@127.0.0.1:55322/postgres \
 *   deno test --allow-all supabase/local/auth_test.ts
 * ```
 *
 * @module
 */

import { equal as assertEqual, ok as assertOk } from "node:assert/strict";
import { decodeJwt, SignJWT } from "npm:jose@5.10.0";
import postgres from "npm:postgres@3.4.5";
import {
  assertLocalOnly,
  createLocalAuth,
  isAuthPath,
  isLoopbackUrl,
  type LocalAuth,
  LocalAuthRefused,
} from "./auth.ts";

const SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";
const BASE = "http://127.0.0.1:54321";
const DATABASE_URL = Deno.env.get("SUPABASE_DB_URL");

function equal(actual: unknown, expected: unknown, message: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${message}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

function throws(fn: () => unknown, message: string): void {
  try {
    fn();
  } catch (error) {
    if (error instanceof LocalAuthRefused) return;
    throw error;
  }
  throw new Error(`${message}: did not throw LocalAuthRefused`);
}

async function anonKey(): Promise<string> {
  return await new SignJWT({ role: "anon" }).setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setExpirationTime("1h").sign(new TextEncoder().encode(SECRET));
}

function request(
  auth: LocalAuth,
  path: string,
  init: { method?: string; body?: unknown; apikey?: string | null; bearer?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (init.apikey) headers.apikey = init.apikey;
  if (init.bearer) headers.authorization = `Bearer ${init.bearer}`;
  return auth.fetch(
    new Request(`${BASE}${path}`, {
      method: init.method ?? "POST",
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    }),
  );
}

Deno.test("the local auth refuses to run against anything but this machine", () => {
  equal(
    ["http://127.0.0.1:54321", "http://localhost:3000", "http://[::1]:1", "https://x.supabase.co", "nonsense"]
      .map(
        isLoopbackUrl,
      ),
    [true, true, true, false, false],
    "loopback URLs",
  );
  assertLocalOnly("http://127.0.0.1:54321", "postgresql://postgres:postgres@127.0.0.1:54322/postgres");
  throws(
    () =>
      assertLocalOnly("https://abc.supabase.co", "postgresql://postgres:postgres@127.0.0.1:54322/postgres"),
    "a hosted project URL",
  );
  throws(() => assertLocalOnly(undefined, "postgresql://127.0.0.1/postgres"), "no project URL");
  throws(
    () =>
      assertLocalOnly("http://127.0.0.1:54321", "postgresql://postgres:x@db.abc.supabase.co:5432/postgres"),
    "a hosted database",
  );
  throws(
    () =>
      createLocalAuth({
        supabaseUrl: "https://abc.supabase.co",
        databaseUrl: "postgresql://127.0.0.1/x",
        jwtSecret: SECRET,
      }),
    "createLocalAuth with a hosted URL",
  );
  equal([isAuthPath("/auth/v1/token"), isAuthPath("/functions/v1/admin-api")], [true, false], "auth paths");
});

Deno.test("the local auth answers without a database what needs none", async () => {
  const auth = createLocalAuth({
    supabaseUrl: BASE,
    databaseUrl: "postgresql://postgres@127.0.0.1:1/none",
    jwtSecret: SECRET,
  });
  try {
    const key = await anonKey();
    const preflight = await auth.fetch(new Request(`${BASE}/auth/v1/token`, { method: "OPTIONS" }));
    equal(preflight.status, 204, "preflight");
    equal((await request(auth, "/auth/v1/token?grant_type=password", { body: {} })).status, 401, "no apikey");
    const badGrant = await request(auth, "/auth/v1/token?grant_type=magic", { apikey: key, body: {} });
    equal([badGrant.status, (await badGrant.json()).code], [400, "unsupported_grant_type"], "unknown grant");
    const badRefresh = await request(auth, "/auth/v1/token?grant_type=refresh_token", {
      apikey: key,
      body: { refresh_token: "v1.forged.token" },
    });
    equal(
      [badRefresh.status, (await badRefresh.json()).error_code],
      [400, "refresh_token_not_found"],
      "forged refresh",
    );
    const noBearer = await request(auth, "/auth/v1/user", { method: "GET", apikey: key });
    equal(noBearer.status, 401, "/user without a token");
    const anonAsUser = await request(auth, "/auth/v1/logout", { apikey: key, bearer: key });
    equal(anonAsUser.status, 401, "the anon key is not a user's token");
  } finally {
    await auth.close();
  }
});

Deno.test({
  name: "the local auth signs a seeded user in, refreshes, answers /user and logs out",
  ignore: DATABASE_URL === undefined,
  async fn() {
    const sql = postgres(DATABASE_URL!, { max: 1, onnotice: () => {} });
    const userId = crypto.randomUUID();
    const email = `local-auth-${userId.slice(0, 8)}@example.test`;
    await sql`
      insert into auth.users (id, aud, role, email, encrypted_password, email_confirmed_at)
      values (${userId}, 'authenticated', 'authenticated', ${email},
              extensions.crypt('correct horse', extensions.gen_salt('bf')), now())`;
    const auth = createLocalAuth({ supabaseUrl: BASE, databaseUrl: DATABASE_URL!, jwtSecret: SECRET });
    try {
      const key = await anonKey();
      const wrong = await request(auth, "/auth/v1/token?grant_type=password", {
        apikey: key,
        body: { email, password: "wrong" },
      });
      const wrongBody = await wrong.json();
      equal([wrong.status, wrongBody.code, wrongBody.msg], [
        400,
        "invalid_credentials",
        "Invalid login credentials",
      ], "wrong password");

      const signedIn = await request(auth, "/auth/v1/token?grant_type=password", {
        apikey: key,
        body: { email: email.toUpperCase(), password: "correct horse" },
      });
      equal(signedIn.status, 200, "password grant");
      const session = await signedIn.json();
      equal([session.token_type, session.expires_in, session.user.id, session.user.email], [
        "bearer",
        3600,
        userId,
        email,
      ], "session");
      const claims = decodeJwt(session.access_token);
      equal(
        [claims.sub, claims.role, claims.aud, claims.email, typeof claims.session_id, claims.iss],
        [userId, "authenticated", "authenticated", email, "string", `${BASE}/auth/v1`],
        "access token claims",
      );
      equal((claims.exp as number) - (claims.iat as number), 3600, "access token lifetime");

      const user = await request(auth, "/auth/v1/user", {
        method: "GET",
        apikey: key,
        bearer: session.access_token,
      });
      equal([user.status, (await user.json()).id], [200, userId], "/user");

      const refreshed = await request(auth, "/auth/v1/token?grant_type=refresh_token", {
        apikey: key,
        body: { refresh_token: session.refresh_token },
      });
      const next = await refreshed.json();
      equal(refreshed.status, 200, "refresh grant");
      equal(decodeJwt(next.access_token).session_id, claims.session_id, "the refresh keeps the session");

      equal(
        (await request(auth, "/auth/v1/logout", { apikey: key, bearer: next.access_token })).status,
        204,
        "logout",
      );
      const afterLogout = await request(auth, "/auth/v1/token?grant_type=refresh_token", {
        apikey: key,
        body: { refresh_token: next.refresh_token },
      });
      equal(afterLogout.status, 400, "refresh after logout");
      const userAfterLogout = await request(auth, "/auth/v1/user", {
        method: "GET",
        apikey: key,
        bearer: next.access_token,
      });
      equal(userAfterLogout.status, 403, "/user after logout");
    } finally {
      await auth.close();
      await sql`delete from auth.users where id = ${userId}`;
      await sql.end();
    }
  },
});

Deno.test("the local auth answers CORS to the admin UI's origins only and refuses non-loopback Hosts", async () => {
  const auth = createLocalAuth({
    supabaseUrl: BASE,
    databaseUrl: "postgresql://postgres@127.0.0.1:1/none",
    jwtSecret: SECRET,
  });
  const previous = Deno.env.get("ADMIN_UI_ORIGIN");
  Deno.env.set("ADMIN_UI_ORIGIN", "http://localhost:3000, http://127.0.0.1:55300");
  try {
    const preflight = (origin: string, host?: string) =>
      auth.fetch(
        new Request(`${BASE}/auth/v1/token`, {
          method: "OPTIONS",
          headers: {
            origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "apikey, x-evil",
            ...(host === undefined ? {} : { host }),
          },
        }),
      );
    const evil = await preflight("https://evil.example");
    assertEqual(evil.headers.get("access-control-allow-origin"), null, "an evil origin gets no ACAO");
    const evilAnswer = await auth.fetch(
      new Request(`${BASE}/auth/v1/token?grant_type=password`, {
        method: "POST",
        headers: { origin: "https://evil.example", "content-type": "application/json" },
        body: "{}",
      }),
    );
    assertEqual(evilAnswer.headers.get("access-control-allow-origin"), null, "nor on the answer");
    const good = await preflight("http://127.0.0.1:55300");
    assertEqual(good.status, 204);
    assertEqual(
      good.headers.get("access-control-allow-origin"),
      "http://127.0.0.1:55300",
      "a configured origin",
    );
    const allowHeaders = good.headers.get("access-control-allow-headers") ?? "";
    assertOk(allowHeaders.includes("apikey") && !allowHeaders.includes("x-evil"), allowHeaders);

    const port = new URL(BASE).port || "80";
    assertEqual((await preflight("http://localhost:3000", `rebind.evil.example:${port}`)).status, 421);
    assertEqual((await preflight("http://localhost:3000", "evil.example")).status, 421);
    assertEqual((await preflight("http://localhost:3000", `localhost:${port}`)).status, 204);
    assertEqual((await preflight("http://localhost:3000", `[::1]:${port}`)).status, 204);
  } finally {
    if (previous === undefined) Deno.env.delete("ADMIN_UI_ORIGIN");
    else Deno.env.set("ADMIN_UI_ORIGIN", previous);
    await auth.close();
  }
});
