/**
 * Who may talk to the local stack (issue 12, item 6): the gateway and the
 * auth stand-in share these checks, so a web page the developer happens to
 * open cannot drive the stack.
 *
 * - **CORS**: only the admin UI's origins (`ADMIN_UI_ORIGIN`,
 *   comma-separated, default `http://localhost:3000`) get
 *   `Access-Control-Allow-Origin`, and only their own origin back: never
 *   `*`, never an arbitrary `Origin`. Preflights allow an explicit list of
 *   request headers, never whatever is asked for.
 * - **Host**: a request whose `Host` is not loopback (`localhost`,
 *   `127.0.0.1`, `[::1]`) with the stack's own port is refused with 421.
 *   A DNS-rebinding page reaches 127.0.0.1 under its own name, so its
 *   requests carry that name as `Host` and are refused.
 *
 * @module
 */

/** The admin UI's default origin (`next dev`). */
export const DEFAULT_ADMIN_UI_ORIGIN = "http://localhost:3000";

/** The request headers a preflight may ask for: what supabase-js and the admin UI send. */
export const CORS_ALLOW_HEADERS =
  "authorization, x-client-info, apikey, content-type, x-supabase-api-version";

/** The origins allowed to call the stack from a browser, from `ADMIN_UI_ORIGIN`. */
export function allowedOrigins(value: string | undefined = Deno.env.get("ADMIN_UI_ORIGIN")): string[] {
  return (value ?? DEFAULT_ADMIN_UI_ORIGIN)
    .split(",").map((origin) => origin.trim().replace(/\/$/, "")).filter((origin) => origin !== "");
}

/**
 * The CORS headers for a response to `req`: `Access-Control-Allow-Origin`
 * with the request's origin when it is allowed, none otherwise; always
 * `Vary: Origin`.
 */
export function corsHeaders(req: Request, origins: string[] = allowedOrigins()): Record<string, string> {
  const origin = req.headers.get("origin");
  if (origin !== null && origins.includes(origin)) {
    return { "access-control-allow-origin": origin, vary: "Origin" };
  }
  return { vary: "Origin" };
}

/** The host names that are this machine. */
const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Whether a `Host` header names this machine on `port`: `localhost`,
 * `127.0.0.1` or `[::1]`, with `:port` (or without a port when `port` is
 * 80, HTTP's default).
 */
export function isLoopbackHost(host: string | null, port: number): boolean {
  if (host === null) return false;
  const match = /^(\[[0-9a-f:]+\]|[^:\[\]]+)(?::([0-9]{1,5}))?$/i.exec(host.trim().toLowerCase());
  if (match === null) return false;
  const name = match[1].replace(/\.$/, "");
  const hostPort = match[2] === undefined ? 80 : Number(match[2]);
  return LOOPBACK_NAMES.has(name) && hostPort === port;
}

/** The host a request was sent to: its `Host` header, or its URL's host when built without one. */
export function requestHost(req: Request): string {
  return req.headers.get("host") ?? new URL(req.url).host;
}

/** The 421 answer to a request whose `Host` is not loopback. */
export function misdirected(): Response {
  return new Response(
    JSON.stringify({
      error:
        "misdirected request: the local stack answers only Host localhost, 127.0.0.1 or [::1] on its port",
    }),
    { status: 421, headers: { "content-type": "application/json; charset=utf-8" } },
  );
}
