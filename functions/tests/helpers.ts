/**
 * Shared pieces of the Deno tests: the local gateway as a subprocess, JWTs
 * minted like Supabase's local keys, a connection to the real local Postgres
 * and fixture rows.
 *
 * Environment (all optional):
 * - `SUPABASE_DB_URL`: the local database, default
 *   `postgresql://postgres:postgres@127.0.0.1:54322/postgres`.
 * - `SUPABASE_JWT_SECRET`: the HS256 secret, default a random one per run.
 *
 * @module
 */

import postgres from "npm:postgres@3.4.5";
import { SignJWT } from "npm:jose@5.10.0";

/** The repository's root directory. */
export const REPO_ROOT = new URL("../../", import.meta.url);

/** The local gateway's entry point. */
export const GATEWAY_PATH = new URL("supabase/local/gateway.ts", REPO_ROOT);

/** The demo bot definition shared with the Rust and Wasm tests. */
export const DEMO_BOT_FIXTURE = new URL("crates/routing/fixtures/demo-bot.json", REPO_ROOT);

/** The database the tests and the gateway use. */
export const DB_URL = Deno.env.get("SUPABASE_DB_URL") ??
  "postgresql://postgres:postgres@127.0.0.1:54322/postgres";

/**
 * The secret that signs and verifies the test JWTs: `SUPABASE_JWT_SECRET`,
 * else a random one for this test process (the gateways the tests start get
 * it), never Supabase's public default.
 */
export const JWT_SECRET = Deno.env.get("SUPABASE_JWT_SECRET") ??
  [...crypto.getRandomValues(new Uint8Array(32))].map((byte) => byte.toString(16).padStart(2, "0")).join("");

/** Options for {@link mintJwt}. */
export interface MintOptions {
  /** The HS256 secret; defaults to {@link JWT_SECRET}. */
  secret?: string;
  /** Seconds until expiry; negative for an already expired token. Default one hour. */
  expiresInSeconds?: number;
  /** Extra claims, such as `sub`. */
  claims?: Record<string, unknown>;
}

/** Mints an HS256 JWT for `role`, shaped like the Supabase CLI's local keys. */
export async function mintJwt(role: string, options: MintOptions = {}): Promise<string> {
  const nowSeconds = Math.floor(Date.now() / 1000);
  return await new SignJWT({ role, ...options.claims })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer("supabase-demo")
    .setIssuedAt(nowSeconds - 60)
    .setExpirationTime(nowSeconds + (options.expiresInSeconds ?? 3600))
    .sign(new TextEncoder().encode(options.secret ?? JWT_SECRET));
}

/** The environment a gateway subprocess gets, before per-test overrides. */
export async function gatewayEnv(): Promise<Record<string, string>> {
  const inherited = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(
      ([name]) =>
        !name.startsWith("SUPABASE_") && !name.startsWith("GATEWAY_") && !name.startsWith("WABOT_GATEWAY_"),
    ),
  );
  return {
    ...inherited,
    NO_COLOR: "1",
    GATEWAY_PORT: "0",
    // The local stack's outbound allow-list (scripts/lib/stack.sh): test
    // receivers listen on loopback.
    WABOT_OUTBOUND_ALLOW: "127.0.0.0/8,::1/128",
    SUPABASE_DB_URL: DB_URL,
    SUPABASE_JWT_SECRET: JWT_SECRET,
    SUPABASE_ANON_KEY: await mintJwt("anon"),
    SUPABASE_SERVICE_ROLE_KEY: await mintJwt("service_role"),
  };
}

function gatewayCommand(env: Record<string, string>): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read", GATEWAY_PATH.pathname],
    cwd: REPO_ROOT.pathname,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Options for {@link startGateway}. */
export interface GatewayOptions {
  /** A config.toml to serve instead of `supabase/config.toml`. */
  configPath?: string;
  /** Variables to set on top of {@link gatewayEnv}. */
  env?: Record<string, string>;
}

/** A running gateway subprocess. */
export interface Gateway {
  /** The gateway's origin, e.g. `http://127.0.0.1:40123`. */
  origin: string;
  /** The URL of `/functions/v1/<path>`. */
  functionUrl(path: string): string;
  /** Lines the gateway printed on stdout so far. */
  stdoutLines(): string[];
  /** What the gateway printed on stderr so far. */
  stderrText(): string;
  /** Sends SIGTERM and waits for the process and its output to end. */
  stop(): Promise<Deno.CommandStatus>;
}

/**
 * Starts `supabase/local/gateway.ts` on a free port and resolves once it
 * reports it is listening (every function loaded). Rejects with the
 * gateway's stderr when it exits first or takes longer than `timeoutMs`.
 */
export async function startGateway(options: GatewayOptions = {}, timeoutMs = 120_000): Promise<Gateway> {
  const env = { ...await gatewayEnv(), ...options.env };
  if (options.configPath !== undefined) env.GATEWAY_CONFIG = options.configPath;
  const child = gatewayCommand(env).spawn();

  const stdoutLines: string[] = [];
  let stderrText = "";
  let resolveOrigin: (origin: string) => void = () => {};
  const listening = new Promise<string>((resolve) => (resolveOrigin = resolve));

  const stdoutDone = (async () => {
    let buffer = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      for (let newline = buffer.indexOf("\n"); newline >= 0; newline = buffer.indexOf("\n")) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        stdoutLines.push(line);
        const match = /^gateway listening on (http:\/\/\S+)$/.exec(line);
        if (match !== null) resolveOrigin(match[1]);
      }
    }
    if (buffer !== "") stdoutLines.push(buffer);
  })();
  const stderrDone = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      stderrText += chunk;
    }
  })();
  const exitedEarly = child.status.then(async (status) => {
    await Promise.all([stdoutDone, stderrDone]);
    return status;
  });

  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const first = await Promise.race([listening, exitedEarly, timedOut]);
  clearTimeout(timer);

  if (typeof first !== "string" || first === "timeout") {
    if (first === "timeout") {
      child.kill("SIGKILL");
      await exitedEarly;
    }
    const how = first === "timeout" ? `did not start within ${timeoutMs} ms` : `exited with ${first.code}`;
    throw new Error(`gateway ${how}\nstdout:\n${stdoutLines.join("\n")}\nstderr:\n${stderrText}`);
  }

  const origin = first;
  return {
    origin,
    functionUrl: (path) => `${origin}/functions/v1/${path.replace(/^\//, "")}`,
    stdoutLines: () => [...stdoutLines],
    stderrText: () => stderrText,
    stop: async () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already exited.
      }
      return await exitedEarly;
    },
  };
}

/** Runs the gateway expecting it to exit by itself (e.g. on bad configuration). */
export async function runGatewayToExit(env: Record<string, string>): Promise<Deno.CommandOutput> {
  return await gatewayCommand(env).output();
}

/** A response read whole, so no body is left open. */
export interface CallResult {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/** Options for {@link call}. */
export interface CallOptions {
  method?: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Serialised as JSON unless already a string, bytes or a stream. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** Makes a request and reads its whole response. */
export async function call(url: string, options: CallOptions = {}): Promise<CallResult> {
  const headers = new Headers(options.headers);
  if (options.token !== undefined) headers.set("authorization", `Bearer ${options.token}`);
  let body: BodyInit | undefined;
  if (options.body !== undefined) {
    const raw = options.body;
    if (typeof raw === "string" || raw instanceof Uint8Array || raw instanceof ReadableStream) {
      body = raw as BodyInit;
    } else {
      body = JSON.stringify(raw);
      headers.set("content-type", "application/json");
    }
  }
  const response = await fetch(url, {
    method: options.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    body,
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** The tests' own database connection (as `postgres`, bypassing RLS). */
export type Db = postgres.Sql;

/**
 * Connects to the local Postgres. Resolves to null, with the reason, when it
 * is not reachable, so the caller can fail one step clearly and skip the
 * rest.
 */
export async function connectDb(): Promise<{ db: Db | null; error: string | null }> {
  const db = postgres(DB_URL, { max: 2, connect_timeout: 5, onnotice: () => {} });
  try {
    await db`select 1`;
    return { db, error: null };
  } catch (error) {
    await db.end({ timeout: 1 });
    return { db: null, error: `local Postgres is not reachable at ${DB_URL}: ${error}` };
  }
}

/** A random E.164 phone number that satisfies `numbers.phone_number`'s check. */
export function randomPhoneNumber(): string {
  let digits = String(1 + Math.floor(Math.random() * 9));
  for (let i = 0; i < 13; i++) digits += String(Math.floor(Math.random() * 10));
  return `+${digits}`;
}

/** Rows created by a test, deleted by {@link Fixtures.cleanUp}. */
export class Fixtures {
  private readonly botIds: string[] = [];
  private readonly numberIds: string[] = [];

  constructor(private readonly db: Db) {}

  /** Deletes a bot made elsewhere (through an API) with the others. */
  trackBot(botId: string): void {
    this.botIds.push(botId);
  }

  /** Deletes a number made elsewhere (through an API) with the others. */
  trackNumber(numberId: string): void {
    this.numberIds.push(numberId);
  }

  /** Reads the demo bot definition fixture. */
  static async demoBotDefinition(): Promise<Record<string, unknown>> {
    return JSON.parse(await Deno.readTextFile(DEMO_BOT_FIXTURE));
  }

  /** Creates a bot; returns its id. */
  async bot(name = "test bot"): Promise<string> {
    const [bot] = await this.db`insert into public.bots (name) values (${name}) returning id`;
    this.botIds.push(bot.id);
    return bot.id;
  }

  /** Adds a version to a bot; returns its id. */
  async botVersion(
    botId: string,
    version: number,
    definition: unknown,
    status: "draft" | "published" | "archived" = "published",
  ): Promise<string> {
    const [row] = await this.db`
      insert into public.bot_versions (bot_id, version, definition, status, published_at)
      values (${botId}, ${version}, ${this.db.json(definition as postgres.JSONValue)}, ${status},
              ${status === "draft" ? null : new Date()})
      returning id`;
    return row.id;
  }

  /** Creates a simulator number with a random phone, optionally serving a bot. */
  async number(botId: string | null): Promise<string> {
    const [row] = await this.db`
      insert into public.numbers (phone_number, label, bot_id)
      values (${randomPhoneNumber()}, 'deno test', ${botId})
      returning id`;
    this.numberIds.push(row.id);
    return row.id;
  }

  /**
   * Inserts an inbound message (which enqueues its outbox row); returns the
   * message id and that outbox row's id.
   */
  async inbound(
    numberId: string,
    body: string,
    contact: { waId: string; name: string | null },
  ): Promise<{ messageId: string; outboxId: number }> {
    const [message] = await this.db`
      insert into public.messages (number_id, direction, contact_wa_id, contact_name, wa_message_id, body, status)
      values (${numberId}, 'inbound', ${contact.waId}, ${contact.name}, ${crypto.randomUUID()}, ${body}, 'received')
      returning id`;
    const [outbox] = await this.db`
      select id from public.outbox where payload ->> 'message_id' = ${message.id}`;
    return { messageId: message.id, outboxId: Number(outbox.id) };
  }

  /** Deletes everything created through this object (messages cascade with their number). */
  async cleanUp(): Promise<void> {
    const numberIds = this.db.array(this.numberIds);
    const botIds = this.db.array(this.botIds);
    if (this.numberIds.length > 0) {
      await this.db`
        delete from public.outbox where payload ->> 'message_id' in (
          select id::text from public.messages where number_id = any(${numberIds}::uuid[]))`;
      await this.db`
        delete from public.outbox where topic = 'health-check'
          and payload ->> 'number_id' = any(${numberIds}::text[])`;
      await this.db`delete from public.alerts where number_id = any(${numberIds}::uuid[])`;
      await this.db`delete from public.numbers where id = any(${numberIds}::uuid[])`;
    }
    if (this.botIds.length > 0) {
      await this.db`delete from public.bots where id = any(${botIds}::uuid[])`;
    }
  }
}

// ---------------------------------------------------------------------------
// Worker functions, users and tokens (admin API, outbox relay)
// ---------------------------------------------------------------------------

/** The outbox relay's shared secret in the tests' gateways. */
export const RELAY_SECRET = "deno-test-outbox-relay-secret-0123456789";

/** The members the admin API tests act as; `outsider` has no members row. */
export type MemberName = "owner" | "admin" | "operator" | "viewer" | "outsider";

/** A signed-up user and a token for them. */
export interface TestUser {
  id: string;
  email: string;
  role: Exclude<MemberName, "outsider"> | null;
  /** An HS256 access token, as Supabase Auth issues them. */
  token: string;
}

/**
 * Creates one user per {@link MemberName} in `auth.users` (the local
 * stand-in for GoTrue's table) with their `members` rows, and mints their
 * tokens. The users are new each time (random ids and emails), so runs
 * never collide; they are left in place because the last owner cannot be
 * removed.
 */
export async function createUsers(db: Db): Promise<Record<MemberName, TestUser>> {
  const names: MemberName[] = ["owner", "admin", "operator", "viewer", "outsider"];
  const run = crypto.randomUUID().slice(0, 8);
  const users = {} as Record<MemberName, TestUser>;
  for (const name of names) {
    const id = crypto.randomUUID();
    const email = `${name}-${run}@deno.test`;
    await db`
      insert into auth.users (id, email, role, aud) values (${id}, ${email}, 'authenticated', 'authenticated')`;
    const role = name === "outsider" ? null : name;
    if (role !== null) await db`insert into public.members (user_id, role) values (${id}, ${role})`;
    users[name] = {
      id,
      email,
      role,
      token: await mintJwt("authenticated", { claims: { sub: id, email, aud: "authenticated" } }),
    };
  }
  return users;
}

/** An unsigned token (`alg: none`) with the given claims. */
export function unsignedJwt(claims: Record<string, unknown>): string {
  const encode = (value: unknown) =>
    btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  return `${encode({ alg: "none", typ: "JWT" })}.${encode(claims)}.`;
}

/** A local HTTP server for a test (a webhook receiver, a fake daemon). */
export interface TestServer {
  url: string;
  requests: Array<{ method: string; path: string; headers: Headers; body: string }>;
  close(): Promise<void>;
}

/** Starts a server on a free port answering with `respond` and recording every request. */
export function startTestServer(
  respond: (request: { method: string; path: string; headers: Headers; body: string }) => Response,
): TestServer {
  const requests: TestServer["requests"] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const request = {
      method: req.method,
      path: new URL(req.url).pathname,
      headers: req.headers,
      body: await req.text(),
    };
    requests.push(request);
    return respond(request);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    close: async () => {
      await server.shutdown();
    },
  };
}

// ---------------------------------------------------------------------------
// Media storage: a real S3 server (moto's, from the ops tools)
// ---------------------------------------------------------------------------

/** An S3 server for a test, and the `WABOT_MEDIA_S3_*` variables that reach it. */
export interface S3Server {
  /** The variables to give a gateway (and set in this process for in-process calls). */
  env: Record<string, string>;
  /** Stops the server when this test started it. */
  stop(): Promise<void>;
}

/** A free loopback TCP port. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * The S3 server the media tests store into: the one `WABOT_MEDIA_S3_ENDPOINT`
 * names (the stack's, under scripts/test.sh), else moto's S3 server
 * (`moto_server`, from `WABOT_OPS_TOOLS_BIN`, default the ops venv) started
 * here on a free port. The bucket is created when missing.
 */
export async function startS3Server(): Promise<S3Server> {
  const given = Deno.env.get("WABOT_MEDIA_S3_ENDPOINT");
  let child: Deno.ChildProcess | null = null;
  let env: Record<string, string>;
  if (given) {
    env = Object.fromEntries(
      Object.entries(Deno.env.toObject()).filter(([name]) => name.startsWith("WABOT_MEDIA_S3_")),
    );
  } else {
    const bin = Deno.env.get("WABOT_OPS_TOOLS_BIN") ?? "/var/cache/wabot/ops-venv/bin";
    const port = freePort();
    child = new Deno.Command(`${bin}/moto_server`, {
      args: ["-H", "127.0.0.1", "-p", String(port)],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    env = {
      WABOT_MEDIA_S3_ENDPOINT: `http://127.0.0.1:${port}`,
      WABOT_MEDIA_S3_REGION: "us-east-1",
      WABOT_MEDIA_S3_BUCKET: "wabot-media",
      WABOT_MEDIA_S3_ACCESS_KEY_ID: "deno-test-access-key",
      WABOT_MEDIA_S3_SECRET_ACCESS_KEY: "deno-test-secret-key",
    };
    const deadline = Date.now() + 30_000;
    while (true) {
      try {
        const response = await fetch(env.WABOT_MEDIA_S3_ENDPOINT);
        await response.body?.cancel();
        break;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`moto_server did not start on port ${port}: ${error}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }
  const { MediaStore, mediaConfig } = await import("../_shared/media.ts");
  await new MediaStore(mediaConfig((name) => env[name])).ensureBucket();
  return {
    env,
    stop: async () => {
      if (child === null) return;
      try {
        child.kill("SIGTERM");
      } catch {
        // Already exited.
      }
      await child.status;
    },
  };
}

/** The smallest valid PNG (1×1, transparent), for uploads. */
export const TINY_PNG = Uint8Array.from(
  atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  ),
  (character) => character.charCodeAt(0),
);

/** Reads an object straight from the bucket (as the daemon would), or null. */
export async function readObject(env: Record<string, string>, key: string): Promise<Uint8Array | null> {
  const { MediaStore, mediaConfig } = await import("../_shared/media.ts");
  const response = await new MediaStore(mediaConfig((name) => env[name])).get(key);
  if (response === null) return null;
  return new Uint8Array(await response.arrayBuffer());
}
