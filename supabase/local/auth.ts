/**
 * A minimal, local-only stand-in for Supabase Auth (GoTrue), mounted by the
 * local gateway (`supabase/local/gateway.ts`) at `/auth/v1/`, so the admin UI
 * signs in with supabase-js (`signInWithPassword`) against the local stack
 * exactly as it does against a hosted project. It is never deployed: hosted
 * projects have the real Supabase Auth at the same paths.
 *
 * The subset supabase-js needs for email and password sessions:
 *
 * | method and path | what |
 * |---|---|
 * | `POST /auth/v1/token?grant_type=password` | `{email, password}` checked against `auth.users.encrypted_password` with pgcrypto's `crypt()`; answers a session |
 * | `POST /auth/v1/token?grant_type=refresh_token` | `{refresh_token}`; answers a new session for the same `session_id` |
 * | `GET /auth/v1/user` | the bearer access token's user |
 * | `POST /auth/v1/logout` | ends the bearer token's session (its refresh tokens stop working) |
 *
 * A session is `{access_token, token_type: "bearer", expires_in, expires_at,
 * refresh_token, user}`. Access tokens are HS256 JWTs signed with
 * `SUPABASE_JWT_SECRET`, with GoTrue's claims (`sub`, `role: authenticated`,
 * `aud: authenticated`, `email`, `exp`, `iat`, `iss`, `session_id`,
 * `app_metadata`, `user_metadata`, `aal`, `amr`), so the gateway's
 * `verify_jwt` and the admin API accept them as they accept hosted ones.
 * Refresh tokens are not JWTs (the functions must never mistake one for an
 * access token): `v1.<payload>.<HMAC-SHA256 under a key derived from the JWT
 * secret>`, valid for 30 days. Ended sessions are remembered in memory only,
 * so a gateway restart forgets a logout (the local stack's users are seeded
 * developers; hosted Supabase Auth keeps real server-side sessions).
 *
 * Errors have GoTrue's shape, `{"code", "error_code", "msg"}` (400
 * `invalid_credentials`, 400 `refresh_token_not_found`, 401
 * `bad_jwt`/`no_authorization`, 403 `session_not_found`, 404, 405), which
 * supabase-js turns into `AuthApiError`s. Every request needs an `apikey` (or
 * bearer) signed with the JWT secret, as the hosted API gateway requires the
 * anon key.
 *
 * **It refuses to start unless `SUPABASE_URL` and the database URL are
 * loopback URLs** ({@link assertLocalOnly}): it must never stand in front of
 * a hosted project's users.
 *
 * @module
 */

import { jwtVerify, SignJWT } from "npm:jose@5.10.0";
import postgres from "npm:postgres@3.4.5";
import {
  CORS_ALLOW_HEADERS,
  corsHeaders as allowedCors,
  isLoopbackHost,
  misdirected,
  requestHost,
} from "./origin.ts";

/** The access token's lifetime, as GoTrue's default `jwt_expiry`. */
export const ACCESS_TOKEN_SECONDS = 3600;

/** A refresh token's lifetime. */
export const REFRESH_TOKEN_SECONDS = 30 * 24 * 3600;

/** Thrown when the local auth is asked to run against something that is not this machine. */
export class LocalAuthRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LocalAuthRefused";
  }
}

/** Whether a URL's host is this machine: localhost, 127.0.0.0/8 or [::1]. */
export function isLoopbackUrl(value: string): boolean {
  let hostname: string;
  try {
    hostname = new URL(value).hostname;
  } catch {
    return false;
  }
  return hostname === "localhost" || hostname === "[::1]" ||
    hostname === "::1" ||
    /^127(\.\d{1,3}){3}$/.test(hostname);
}

/**
 * Throws {@link LocalAuthRefused} unless both the project URL and the
 * database URL point at this machine.
 */
export function assertLocalOnly(
  supabaseUrl: string | undefined,
  databaseUrl: string | undefined,
): void {
  if (supabaseUrl === undefined || !isLoopbackUrl(supabaseUrl)) {
    throw new LocalAuthRefused(
      `the local auth stand-in only runs against the local stack, but SUPABASE_URL is ${
        supabaseUrl ?? "unset"
      }; hosted projects use Supabase Auth (set GATEWAY_LOCAL_AUTH=off to run the gateway without it)`,
    );
  }
  if (databaseUrl === undefined || !isLoopbackUrl(databaseUrl)) {
    throw new LocalAuthRefused(
      "the local auth stand-in only reads a database on this machine, but the database URL is not a loopback URL",
    );
  }
}

/** The options of {@link createLocalAuth}. */
export interface LocalAuthOptions {
  /** The project URL the gateway serves (a loopback URL). */
  supabaseUrl: string;
  /** The database holding `auth.users` (a loopback URL). */
  databaseUrl: string;
  /** `SUPABASE_JWT_SECRET`. */
  jwtSecret: string;
  /** The clock, in milliseconds (tests pass their own). */
  now?: () => number;
}

/** The mounted handler. */
export interface LocalAuth {
  /** Answers a request whose path starts with `/auth/v1/`. */
  fetch(req: Request): Promise<Response>;
  /** Closes the database pool. */
  close(): Promise<void>;
}

/** Whether a request belongs to the local auth. */
export function isAuthPath(pathname: string): boolean {
  return pathname === "/auth/v1" || pathname.startsWith("/auth/v1/");
}

interface UserRow {
  id: string;
  email: string | null;
  aud: string | null;
  role: string | null;
  email_confirmed_at: Date | null;
  raw_app_meta_data: Record<string, unknown> | null;
  raw_user_meta_data: Record<string, unknown> | null;
  created_at: Date | null;
  updated_at: Date | null;
}

interface RefreshPayload {
  sub: string;
  session_id: string;
  exp: number;
  nonce: string;
}

const CORS_ALLOW_METHODS = "GET, POST, PUT, DELETE, OPTIONS";

function encodeBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

function decodeBase64Url(text: string): Uint8Array {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") +
    "===".slice((text.length + 3) % 4);
  const binary = atob(padded);
  return Uint8Array.from(binary, (character) => character.charCodeAt(0));
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let index = 0; index < a.length; index++) {
    difference |= a[index] ^ b[index];
  }
  return difference === 0;
}

function randomId(): string {
  return crypto.randomUUID();
}

/** Creates the handler; throws {@link LocalAuthRefused} for a non-loopback project or database. */
export function createLocalAuth(options: LocalAuthOptions): LocalAuth {
  assertLocalOnly(options.supabaseUrl, options.databaseUrl);
  if (options.jwtSecret.length < 32) {
    throw new LocalAuthRefused(
      "SUPABASE_JWT_SECRET must be at least 32 characters",
    );
  }
  const now = options.now ?? (() => Date.now());
  const issuer = `${options.supabaseUrl.replace(/\/+$/, "")}/auth/v1`;
  const projectUrl = new URL(options.supabaseUrl);
  /** The port requests must name in `Host`: the project URL's. */
  const projectPort = Number(projectUrl.port || (projectUrl.protocol === "https:" ? 443 : 80));
  const jwtKey = new TextEncoder().encode(options.jwtSecret);
  const refreshKey = crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(`local-auth-refresh-token:${options.jwtSecret}`),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const sql = postgres(options.databaseUrl, {
    max: 2,
    prepare: false,
    idle_timeout: 20,
    connect_timeout: 10,
    connection: { application_name: "local-auth" },
    onnotice: () => {},
  });
  /** Sessions ended by a logout while this process runs. */
  const endedSessions = new Set<string>();

  /** CORS for the admin UI's origins only (`./origin.ts`), never a reflected `Origin`. */
  function corsHeaders(req: Request): Record<string, string> {
    return {
      ...allowedCors(req),
      "access-control-expose-headers": "x-supabase-api-version",
    };
  }

  function respond(req: Request, status: number, body: unknown): Response {
    return new Response(body === null ? null : JSON.stringify(body), {
      status,
      headers: {
        ...corsHeaders(req),
        ...(body === null ? {} : { "content-type": "application/json; charset=utf-8" }),
        "cache-control": "no-store",
        "x-supabase-api-version": "2024-01-01",
      },
    });
  }

  function fail(
    req: Request,
    status: number,
    code: string,
    message: string,
  ): Response {
    return respond(req, status, {
      code,
      error_code: code,
      msg: message,
      message,
    });
  }

  async function sign(payload: RefreshPayload): Promise<string> {
    const body = encodeBase64Url(
      new TextEncoder().encode(JSON.stringify(payload)),
    );
    const mac = new Uint8Array(
      await crypto.subtle.sign(
        "HMAC",
        await refreshKey,
        new TextEncoder().encode(body),
      ),
    );
    return `v1.${body}.${encodeBase64Url(mac)}`;
  }

  async function verifyRefreshToken(
    token: string,
  ): Promise<RefreshPayload | null> {
    const parts = token.split(".");
    if (parts.length !== 3 || parts[0] !== "v1") return null;
    const [, body, mac] = parts;
    let expected: Uint8Array;
    let given: Uint8Array;
    try {
      expected = new Uint8Array(
        await crypto.subtle.sign(
          "HMAC",
          await refreshKey,
          new TextEncoder().encode(body),
        ),
      );
      given = decodeBase64Url(mac);
    } catch {
      return null;
    }
    if (!constantTimeEqual(expected, given)) return null;
    try {
      const payload = JSON.parse(
        new TextDecoder().decode(decodeBase64Url(body)),
      ) as RefreshPayload;
      if (
        typeof payload.sub !== "string" ||
        typeof payload.session_id !== "string"
      ) return null;
      if (typeof payload.exp !== "number" || payload.exp * 1000 <= now()) {
        return null;
      }
      return payload;
    } catch {
      return null;
    }
  }

  async function verifyJwt(
    token: string,
  ): Promise<Record<string, unknown> | null> {
    try {
      const { payload } = await jwtVerify(token, jwtKey, {
        algorithms: ["HS256"],
        currentDate: new Date(now()),
      });
      return payload as Record<string, unknown>;
    } catch {
      return null;
    }
  }

  function bearer(req: Request): string | null {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(
      req.headers.get("authorization") ?? "",
    );
    return match === null ? null : match[1];
  }

  /** The hosted API gateway requires a project key; so does this one. */
  async function hasProjectKey(req: Request): Promise<boolean> {
    const key = req.headers.get("apikey") ?? bearer(req);
    return key !== null && (await verifyJwt(key)) !== null;
  }

  function userJson(
    row: UserRow,
    lastSignInAt: string | null,
  ): Record<string, unknown> {
    const confirmed = row.email_confirmed_at?.toISOString() ?? null;
    return {
      id: row.id,
      aud: "authenticated",
      role: "authenticated",
      email: row.email ?? "",
      email_confirmed_at: confirmed,
      confirmed_at: confirmed,
      phone: "",
      last_sign_in_at: lastSignInAt,
      app_metadata: {
        provider: "email",
        providers: ["email"],
        ...(row.raw_app_meta_data ?? {}),
      },
      user_metadata: row.raw_user_meta_data ?? {},
      identities: [],
      created_at: row.created_at?.toISOString() ?? null,
      updated_at: row.updated_at?.toISOString() ?? null,
      is_anonymous: false,
    };
  }

  async function userById(id: string): Promise<UserRow | null> {
    const rows = await sql<UserRow[]>`
      select id::text, email, aud, role, email_confirmed_at, raw_app_meta_data, raw_user_meta_data,
             created_at, updated_at
      from auth.users where id::text = ${id}`;
    return rows[0] ?? null;
  }

  async function session(
    req: Request,
    row: UserRow,
    sessionId: string,
  ): Promise<Response> {
    const issuedAt = Math.floor(now() / 1000);
    const expiresAt = issuedAt + ACCESS_TOKEN_SECONDS;
    const user = userJson(row, new Date(issuedAt * 1000).toISOString());
    const accessToken = await new SignJWT({
      sub: row.id,
      aud: "authenticated",
      role: "authenticated",
      email: row.email ?? "",
      phone: "",
      app_metadata: user.app_metadata,
      user_metadata: user.user_metadata,
      aal: "aal1",
      amr: [{ method: "password", timestamp: issuedAt }],
      session_id: sessionId,
      is_anonymous: false,
    })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer(issuer)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .sign(jwtKey);
    const refreshToken = await sign({
      sub: row.id,
      session_id: sessionId,
      exp: issuedAt + REFRESH_TOKEN_SECONDS,
      nonce: randomId(),
    });
    return respond(req, 200, {
      access_token: accessToken,
      token_type: "bearer",
      expires_in: ACCESS_TOKEN_SECONDS,
      expires_at: expiresAt,
      refresh_token: refreshToken,
      user,
    });
  }

  async function readBody(req: Request): Promise<Record<string, unknown>> {
    try {
      const body = await req.json();
      return typeof body === "object" && body !== null && !Array.isArray(body) ? body : {};
    } catch {
      return {};
    }
  }

  async function passwordGrant(req: Request): Promise<Response> {
    const body = await readBody(req);
    const email = typeof body.email === "string" ? body.email.trim() : "";
    const password = typeof body.password === "string" ? body.password : "";
    if (email === "" || password === "") {
      return fail(
        req,
        400,
        "validation_failed",
        "An email and a password are required",
      );
    }
    const rows = await sql<UserRow[]>`
      select id::text, email, aud, role, email_confirmed_at, raw_app_meta_data, raw_user_meta_data,
             created_at, updated_at
      from auth.users
      where lower(email) = lower(${email})
        and encrypted_password is not null and encrypted_password <> ''
        and encrypted_password = extensions.crypt(${password}, encrypted_password)`;
    const row = rows[0];
    if (row === undefined) {
      return fail(req, 400, "invalid_credentials", "Invalid login credentials");
    }
    return session(req, row, randomId());
  }

  async function refreshGrant(req: Request): Promise<Response> {
    const body = await readBody(req);
    const token = typeof body.refresh_token === "string" ? body.refresh_token : "";
    const payload = token === "" ? null : await verifyRefreshToken(token);
    if (payload === null || endedSessions.has(payload.session_id)) {
      return fail(
        req,
        400,
        "refresh_token_not_found",
        "Invalid Refresh Token: Refresh Token Not Found",
      );
    }
    const row = await userById(payload.sub);
    if (row === null) {
      return fail(
        req,
        400,
        "refresh_token_not_found",
        "Invalid Refresh Token: User Not Found",
      );
    }
    return session(req, row, payload.session_id);
  }

  async function accessClaims(
    req: Request,
  ): Promise<Record<string, unknown> | Response> {
    const token = bearer(req);
    if (token === null) {
      return fail(
        req,
        401,
        "no_authorization",
        "This endpoint requires a Bearer token",
      );
    }
    const claims = await verifyJwt(token);
    if (
      claims === null || typeof claims.sub !== "string" ||
      claims.role !== "authenticated"
    ) {
      return fail(
        req,
        401,
        "bad_jwt",
        "invalid JWT: unable to parse or verify signature, token is expired",
      );
    }
    if (
      typeof claims.session_id === "string" &&
      endedSessions.has(claims.session_id)
    ) {
      return fail(
        req,
        403,
        "session_not_found",
        "Session from session_id claim in JWT does not exist",
      );
    }
    return claims;
  }

  async function handle(req: Request): Promise<Response> {
    // Only loopback Host names on the project's port (DNS rebinding).
    if (!isLoopbackHost(requestHost(req), projectPort)) return misdirected();
    const url = new URL(req.url);
    const path = url.pathname.replace(/\/+$/, "");
    if (req.method === "OPTIONS") {
      return new Response(null, {
        status: 204,
        headers: {
          ...corsHeaders(req),
          "access-control-allow-methods": CORS_ALLOW_METHODS,
          "access-control-allow-headers": CORS_ALLOW_HEADERS,
          "access-control-max-age": "86400",
        },
      });
    }
    if (!(await hasProjectKey(req))) {
      return respond(req, 401, {
        message: "Invalid API key",
        hint: "Send the anon key as the apikey header",
      });
    }
    if (path === "/auth/v1/token") {
      if (req.method !== "POST") {
        return fail(req, 405, "method_not_allowed", "use POST");
      }
      const grantType = url.searchParams.get("grant_type");
      if (grantType === "password") return await passwordGrant(req);
      if (grantType === "refresh_token") return await refreshGrant(req);
      return fail(
        req,
        400,
        "unsupported_grant_type",
        "the local auth supports grant_type=password and grant_type=refresh_token only",
      );
    }
    if (path === "/auth/v1/user") {
      if (req.method !== "GET") {
        return fail(req, 405, "method_not_allowed", "use GET");
      }
      const claims = await accessClaims(req);
      if (claims instanceof Response) return claims;
      const row = await userById(claims.sub as string);
      if (row === null) {
        return fail(
          req,
          403,
          "user_not_found",
          "User from sub claim in JWT does not exist",
        );
      }
      return respond(req, 200, userJson(row, null));
    }
    if (path === "/auth/v1/logout") {
      if (req.method !== "POST") {
        return fail(req, 405, "method_not_allowed", "use POST");
      }
      const claims = await accessClaims(req);
      if (claims instanceof Response) return claims;
      if (typeof claims.session_id === "string") {
        endedSessions.add(claims.session_id);
      }
      return respond(req, 204, null);
    }
    return fail(
      req,
      404,
      "not_found",
      `the local auth does not serve ${req.method} ${url.pathname}`,
    );
  }

  return {
    async fetch(req: Request): Promise<Response> {
      try {
        return await handle(req);
      } catch (error) {
        console.error("local auth failed:", error);
        return fail(
          req,
          500,
          "unexpected_failure",
          "the local auth failed; see the gateway log",
        );
      }
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}

/**
 * Creates the handler from the gateway's environment (`SUPABASE_URL`,
 * `SUPABASE_DB_URL`, `SUPABASE_JWT_SECRET`); throws {@link LocalAuthRefused}
 * when they do not describe the local stack.
 */
export function createLocalAuthFromEnv(): LocalAuth {
  return createLocalAuth({
    supabaseUrl: Deno.env.get("SUPABASE_URL") ?? "",
    databaseUrl: Deno.env.get("SUPABASE_DB_URL") ?? "",
    jwtSecret: Deno.env.get("SUPABASE_JWT_SECRET") ?? "",
  });
}
