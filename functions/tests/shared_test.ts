/**
 * Unit tests of `functions/_shared`: the HTTP helpers, the JWT claim helpers
 * and the database role helpers (the last against the real local Postgres).
 */

import { deepStrictEqual, equal, match, ok, rejects } from "node:assert/strict";

import { bearerToken, readClaims, requireServiceRole } from "../_shared/auth.ts";
import { errorResponse, HttpError, json, readJson } from "../_shared/http.ts";
import { connectDb, DB_URL, mintJwt } from "./helpers.ts";

function post(body: BodyInit | null, headers: Record<string, string> = {}): Request {
  return new Request("http://localhost/x", { method: "POST", body, headers });
}

async function rejectsWithStatus(promise: Promise<unknown>, status: number, pattern: RegExp): Promise<void> {
  await rejects(promise, (error: unknown) => {
    ok(error instanceof HttpError, `expected an HttpError, got ${error}`);
    equal(error.status, status);
    match(error.message, pattern);
    return true;
  });
}

Deno.test("json() sets the status and a JSON content type", async () => {
  const response = json(201, { a: 1 });
  equal(response.status, 201);
  match(response.headers.get("content-type") ?? "", /^application\/json/);
  deepStrictEqual(await response.json(), { a: 1 });
});

Deno.test("readJson() parses a JSON body", async () => {
  deepStrictEqual(await readJson(post('{"message_id":"x"}'), 100), { message_id: "x" });
});

Deno.test("readJson() answers 413 for a body over the limit, declared or streamed", async () => {
  await rejectsWithStatus(readJson(post("x".repeat(101)), 100), 413, /larger than 100 bytes/);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array(60));
      controller.enqueue(new Uint8Array(60));
      controller.close();
    },
  });
  await rejectsWithStatus(readJson(post(stream), 100), 413, /larger than 100 bytes/);
});

Deno.test("readJson() answers 400 for an empty, non-UTF-8 or non-JSON body", async () => {
  await rejectsWithStatus(readJson(post(null), 100), 400, /empty/);
  await rejectsWithStatus(readJson(post(""), 100), 400, /empty/);
  await rejectsWithStatus(readJson(post(new Uint8Array([0xff, 0xfe])), 100), 400, /UTF-8/);
  await rejectsWithStatus(readJson(post("{nope"), 100), 400, /not valid JSON/);
});

Deno.test("errorResponse() hides unexpected errors behind a 500", async () => {
  const known = errorResponse(new HttpError(404, "gone"));
  equal(known.status, 404);
  deepStrictEqual(await known.json(), { error: "gone" });
  const originalError = console.error;
  console.error = () => {};
  try {
    const unknown = errorResponse(new Error("password=hunter2"));
    equal(unknown.status, 500);
    deepStrictEqual(await unknown.json(), { error: "internal error" });
  } finally {
    console.error = originalError;
  }
});

Deno.test("the auth helpers read the bearer JWT's role", async () => {
  const withToken = (token: string | null) =>
    new Request("http://localhost/x", {
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });
  const serviceRole = await mintJwt("service_role");
  equal(bearerToken(withToken(serviceRole)), serviceRole);
  equal(readClaims(withToken(serviceRole))?.role, "service_role");
  equal(requireServiceRole(withToken(serviceRole)), null);
  equal(requireServiceRole(withToken(await mintJwt("anon")))?.status, 403);
  equal(requireServiceRole(withToken(await mintJwt("authenticated")))?.status, 403);
  equal(requireServiceRole(withToken(null))?.status, 401);
  equal(requireServiceRole(withToken("garbage"))?.status, 401);
});

Deno.test("withServiceRole and withUser run as the API roles", async (t) => {
  const { db, error } = await connectDb();
  await db?.end({ timeout: 5 });
  await t.step("the local database is reachable", () => {
    ok(db !== null, String(error));
  });
  if (db === null) return;

  // db.ts reads its URL when it loads, as the functions do.
  Deno.env.set("SUPABASE_DB_URL", DB_URL);
  const { sql, withServiceRole, withUser } = await import("../_shared/db.ts");
  try {
    await t.step("withServiceRole runs as service_role", async () => {
      const role = await withServiceRole(async (tx) => (await tx`select current_user as role`)[0].role);
      equal(role, "service_role");
    });

    await t.step("withUser runs as authenticated with the claims visible to auth.*", async () => {
      const sub = crypto.randomUUID();
      const seen = await withUser({ role: "authenticated", sub }, async (tx) => {
        const [row] =
          await tx`select current_user as role, auth.uid()::text as uid, auth.role() as claim_role`;
        return row;
      });
      deepStrictEqual({ ...seen }, { role: "authenticated", uid: sub, claim_role: "authenticated" });
    });

    await t.step("withUser as anon is refused tables the migration does not grant", async () => {
      await rejects(
        withUser({ role: "anon" }, (tx) => tx`select count(*) from public.bots`),
        /permission denied/,
      );
    });

    await t.step("withUser refuses service-role claims", async () => {
      await rejects(withUser({ role: "service_role" }, (tx) => tx`select 1`), /authenticated or anon/);
    });

    await t.step("the role does not outlive the transaction", async () => {
      const [row] = await sql`select current_user as role`;
      equal(row.role, new URL(DB_URL).username);
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
});
