/**
 * Database access for the Edge Functions, over `npm:postgres`.
 *
 * One small pool per module instance (per isolate on hosted Supabase, per
 * process under the local gateway) connects to `DB_POOLER_URL` when it is
 * set, else to `SUPABASE_DB_URL`. Statements
 * are never prepared (`prepare: false`), so the same code works through
 * Supabase's transaction pooler on port 6543 as well as against a direct
 * connection.
 *
 * The connection logs in as `postgres`, which may act as every API role. All
 * work therefore goes through a transaction that first drops to a narrower
 * role, the way PostgREST does it, so row-level security and grants apply
 * exactly as they would to a PostgREST request:
 *
 * - {@link withServiceRole}: `set local role service_role` (bypasses RLS;
 *   only for functions that already checked the caller is the service role).
 * - {@link withUser}: `set local role authenticated` (or `anon`) and
 *   `request.jwt.claims` set to the caller's claims, so `auth.uid()` and
 *   `auth.jwt()` see the caller.
 *
 * `bigint` values (identity ids such as `audit_log_entries.id`, `count(*)`)
 * arrive as JavaScript numbers while they are safe integers (below 2^53),
 * so JSON answers carry them as the integers the OpenAPI document promises;
 * a larger value stays a string rather than lose precision.
 *
 * @module
 */

import postgres from "npm:postgres@3.4.5";

import type { SupabaseClaims } from "./auth.ts";

/** A transaction handle, as passed to the callbacks below. */
export type Tx = postgres.TransactionSql;

// DB_POOLER_URL, when set, is Supabase's transaction pooler (port 6543):
// the injected SUPABASE_DB_URL is a direct connection, and the SUPABASE_
// prefix is reserved, so the pooler gets a name of its own.
const databaseUrl = Deno.env.get("DB_POOLER_URL") || Deno.env.get("SUPABASE_DB_URL");
if (databaseUrl === undefined || databaseUrl === "") {
  throw new Error("SUPABASE_DB_URL is not set");
}

/**
 * The parser of `bigint` (oid 20) results: a number while it is a safe
 * integer, else the text Postgres sent (npm:postgres's default is always
 * the text).
 */
function bigintAsNumber() {
  return {
    to: 20,
    from: [20],
    serialize: (value: number | string | bigint) => String(value),
    parse: (text: string): number | string => {
      const value = Number(text);
      return Number.isSafeInteger(value) ? value : text;
    },
  };
}

/**
 * The module's connection pool. Prefer {@link withServiceRole} and
 * {@link withUser}; using `sql` directly runs as the login role.
 */
export const sql = postgres(databaseUrl, {
  // A few connections, so concurrent requests under the local gateway (one
  // process for every function) do not queue behind each other, while a
  // hosted isolate still holds very few pooler connections.
  max: 3,
  prepare: false,
  idle_timeout: 20,
  connect_timeout: 10,
  connection: { application_name: "edge-functions" },
  onnotice: () => {},
  types: { bigint: bigintAsNumber() },
});

/**
 * Runs `fn` in one transaction as `service_role`, committing when it
 * resolves and rolling back when it throws.
 */
export async function withServiceRole<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
  const result = await sql.begin(async (tx) => {
    await tx`set local role service_role`;
    return await fn(tx);
  });
  return result as T;
}

/**
 * Runs `fn` in one transaction as the user the claims describe: role
 * `authenticated` (or `anon` when the claims say so) with
 * `request.jwt.claims` set to the claims. Throws for claims of any other
 * role, so a service-role token never silently runs as a user or the reverse.
 */
export async function withUser<T>(claims: SupabaseClaims, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const role = claims.role;
  if (role !== "authenticated" && role !== "anon") {
    throw new Error(`withUser needs claims of role authenticated or anon, got ${role ?? "none"}`);
  }
  const result = await sql.begin(async (tx) => {
    // The role comes from the fixed list above, so it is safe to inline.
    await tx.unsafe(`set local role ${role}`);
    await tx`select set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`;
    return await fn(tx);
  });
  return result as T;
}
