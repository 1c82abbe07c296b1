/**
 * The local stand-in for Supabase's Edge Functions router.
 *
 * Hosted Supabase (and `supabase functions serve`, which needs Docker) put a
 * router in front of the functions; this file plays that part on machines
 * without Docker. It is never deployed.
 *
 * ```sh
 * deno run --allow-net --allow-env --allow-read supabase/local/gateway.ts
 * ```
 *
 * What it does, like the hosted router:
 *
 * - Serves `http://127.0.0.1:${GATEWAY_PORT ?? 54321}/functions/v1/<slug>[/…]`
 *   and hands the function the request with its path rewritten to
 *   `/<slug>[/…]` (the query string is kept), as the hosted runtime does.
 * - Builds its function table from the `[functions.<slug>]` tables of
 *   `supabase/config.toml` (`GATEWAY_CONFIG` overrides the path):
 *   `entrypoint` relative to the config's directory (default
 *   `functions/<slug>/index.ts`), `enabled` and `verify_jwt` defaulting to
 *   true. Unknown or disabled slugs answer 404
 *   `{"error": "function not found: <slug>"}`.
 * - Imports every enabled function once, at start-up. A function module's
 *   default export is `{ fetch(req: Request): Response | Promise<Response> }`,
 *   the form the hosted runtime also accepts.
 * - `verify_jwt`: requires `Authorization: Bearer <jwt>` signed HS256 with
 *   `SUPABASE_JWT_SECRET` and not expired; otherwise 401
 *   `{"code": 401, "message": "Missing authorization header" | "Invalid JWT"}`.
 * - Environment: `SUPABASE_DB_URL`, `SUPABASE_ANON_KEY`,
 *   `SUPABASE_SERVICE_ROLE_KEY` and `SUPABASE_JWT_SECRET` must be set (it
 *   exits at start naming any that is missing); `SUPABASE_URL` defaults to
 *   `http://127.0.0.1:<port>`. Functions run in this process, so they see
 *   the same environment.
 *
 * Local conveniences the hosted router does not offer (so functions called
 * from a browser must still answer CORS themselves once deployed):
 *
 * - Request bodies over 1 MiB are refused with 413 JSON.
 * - `CONNECT`, `TRACE` and `TRACK`, which no function can be handed (the
 *   Fetch API refuses them), are answered 405 JSON.
 * - `OPTIONS` preflights are answered here, and responses carry
 *   `Access-Control-Allow-Origin`, only for the admin UI's origins
 *   (`ADMIN_UI_ORIGIN`, comma-separated, default `http://localhost:3000`):
 *   never `*`, never another page's `Origin`; preflights allow an explicit
 *   list of request headers (`./origin.ts`).
 * - Requests whose `Host` is not `localhost`, `127.0.0.1` or `[::1]` with
 *   the gateway's port are refused with 421 JSON, which defeats DNS
 *   rebinding (a hostile page's name resolving to 127.0.0.1).
 * - One log line per request: method, path, status, milliseconds.
 * - `/auth/v1/…`: the local stand-in for Supabase Auth (`./auth.ts`), so the
 *   admin UI signs in with supabase-js. It refuses to start unless
 *   `SUPABASE_URL` and the database are on this machine (the gateway then
 *   exits); `GATEWAY_LOCAL_AUTH=off` leaves it out.
 *
 * Fault injection, for the chaos run (`scripts/chaos.sh`) only, off unless
 * asked for and never set by `scripts/dev.sh`:
 *
 * - `WABOT_GATEWAY_FAULT_RATE=<0..1>` (default 0) makes that fraction of
 *   function invocations (requests that found their function, passed
 *   `verify_jwt` and are not preflights) answer 503
 *   `{"error": "injected fault (WABOT_GATEWAY_FAULT_RATE)"}` with the header
 *   `x-wabot-fault`. Half of the faults strike before the function runs
 *   (`x-wabot-fault: before`), half after it ran and its response was thrown
 *   away (`x-wabot-fault: after`), so callers see both a call that did
 *   nothing and one whose work was done but whose answer was lost. Any
 *   other value stops the gateway at start with an error. The start-up log
 *   says when faults are on.
 *
 * It prints `gateway listening on http://127.0.0.1:<port>` once every
 * function is loaded (`GATEWAY_PORT=0` picks a free port), and exits with
 * status 0 on SIGTERM or SIGINT after in-flight requests finish.
 *
 * @module
 */

import { jwtVerify } from "npm:jose@5.10.0";
import { parse as parseToml } from "npm:smol-toml@1";
import { createLocalAuthFromEnv, isAuthPath, type LocalAuth } from "./auth.ts";
import {
  allowedOrigins,
  CORS_ALLOW_HEADERS,
  corsHeaders,
  isLoopbackHost,
  misdirected,
  requestHost,
} from "./origin.ts";

/** The largest request body passed to a function. */
const MAX_BODY_BYTES = 1024 * 1024;

const FUNCTIONS_PREFIX = "/functions/v1/";

/** Methods the Fetch API will not build a request with: answered 405 here. */
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

/** Variables the hosted runtime injects and the functions rely on. */
const REQUIRED_ENV = [
  "SUPABASE_DB_URL",
  "SUPABASE_ANON_KEY",
  "SUPABASE_SERVICE_ROLE_KEY",
  "SUPABASE_JWT_SECRET",
] as const;

const CORS_ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS";

/** The environment variable of the fault-injection knob. */
export const FAULT_RATE_VARIABLE = "WABOT_GATEWAY_FAULT_RATE";

/**
 * Reads `WABOT_GATEWAY_FAULT_RATE`: absent or empty is 0, otherwise a
 * number from 0 to 1. Throws on anything else.
 */
export function parseFaultRate(text: string | undefined): number {
  if (text === undefined || text.trim() === "") return 0;
  const rate = Number(text);
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new Error(`${FAULT_RATE_VARIABLE} must be a number from 0 to 1, got "${text}"`);
  }
  return rate;
}

/** Where an injected fault strikes, if one does. */
export type Fault = "before" | "after" | null;

/**
 * Decides the fate of one invocation from two draws in [0, 1): a fault
 * when the first is below `rate`, before the function when the second is
 * below one half, after it otherwise.
 */
export function drawFault(rate: number, random: () => number = Math.random): Fault {
  if (rate <= 0 || random() >= rate) return null;
  return random() < 0.5 ? "before" : "after";
}

function faultResponse(fault: "before" | "after"): Response {
  return jsonResponse(503, { error: `injected fault (${FAULT_RATE_VARIABLE})` }, {
    "x-wabot-fault": fault,
  });
}

/** One `[functions.<slug>]` table of config.toml, resolved. */
export interface FunctionConfig {
  /** The function's name, the first path segment after `/functions/v1/`. */
  slug: string;
  /** Whether the function is served at all. */
  enabled: boolean;
  /** Whether a valid JWT is required to call it. */
  verifyJwt: boolean;
  /** The absolute URL of the module to import. */
  entrypoint: URL;
}

/** The shape every function module's default export has. */
interface FunctionHandler {
  fetch(req: Request): Response | Promise<Response>;
}

interface LoadedFunction {
  config: FunctionConfig;
  handler: FunctionHandler;
}

/**
 * Reads the `[functions.*]` tables of a Supabase config.toml. Throws when the
 * file is not valid TOML or a table has a key of the wrong type.
 */
export async function loadFunctionConfigs(configUrl: URL): Promise<FunctionConfig[]> {
  const document = parseToml(await Deno.readTextFile(configUrl)) as Record<string, unknown>;
  const functions = document.functions ?? {};
  if (typeof functions !== "object" || functions === null || Array.isArray(functions)) {
    throw new Error(`${configUrl.pathname}: [functions] must be a table`);
  }
  const configs: FunctionConfig[] = [];
  for (const [slug, raw] of Object.entries(functions as Record<string, unknown>)) {
    const where = `${configUrl.pathname}: [functions.${slug}]`;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw new Error(`${where} must be a table`);
    }
    const table = raw as Record<string, unknown>;
    const enabled = table.enabled ?? true;
    const verifyJwt = table.verify_jwt ?? true;
    const entrypoint = table.entrypoint ?? `./functions/${slug}/index.ts`;
    if (typeof enabled !== "boolean") throw new Error(`${where} enabled must be a boolean`);
    if (typeof verifyJwt !== "boolean") throw new Error(`${where} verify_jwt must be a boolean`);
    if (typeof entrypoint !== "string") throw new Error(`${where} entrypoint must be a string`);
    configs.push({ slug, enabled, verifyJwt, entrypoint: new URL(entrypoint, configUrl) });
  }
  return configs;
}

function jsonResponse(status: number, body: unknown, headers: HeadersInit = {}): Response {
  const responseHeaders = new Headers(headers);
  responseHeaders.set("content-type", "application/json; charset=utf-8");
  return new Response(JSON.stringify(body), { status, headers: responseHeaders });
}

/** Returns the response to send when the JWT is missing or invalid, else null. */
async function checkJwt(req: Request, secret: Uint8Array): Promise<Response | null> {
  const header = req.headers.get("authorization");
  if (header === null || header.trim() === "") {
    return jsonResponse(401, { code: 401, message: "Missing authorization header" });
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (match === null) {
    return jsonResponse(401, { code: 401, message: "Invalid JWT" });
  }
  try {
    await jwtVerify(match[1], secret, { algorithms: ["HS256"] });
    return null;
  } catch {
    return jsonResponse(401, { code: 401, message: "Invalid JWT" });
  }
}

/**
 * Reads the whole body, refusing more than `MAX_BODY_BYTES` (by the declared
 * `Content-Length` or as streamed). Returns null when the body is too large.
 */
async function readBoundedBody(
  req: Request,
  body: ReadableStream<Uint8Array>,
): Promise<Uint8Array<ArrayBuffer> | null> {
  const declaredLength = req.headers.get("content-length");
  if (declaredLength !== null && Number(declaredLength) > MAX_BODY_BYTES) {
    await body.cancel().catch(() => {});
    return null;
  }
  const chunks: Uint8Array[] = [];
  let totalBytes = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    totalBytes += value.byteLength;
    if (totalBytes > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(totalBytes);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * The answer to a preflight: the allowed methods and the explicit list of
 * request headers, with `Access-Control-Allow-Origin` only for the admin
 * UI's origins (`ADMIN_UI_ORIGIN`), so any other page's preflight fails.
 */
function preflightResponse(req: Request): Response {
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

/**
 * Copies a response, adding `Access-Control-Allow-Origin` for an allowed
 * origin unless the function set its own; a response to any other origin
 * gets none, so that page cannot read it.
 */
function withCors(req: Request, response: Response): Response {
  if (response.headers.has("access-control-allow-origin")) return response;
  const cors = corsHeaders(req);
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(cors)) {
    if (name === "vary") headers.append("vary", value);
    else headers.set(name, value);
  }
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}

/** Routes one request to its function; everything but logging and CORS. */
async function dispatch(
  req: Request,
  functions: Map<string, LoadedFunction>,
  jwtSecret: Uint8Array,
  faultRate: number,
): Promise<Response> {
  const url = new URL(req.url);
  if (!url.pathname.startsWith(FUNCTIONS_PREFIX)) {
    return jsonResponse(404, { error: `not found: ${url.pathname}` });
  }
  const functionPath = url.pathname.slice(FUNCTIONS_PREFIX.length - 1); // "/<slug>[/…]"
  const slug = functionPath.split("/")[1];
  const target = functions.get(slug);
  if (target === undefined) {
    return jsonResponse(404, { error: `function not found: ${slug}` });
  }
  if (req.method === "OPTIONS") {
    return preflightResponse(req);
  }
  if (target.config.verifyJwt) {
    const denied = await checkJwt(req, jwtSecret);
    if (denied !== null) return denied;
  }

  // The body is buffered (at most 1 MiB) so an oversized one is refused
  // before the function sees any of it.
  let body: Uint8Array<ArrayBuffer> | null = null;
  if (req.body !== null) {
    body = await readBoundedBody(req, req.body);
    if (body === null) {
      return jsonResponse(413, { error: `request body is larger than ${MAX_BODY_BYTES} bytes` });
    }
  }

  const forwardedUrl = new URL(url);
  forwardedUrl.pathname = functionPath;
  const headers = new Headers(req.headers);
  headers.delete("content-length");
  // Deno's Request refuses CONNECT, TRACE and TRACK; no function serves them.
  if (FORBIDDEN_METHODS.has(req.method.toUpperCase())) {
    return jsonResponse(405, { error: `method ${req.method} is not allowed` });
  }
  const forwarded = new Request(forwardedUrl, {
    method: req.method,
    headers,
    body,
  });
  const fault = drawFault(faultRate);
  if (fault === "before") return faultResponse(fault);
  try {
    const response = await target.handler.fetch(forwarded);
    if (fault === "after") {
      await response.body?.cancel().catch(() => {});
      return faultResponse(fault);
    }
    return response;
  } catch (error) {
    console.error(`function ${slug} threw:`, error);
    return jsonResponse(500, { error: `function ${slug} failed` });
  }
}

async function main(): Promise<void> {
  const missing = REQUIRED_ENV.filter((name) => !Deno.env.get(name));
  if (missing.length > 0) {
    console.error(`gateway: missing environment variables: ${missing.join(", ")}`);
    Deno.exit(1);
  }
  const port = Number(Deno.env.get("GATEWAY_PORT") ?? "54321");
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`gateway: GATEWAY_PORT must be a port number, got ${Deno.env.get("GATEWAY_PORT")}`);
    Deno.exit(1);
  }
  const configPath = Deno.env.get("GATEWAY_CONFIG");
  const configUrl = configPath === undefined
    ? new URL("../config.toml", import.meta.url)
    : new URL(configPath, `file://${Deno.cwd()}/`);
  const jwtSecret = new TextEncoder().encode(Deno.env.get("SUPABASE_JWT_SECRET"));
  let faultRate = 0;
  try {
    faultRate = parseFaultRate(Deno.env.get(FAULT_RATE_VARIABLE));
  } catch (error) {
    console.error(`gateway: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }

  const functions = new Map<string, LoadedFunction>();
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  const shutdown = new AbortController();

  let localAuth: LocalAuth | null = null;
  let boundPort = port;
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port,
    signal: shutdown.signal,
    onListen: () => {},
  }, async (req) => {
    await ready;
    const started = performance.now();
    // DNS rebinding: a page under another name that resolves to 127.0.0.1
    // sends its own name as Host. Only loopback names on this port pass.
    const response = !isLoopbackHost(requestHost(req), boundPort)
      ? misdirected()
      : localAuth !== null && isAuthPath(new URL(req.url).pathname)
      ? await localAuth.fetch(req)
      : withCors(req, await dispatch(req, functions, jwtSecret, faultRate));
    const elapsedMs = Math.round(performance.now() - started);
    console.log(`${req.method} ${new URL(req.url).pathname} ${response.status} ${elapsedMs}ms`);
    return response;
  });
  boundPort = server.addr.port;
  console.log(`gateway allows browser origins: ${allowedOrigins().join(", ") || "none"}`);
  if (!Deno.env.get("SUPABASE_URL")) {
    Deno.env.set("SUPABASE_URL", `http://127.0.0.1:${boundPort}`);
  }
  if (Deno.env.get("GATEWAY_LOCAL_AUTH") !== "off") {
    try {
      localAuth = createLocalAuthFromEnv();
    } catch (error) {
      console.error(`gateway: ${error instanceof Error ? error.message : error}`);
      Deno.exit(1);
    }
  }

  const stop = () => shutdown.abort();
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);

  try {
    for (const config of await loadFunctionConfigs(configUrl)) {
      if (!config.enabled) continue;
      const module = await import(config.entrypoint.href);
      const handler = module.default as Partial<FunctionHandler> | undefined;
      if (typeof handler?.fetch !== "function") {
        throw new Error(
          `${config.entrypoint.pathname} must export default { fetch(req: Request): Promise<Response> }`,
        );
      }
      functions.set(config.slug, { config, handler: handler as FunctionHandler });
    }
  } catch (error) {
    console.error("gateway: could not load the functions:", error);
    Deno.exit(1);
  }
  resolveReady();

  const slugs = [...functions.keys()].join(", ") || "none";
  console.log(`gateway serving functions: ${slugs}`);
  if (faultRate > 0) {
    console.log(
      `gateway injecting faults: ${faultRate * 100}% of function calls answer 503 (${FAULT_RATE_VARIABLE})`,
    );
  }
  console.log(`gateway listening on http://127.0.0.1:${boundPort}`);

  await server.finished;
  console.log("gateway stopped");
  // Function modules may hold database pools open; they must not keep the
  // process alive once the server has drained.
  Deno.exit(0);
}

if (import.meta.main) {
  await main();
}
