/**
 * Message templates: the sync from the Graph API (a fake Graph API, a local
 * HTTP server answering Meta's documented JSON for
 * `GET /<waba_id>/message_templates`, with paging), the list, the refusals
 * (not a Cloud number, no waba_id, the Graph API's error, a paging link to
 * another origin), and the status update Meta's
 * `message_template_status_update` webhook applies. The real gateway,
 * function and local Postgres.
 */

import { deepStrictEqual, equal, match, ok } from "node:assert/strict";

import {
  call,
  type CallResult,
  connectDb,
  createUsers,
  Fixtures,
  type Gateway,
  randomPhoneNumber,
  startGateway,
} from "./helpers.ts";

const WABA_ID = "102290129340398";
const TOKEN = "EAAG-deno-test-token";

/** Meta's documented shape of a template in `message_templates`. */
const TEMPLATES = [
  {
    name: "order_update",
    language: "en_US",
    status: "APPROVED",
    category: "UTILITY",
    id: "594425479261596",
    components: [
      { type: "HEADER", format: "IMAGE", example: { header_handle: ["4::aW..."] } },
      {
        type: "BODY",
        text: "Hi {{1}}, your order {{2}} has shipped.",
        example: { body_text: [["Ada", "A-1"]] },
      },
      { type: "FOOTER", text: "Reply STOP to opt out" },
      {
        type: "BUTTONS",
        buttons: [
          { type: "QUICK_REPLY", text: "Thanks" },
          {
            type: "URL",
            text: "Track",
            url: "https://shop.example/track/{{1}}",
            example: ["https://shop.example/track/A-1"],
          },
        ],
      },
    ],
  },
  {
    name: "hello_world",
    language: "en_US",
    status: "APPROVED",
    category: "MARKETING",
    id: "1192339204654487",
    components: [{ type: "BODY", text: "Hello World" }],
  },
  {
    name: "winback",
    language: "pt_BR",
    status: "PENDING",
    category: "MARKETING",
    id: "778112233445566",
    components: [{ type: "BODY", text: "Olá {{nome}}!" }],
  },
];

function errorOf(result: CallResult): { code: string; message: string } {
  return (result.json as { error: { code: string; message: string } }).error;
}

Deno.test("templates: sync from the Graph API with paging, list, status updates", async (t) => {
  const { db, error: dbError } = await connectDb();
  await t.step("the local database is reachable", () => ok(db !== null, String(dbError)));
  if (db === null) return;
  const fixtures = new Fixtures(db);
  let gateway: Gateway | null = null;
  let graph: { close(): Promise<void> } | null = null;
  // What the fake Graph API lists now, and how it misbehaves.
  let listed = TEMPLATES;
  let mode: "ok" | "error" | "foreign-next" = "ok";
  try {
    // The fake Graph API: it sees the query string (paging by `after`).
    const requests: URL[] = [];
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
      const url = new URL(req.url);
      requests.push(url);
      if (req.headers.get("authorization") !== `Bearer ${TOKEN}`) {
        return Response.json({ error: { message: "Invalid OAuth access token.", code: 190 } }, {
          status: 401,
        });
      }
      if (mode === "error") {
        return Response.json({ error: { message: "(#100) Invalid parameter", code: 100 } }, { status: 400 });
      }
      if (url.pathname !== `/v21.0/${WABA_ID}/message_templates`) return new Response("no", { status: 404 });
      // Two per page, so three templates take two pages.
      const after = Number(url.searchParams.get("after") ?? "0");
      const page = listed.slice(after, after + 2);
      const more = after + 2 < listed.length;
      const next = mode === "foreign-next"
        ? "https://evil.example/steal"
        : `${url.origin}${url.pathname}?fields=${url.searchParams.get("fields")}&limit=100&after=${
          after + 2
        }`;
      return Response.json({
        data: page,
        paging: {
          cursors: { before: "MAZDZD", after: "MjQZD" },
          ...(more || mode === "foreign-next" ? { next } : {}),
        },
      });
    });
    const graphUrl = `http://127.0.0.1:${server.addr.port}/v21.0`;
    graph = { close: () => server.shutdown() };

    const users = await createUsers(db);
    gateway = await startGateway({ env: { WABOT_CLOUD_API_BASE_URL: graphUrl } });
    const url = (path: string) => gateway!.functionUrl(`admin-api${path}`);
    const [number] = await db`
      insert into public.numbers (phone_number, label, transport)
      values (${randomPhoneNumber()}, 'templates test', 'cloud') returning id`;
    fixtures.trackNumber(number.id);
    await db`
      insert into public.session_credentials (number_id, credentials)
      values (${number.id}, ${
      db.json({ phone_number_id: "106540352242922", access_token: TOKEN, waba_id: WABA_ID })
    })`;
    const sync = (who: keyof typeof users = "operator") =>
      call(url(`/numbers/${number.id}/templates/sync`), { method: "POST", token: users[who].token });

    await t.step("a sync reads every page and stores each template with its parameter spec", async () => {
      const result = await sync();
      equal(result.status, 200, result.text);
      const body = result.json as { synced: number; removed: number; data: Array<Record<string, unknown>> };
      equal(body.synced, 3);
      equal(body.removed, 0);
      equal(requests.length, 2, "two pages were read");
      equal(requests[0].searchParams.get("fields"), "name,language,status,category,components,id");
      equal(requests[0].searchParams.get("limit"), "100");
      equal(requests[1].searchParams.get("after"), "2", "the second request is paging.next");
      deepStrictEqual(body.data.map((row) => `${row.name}/${row.language}/${row.status}`), [
        "hello_world/en_US/APPROVED",
        "order_update/en_US/APPROVED",
        "winback/pt_BR/PENDING",
      ]);
      const order = body.data.find((row) => row.name === "order_update")!;
      equal(order.template_id, "594425479261596");
      equal(order.waba_id, WABA_ID);
      equal(order.category, "UTILITY");
      deepStrictEqual(order.components, TEMPLATES[0].components, "the components are kept as Meta sent them");
      deepStrictEqual(order.parameter_spec, [
        { type: "header", format: "image", parameters: 1, parameter_type: "image" },
        { type: "body", parameters: 2, parameter_type: "text" },
        { type: "button", sub_type: "url", index: 1, parameters: 1, parameter_type: "text" },
      ]);
      deepStrictEqual(body.data.find((row) => row.name === "winback")!.parameter_spec, [
        { type: "body", parameters: 1, parameter_type: "text" },
      ]);
    });

    await t.step("a viewer lists them, filtered by status", async () => {
      const result = await call(url(`/numbers/${number.id}/templates?status=APPROVED`), {
        token: users.viewer.token,
      });
      equal(result.status, 200, result.text);
      deepStrictEqual((result.json as { data: Array<{ name: string }> }).data.map((row) => row.name), [
        "hello_world",
        "order_update",
      ]);
      const outsider = await call(url(`/numbers/${number.id}/templates`), { token: users.outsider.token });
      equal(outsider.status, 403);
      const viewerSync = await sync("viewer");
      equal(viewerSync.status, 403, "a viewer may not sync");
    });

    await t.step("a template no longer listed is removed; a changed status is updated", async () => {
      listed = [TEMPLATES[0], { ...TEMPLATES[2], status: "REJECTED" }];
      const result = await sync();
      equal(result.status, 200, result.text);
      const body = result.json as { synced: number; removed: number; data: Array<Record<string, unknown>> };
      equal(body.synced, 2);
      equal(body.removed, 1);
      deepStrictEqual(body.data.map((row) => `${row.name}/${row.status}`), [
        "order_update/APPROVED",
        "winback/REJECTED",
      ]);
      listed = TEMPLATES;
    });

    await t.step(
      "the Graph API's refusal and a paging link off its origin are 502, nothing changed",
      async () => {
        const before =
          await db`select name, status from public.message_templates where number_id = ${number.id} order by name`;
        mode = "error";
        const refused = await sync();
        equal(refused.status, 502, refused.text);
        equal(errorOf(refused).code, "upstream_error");
        match(errorOf(refused).message, /Invalid parameter \(code 100\)/);
        mode = "foreign-next";
        const foreign = await sync();
        equal(foreign.status, 502, foreign.text);
        match(errorOf(foreign).message, /leaves the Graph API's origin/);
        ok(!requests.some((request) => request.hostname === "evil.example"), "the token never left");
        mode = "ok";
        const after =
          await db`select name, status from public.message_templates where number_id = ${number.id} order by name`;
        deepStrictEqual(after, before);
      },
    );

    await t.step("a number off the Cloud API, or without waba_id, is 409", async () => {
      const simulator = await fixtures.number(null);
      const result = await call(url(`/numbers/${simulator}/templates/sync`), {
        method: "POST",
        token: users.operator.token,
      });
      equal(result.status, 409, result.text);
      match(errorOf(result).message, /simulator transport/);
      await db`update public.session_credentials set credentials = credentials - 'waba_id' where number_id = ${number.id}`;
      const noWaba = await sync();
      equal(noWaba.status, 409, noWaba.text);
      match(errorOf(noWaba).message, /waba_id/);
      await db`update public.session_credentials
               set credentials = credentials || ${
        db.json({ waba_id: WABA_ID })
      } where number_id = ${number.id}`;
    });

    await t.step(
      "message_template_status_update (Meta's payload) updates the status of every copy",
      async () => {
        // Meta's documented webhook value, as the daemon's handler passes it on.
        const value = {
          event: "PAUSED",
          message_template_id: 594425479261596,
          message_template_name: "order_update",
          message_template_language: "en_US",
          reason: "Low quality",
        };
        const [{ changed }] = await db`
        select private.apply_template_status_update(${String(value.message_template_id)}, ${value.event},
                                                    ${value.reason}) as changed`;
        equal(changed, 1);
        const [row] = await db`
        select status, status_reason from public.message_templates
        where number_id = ${number.id} and name = 'order_update'`;
        deepStrictEqual({ ...row }, { status: "PAUSED", status_reason: "Low quality" });
      },
    );
  } finally {
    await gateway?.stop();
    await graph?.close();
    await fixtures.cleanUp();
    await db.end({ timeout: 5 });
  }
});
