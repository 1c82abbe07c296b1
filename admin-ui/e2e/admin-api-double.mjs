// TEST DOUBLE for the admin API routes of issue 13 that are not on main yet
// (other engineers build them in parallel). Installed with Playwright's
// page.route, it lets every request reach the real admin API first and only
// stands in where the real answer shows the route or field does not exist:
//
//   GET  /conversations/{id}/messages  rows without `content` get it (and
//        `wa_message_id`, `context_wa_message_id`) from the real Postgres row,
//        which has had the column since 20261204000100_message_content.sql;
//   GET  /conversations[/{id}]         without `window_open`, it is computed
//        from the real rows: the contact's last inbound message within 24 h;
//   GET  /messages/{id}/media          "no route": the bytes the test stored
//        for the row's `content.storage_key` (the bearer token is required);
//   POST /media                        "no route": keeps the bytes, answers
//        {storage_key, mime_type, size_bytes, sha256, filename};
//   POST /conversations/{id}/messages  `content` refused as an unknown field:
//        checks the 24-hour window, then inserts the queued row into the real
//        Postgres as the route will (content, author, reply's quoted id);
//   GET  /numbers/{id}/templates       "no route": the templates given.
//
// Once the real routes land, each real answer passes through untouched, and
// `double.used` (what was stood in for) is printed, so a run shows which
// parts were real.
import { createHash, randomUUID } from "node:crypto";

/** Installs the double on `page`. `psql(sql)` runs SQL on the test database. */
export async function installAdminApiDouble(page, { psql, templates = [] }) {
  const objects = new Map(); // storage_key -> { bytes, mimeType }
  const used = new Set();
  const noRoute = (status, text) => status === 404 && /no route/.test(text);
  const sqlText = (value) => (value === null || value === undefined ? "null" : `'${String(value).replaceAll("'", "''")}'`);
  const json = (value) => `$json$${JSON.stringify(value)}$json$::jsonb`;

  await page.route(/\/functions\/v1\/admin-api\//, async (route) => {
    const request = route.request();
    const url = new URL(request.url());
    const path = url.pathname.replace(/^.*\/functions\/v1\/admin-api/, "");
    const method = request.method();
    if (method === "OPTIONS") return route.fallback();
    const authorization = request.headers().authorization ?? "";
    const origin = request.headers().origin ?? "*";
    const cors = { "access-control-allow-origin": origin, vary: "Origin" };
    /** Answers in the double's name, with the CORS header the real API sends. */
    const answer = (status, body, headers = {}) =>
      route.fulfill({
        status,
        body: Buffer.isBuffer(body) || typeof body === "string" ? body : JSON.stringify(body),
        headers: { "content-type": "application/json", ...cors, ...headers },
      });

    // GET /messages/{id}/media
    let match = /^\/messages\/([0-9a-f-]{36})\/media$/.exec(path);
    if (method === "GET" && match) {
      const real = await route.fetch();
      const bytes = await real.body();
      if (!noRoute(real.status(), bytes.toString("utf8", 0, 200))) return route.fulfill({ response: real, body: bytes });
      used.add("GET /messages/{id}/media");
      if (!/^Bearer .+/.test(authorization)) return answer(401, { error: { code: "unauthorized", message: "no bearer token" } });
      const key = psql(`select content->>'storage_key' from public.messages where id = '${match[1]}'`);
      const object = objects.get(key);
      if (!object) return answer(404, { error: { code: "not_found", message: "media not found" } });
      return answer(200, object.bytes, { "content-type": object.mimeType });
    }

    // POST /media
    if (method === "POST" && path === "/media") {
      const real = await route.fetch();
      const text = await real.text();
      if (!noRoute(real.status(), text)) return route.fulfill({ response: real, body: text });
      used.add("POST /media");
      const bytes = request.postDataBuffer() ?? Buffer.alloc(0);
      const mimeType = (request.headers()["content-type"] ?? "application/octet-stream").split(";")[0].trim();
      const storageKey = `uploads/${randomUUID()}`;
      objects.set(storageKey, { bytes, mimeType });
      return answer(201, {
        storage_key: storageKey,
        mime_type: mimeType,
        size_bytes: bytes.length,
        sha256: createHash("sha256").update(bytes).digest("hex"),
        filename: url.searchParams.get("filename"),
      });
    }

    // GET /numbers/{id}/templates
    match = /^\/numbers\/([0-9a-f-]{36})\/templates$/.exec(path);
    if (method === "GET" && match) {
      const real = await route.fetch();
      const text = await real.text();
      if (!noRoute(real.status(), text)) return route.fulfill({ response: real, body: text });
      used.add("GET /numbers/{id}/templates");
      return answer(200, templates);
    }

    // GET /conversations/{id}/messages and POST (send with content)
    match = /^\/conversations\/([0-9a-f-]{36})\/messages$/.exec(path);
    if (match) {
      const conversationId = match[1];
      if (method === "GET") {
        const real = await route.fetch();
        const body = await real.json().catch(() => null);
        if (real.status() !== 200 || !Array.isArray(body?.data) || body.data.every((row) => "content" in row)) {
          return route.fulfill({ response: real, json: body });
        }
        used.add("GET /conversations/{id}/messages: content");
        const ids = body.data.map((row) => `'${row.id}'`).join(",");
        const rows = ids === ""
          ? []
          : JSON.parse(
            psql(`select coalesce(json_agg(json_build_object('id', id, 'content', content, 'wa_message_id', wa_message_id,
                    'context_wa_message_id', context_wa_message_id)), '[]') from public.messages where id in (${ids})`),
          );
        const byId = new Map(rows.map((row) => [row.id, row]));
        return route.fulfill({ response: real, json: { ...body, data: body.data.map((row) => ({ ...row, ...byId.get(row.id) })) } });
      }
      if (method === "POST") {
        const sent = request.postDataJSON();
        const real = await route.fetch();
        const text = await real.text();
        let realBody = null;
        try {
          realBody = JSON.parse(text);
        } catch {
          realBody = null;
        }
        const unknownFields = realBody?.error?.details?.unknown_fields ?? [];
        if (!(real.status() === 400 && unknownFields.includes("content"))) return route.fulfill({ response: real, body: text });
        used.add("POST /conversations/{id}/messages: content");
        const [conversation] = JSON.parse(psql(`select json_agg(c) from (
          select number_id, contact_wa_id, mode, assigned_to,
                 exists (select 1 from public.messages m where m.conversation_id = c.id and m.direction = 'inbound'
                         and m.created_at > now() - interval '24 hours') as window_open
            from public.conversations c where id = '${conversationId}') c`));
        const content = sent.content;
        if (content.kind !== "template" && !conversation.window_open) {
          return answer(422, {
            error: {
              code: "window_closed",
              message: "the 24-hour customer-service window is closed: send a template ($.content.kind = \"template\")",
              details: { field: "$.content" },
            },
          });
        }
        const author = JSON.parse(Buffer.from(authorization.split(".")[1] ?? "", "base64url").toString() || "{}").sub ?? null;
        const quoted = sent.reply_to
          ? psql(`select wa_message_id from public.messages where id = '${sent.reply_to}' and conversation_id = '${conversationId}'`)
          : "";
        const row = psql(`insert into public.messages
            (number_id, conversation_id, direction, contact_wa_id, content, payload, status, author_id, context_wa_message_id)
          values ('${conversation.number_id}', '${conversationId}', 'outbound', ${sqlText(conversation.contact_wa_id)}, ${json(content)},
                  '{}'::jsonb, 'queued', ${sqlText(author)}, ${quoted === "" ? "null" : sqlText(quoted)})
          returning row_to_json(messages)`);
        return answer(201, row);
      }
    }

    // GET /conversations/{id}: the window
    match = /^\/conversations\/([0-9a-f-]{36})$/.exec(path);
    if (method === "GET" && match) {
      const real = await route.fetch();
      const body = await real.json().catch(() => null);
      if (real.status() !== 200 || body === null || "window_open" in body) return route.fulfill({ response: real, json: body });
      used.add("GET /conversations/{id}: window_open");
      const [window] = JSON.parse(psql(`select json_agg(w) from (
        select max(created_at) + interval '24 hours' > now() as window_open, max(created_at) + interval '24 hours' as window_closes_at
          from public.messages where conversation_id = '${match[1]}' and direction = 'inbound') w`));
      return route.fulfill({ response: real, json: { ...body, window_open: window.window_open === true, window_closes_at: window.window_closes_at } });
    }

    // GET /conversations: the window of each listed conversation
    if (method === "GET" && path === "/conversations") {
      const real = await route.fetch();
      const body = await real.json().catch(() => null);
      if (real.status() !== 200 || !Array.isArray(body?.data) || body.data.every((row) => "window_open" in row)) {
        return route.fulfill({ response: real, json: body });
      }
      used.add("GET /conversations: window_open");
      const ids = body.data.map((row) => `'${row.id}'`).join(",");
      const windows = ids === "" ? [] : JSON.parse(psql(`select coalesce(json_agg(w), '[]') from (
        select c.id, coalesce(max(m.created_at) + interval '24 hours' > now(), false) as window_open,
               max(m.created_at) + interval '24 hours' as window_closes_at
          from public.conversations c left join public.messages m on m.conversation_id = c.id and m.direction = 'inbound'
         where c.id in (${ids}) group by c.id) w`));
      const byId = new Map(windows.map((row) => [row.id, row]));
      return route.fulfill({ response: real, json: { ...body, data: body.data.map((row) => ({ ...row, ...byId.get(row.id) })) } });
    }

    return route.fallback();
  });

  return {
    used,
    /** The bytes stored under `storageKey`, if any. */
    object(storageKey) {
      return objects.get(storageKey);
    },
  };
}
