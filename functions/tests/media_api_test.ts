/**
 * Media through the admin API, end to end: the real gateway and function,
 * the real local Postgres and a real S3 server (moto's, or the stack's).
 *
 * Uploads are checked per kind against WhatsApp's limits and stored with
 * their SHA-256 (the bytes in the bucket are compared); oversized and
 * mistyped files are refused naming the field, with nothing stored; the
 * proxy streams the bytes to members only; agents send media by storage key
 * or by URL (fetched through the outbound guard and stored), buttons and
 * quoted replies, each bad field named by its JSON path.
 */

import { deepStrictEqual, equal, match, ok } from "node:assert/strict";

import {
  call,
  type CallResult,
  connectDb,
  createUsers,
  Fixtures,
  type Gateway,
  readObject,
  type S3Server,
  startGateway,
  startS3Server,
  startTestServer,
  TINY_PNG,
} from "./helpers.ts";

/** The keys under uploads/ in the bucket (S3 ListObjectsV2, signed like the functions sign). */
async function uploadKeys(env: Record<string, string>): Promise<string[]> {
  const { AwsClient } = await import("npm:aws4fetch@1.0.20");
  const client = new AwsClient({
    accessKeyId: env.WABOT_MEDIA_S3_ACCESS_KEY_ID,
    secretAccessKey: env.WABOT_MEDIA_S3_SECRET_ACCESS_KEY,
    service: "s3",
    region: env.WABOT_MEDIA_S3_REGION ?? "us-east-1",
  });
  const bucket = env.WABOT_MEDIA_S3_BUCKET ?? "wabot-media";
  const response = await client.fetch(
    `${env.WABOT_MEDIA_S3_ENDPOINT}/${bucket}?list-type=2&prefix=uploads/&max-keys=1000`,
  );
  const xml = await response.text();
  equal(response.status, 200, xml);
  return [...xml.matchAll(/<Key>([^<]+)<\/Key>/g)].map((match) => match[1]).sort();
}

function errorOf(
  result: CallResult,
): { code: string; message: string; details: Record<string, unknown> | null } {
  return (result.json as {
    error: { code: string; message: string; details: Record<string, unknown> | null };
  })
    .error;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  return [...digest].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** A RIFF/WEBP header followed by `size` bytes in all: a sticker's signature. */
function webpOfSize(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.set(new TextEncoder().encode("RIFF"), 0);
  bytes.set(new TextEncoder().encode("WEBPVP8 "), 8);
  return bytes;
}

Deno.test("media API: uploads, the proxy and agent sends of every kind", async (t) => {
  const { db, error: dbError } = await connectDb();
  await t.step("the local database is reachable", () => ok(db !== null, String(dbError)));
  if (db === null) return;
  const fixtures = new Fixtures(db);
  let gateway: Gateway | null = null;
  let s3: S3Server | null = null;
  const servers: Array<{ close(): Promise<void> }> = [];
  try {
    s3 = await startS3Server();
    const users = await createUsers(db);
    gateway = await startGateway({ env: s3.env });
    const url = (path: string) => gateway!.functionUrl(`admin-api${path}`);
    const as = (
      who: keyof typeof users | null,
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => call(url(path), { method, token: who === null ? undefined : users[who].token, body, headers });
    const uploadsBy = async (userId: string) =>
      Number(
        (await db`select count(*)::int as n from public.media_objects where created_by = ${userId}`)[0].n,
      );

    let uploaded: Record<string, unknown> = {};
    await t.step(
      "an operator uploads a PNG: stored with its hash, the bytes in the bucket match",
      async () => {
        const result = await as("operator", "POST", "/media?filename=dot.png", TINY_PNG, {
          "content-type": "image/png",
        });
        equal(result.status, 201, result.text);
        uploaded = result.json as Record<string, unknown>;
        match(String(uploaded.storage_key), /^uploads\/[0-9a-f-]{36}$/);
        deepStrictEqual(
          { ...uploaded, storage_key: "" },
          {
            kind: "image",
            storage_key: "",
            mime_type: "image/png",
            size_bytes: TINY_PNG.byteLength,
            sha256: await sha256(TINY_PNG),
            filename: "dot.png",
          },
        );
        const stored = await readObject(s3!.env, String(uploaded.storage_key));
        deepStrictEqual(stored, TINY_PNG, "the bucket holds the uploaded bytes");
        const [row] = await db`
        select kind, mime_type, size_bytes::int, sha256, source, created_by from public.media_objects
        where storage_key = ${String(uploaded.storage_key)}`;
        deepStrictEqual({ ...row }, {
          kind: "image",
          mime_type: "image/png",
          size_bytes: TINY_PNG.byteLength,
          sha256: await sha256(TINY_PNG),
          source: "upload",
          created_by: users.operator.id,
        });
      },
    );

    await t.step("oversized and mistyped files are refused naming the field; nothing is stored", async () => {
      const before = await uploadsBy(users.operator.id);
      // A sticker over WhatsApp's 500 KiB (the gateway passes up to 1 MiB).
      const big = await as("operator", "POST", "/media", webpOfSize(600 * 1024), {
        "content-type": "image/webp",
      });
      equal(big.status, 413, big.text);
      equal(errorOf(big).code, "payload_too_large");
      equal(errorOf(big).details?.field, "body");
      equal(errorOf(big).details?.max_bytes, 500 * 1024);
      // A type WhatsApp takes as no kind.
      const exe = await as("operator", "POST", "/media", new Uint8Array([0x4d, 0x5a, 0, 0]), {
        "content-type": "application/x-msdownload",
      });
      equal(exe.status, 415, exe.text);
      equal(errorOf(exe).code, "unsupported_media_type");
      equal(errorOf(exe).details?.field, "content-type");
      // A type the asked kind does not take.
      const pngAsSticker = await as("operator", "POST", "/media?kind=sticker", TINY_PNG, {
        "content-type": "image/png",
      });
      equal(pngAsSticker.status, 415, pngAsSticker.text);
      match(errorOf(pngAsSticker).message, /image\/png as a sticker; use image\/webp/);
      // Bytes that are not what they claim to be.
      const disguised = await as(
        "operator",
        "POST",
        "/media",
        new Uint8Array([0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0]),
        {
          "content-type": "image/png",
        },
      );
      equal(disguised.status, 415, disguised.text);
      equal(errorOf(disguised).details?.field, "content-type");
      equal(errorOf(disguised).details?.detected, "application/x-msdownload");
      // Bad parameters.
      const badKind = await as("operator", "POST", "/media?kind=hologram", TINY_PNG, {
        "content-type": "image/png",
      });
      equal(badKind.status, 400, badKind.text);
      equal(errorOf(badKind).details?.field, "kind");
      const badName = await as("operator", "POST", "/media?filename=..%2Fetc%2Fpasswd", TINY_PNG, {
        "content-type": "image/png",
      });
      equal(badName.status, 400, badName.text);
      equal(errorOf(badName).details?.field, "filename");
      equal(await uploadsBy(users.operator.id), before, "no media_objects row was written");
    });

    await t.step("a viewer cannot upload; anon and outsiders cannot read", async () => {
      const viewerUpload = await as("viewer", "POST", "/media", TINY_PNG, { "content-type": "image/png" });
      equal(viewerUpload.status, 403, viewerUpload.text);
      const key = encodeURIComponent(String(uploaded.storage_key));
      const anon = await as(null, "GET", `/media/${key}`);
      equal(anon.status, 401, anon.text);
      const outsider = await as("outsider", "GET", `/media/${key}`);
      equal(outsider.status, 403, outsider.text);
    });

    await t.step("the proxy streams the bytes to a viewer, privately, with their type", async () => {
      const response = await fetch(url(`/media/${encodeURIComponent(String(uploaded.storage_key))}`), {
        headers: { authorization: `Bearer ${users.viewer.token}` },
      });
      const bytes = new Uint8Array(await response.arrayBuffer());
      equal(response.status, 200);
      deepStrictEqual(bytes, TINY_PNG);
      equal(response.headers.get("content-type"), "image/png");
      match(response.headers.get("cache-control") ?? "", /^private/);
      match(response.headers.get("content-disposition") ?? "", /^inline; filename="dot.png"/);
      equal(response.headers.get("x-content-type-options"), "nosniff");
      const part = await fetch(url(`/media/${encodeURIComponent(String(uploaded.storage_key))}`), {
        headers: { authorization: `Bearer ${users.viewer.token}`, range: "bytes=0-7" },
      });
      equal(part.status, 206);
      deepStrictEqual(new Uint8Array(await part.arrayBuffer()), TINY_PNG.subarray(0, 8));
      const unknown = await as(
        "viewer",
        "GET",
        `/media/${encodeURIComponent("uploads/" + crypto.randomUUID())}`,
      );
      equal(unknown.status, 404, unknown.text);
      const badEncoding = await as("viewer", "GET", "/media/%E0%A4%A");
      equal(badEncoding.status, 400, badEncoding.text);
    });

    // A conversation taken over by the operator, on a simulator number.
    const numberId = await fixtures.number(null);
    const contact = `1555${Math.floor(Math.random() * 1e7).toString().padStart(7, "0")}`;
    const inbound = await fixtures.inbound(numberId, "hello", { waId: contact, name: "Grace" });
    await db`update public.messages set wa_message_id = 'wamid.QUOTED' where id = ${inbound.messageId}`;
    const [conversation] = await db`
      insert into public.conversations (number_id, contact_wa_id, mode) values (${numberId}, ${contact}, 'human')
      returning id`;
    await db`update public.messages set conversation_id = ${conversation.id} where id = ${inbound.messageId}`;
    const send = (body: unknown) =>
      as("operator", "POST", `/conversations/${conversation.id}/messages`, body);
    const outboundCount = async () =>
      Number(
        (await db`select count(*)::int as n from public.messages
                  where conversation_id = ${conversation.id} and direction = 'outbound'`)[0].n,
      );

    await t.step("an agent sends the uploaded image by storage key, quoting the contact", async () => {
      const result = await send({
        content: { kind: "image", storage_key: uploaded.storage_key, caption: "Your order" },
        reply_to: inbound.messageId,
      });
      equal(result.status, 201, result.text);
      const message = result.json as Record<string, unknown>;
      equal(message.type, "image");
      equal(message.body, "Your order");
      equal(message.context_wa_message_id, "wamid.QUOTED");
      deepStrictEqual(message.content, {
        kind: "image",
        storage_key: uploaded.storage_key,
        caption: "Your order",
        mime_type: "image/png",
        size_bytes: TINY_PNG.byteLength,
        sha256: await sha256(TINY_PNG),
        filename: "dot.png",
      });
      const media = await fetch(url(`/messages/${message.id}/media`), {
        headers: { authorization: `Bearer ${users.viewer.token}` },
      });
      equal(media.status, 200);
      deepStrictEqual(new Uint8Array(await media.arrayBuffer()), TINY_PNG);
    });

    await t.step("an agent sends a document by URL: fetched, checked and stored in the bucket", async () => {
      const pdf = new TextEncoder().encode("%PDF-1.4\n% a tiny test document\n%%EOF\n");
      const server = startTestServer(() =>
        new Response(pdf, { headers: { "content-type": "application/pdf" } })
      );
      servers.push(server);
      const result = await send({
        content: { kind: "document", url: `${server.url}/invoice.pdf`, filename: "invoice.pdf" },
      });
      equal(result.status, 201, result.text);
      const content = (result.json as { content: Record<string, unknown> }).content;
      equal(content.url, undefined, "the daemon reads the bucket, not the URL");
      match(String(content.storage_key), /^uploads\//);
      equal(content.sha256, await sha256(pdf));
      deepStrictEqual(await readObject(s3!.env, String(content.storage_key)), pdf);
    });

    await t.step("bad content is refused with its JSON path, and nothing is queued", async () => {
      const before = await outboundCount();
      const cases: Array<[unknown, number, string]> = [
        [
          {
            kind: "buttons",
            text: "Pick one",
            buttons: [{ id: "a", title: "Fine" }, { id: "b", title: "This title is far too long" }],
          },
          422,
          "content.buttons[1].title",
        ],
        [{ kind: "text", text: "x".repeat(4097) }, 422, "content.text"],
        [{ kind: "image", storage_key: "uploads/" + crypto.randomUUID() }, 422, "content.storage_key"],
        [{ kind: "image", url: "http://169.254.169.254/latest/meta-data" }, 422, "content.url"],
        [{ kind: "location", latitude: 91, longitude: 0 }, 422, "content.latitude"],
        [{ kind: "button_reply", id: "1", title: "One" }, 422, "content.kind"],
        [{ kind: "image", url: "ftp://example.com/x.png" }, 422, "content.url"],
        ["just text", 400, "content"],
      ];
      for (const [content, status, field] of cases) {
        const result = await send({ content });
        equal(result.status, status, `${JSON.stringify(content).slice(0, 80)}: ${result.text}`);
        equal(errorOf(result).details?.field, field, result.text);
      }
      const badReply = await send({ body: "hi", reply_to: crypto.randomUUID() });
      equal(badReply.status, 422, badReply.text);
      equal(errorOf(badReply).details?.field, "reply_to");
      equal(await outboundCount(), before, "no message was queued");
    });

    await t.step(
      "a template's header image by storage key must be stored, and is filled from its row",
      async () => {
        const template = (storageKey: unknown) => ({
          kind: "template",
          name: "order_photo",
          language: "en",
          components: [{
            type: "header",
            parameters: [{ type: "image", media: { storage_key: storageKey } }],
          }],
        });
        const missing = await send({ content: template("uploads/" + crypto.randomUUID()) });
        equal(missing.status, 422, missing.text);
        equal(errorOf(missing).details?.field, "content.components[0].parameters[0].media.storage_key");
        const sent = await send({ content: template(uploaded.storage_key) });
        equal(sent.status, 201, sent.text);
        const media =
          (sent.json as { content: { components: Array<{ parameters: Array<{ media: unknown }> }> } })
            .content.components[0].parameters[0].media;
        deepStrictEqual(media, {
          storage_key: uploaded.storage_key,
          mime_type: "image/png",
          size_bytes: TINY_PNG.byteLength,
          sha256: await sha256(TINY_PNG),
        });
      },
    );

    await t.step("a file fetched for a message that cannot be written is deleted again", async () => {
      // A quoted id longer than the column allows fails the insert itself.
      const [quoted] = await db`
        insert into public.messages (number_id, conversation_id, direction, contact_wa_id, wa_message_id, body, status)
        values (${numberId}, ${conversation.id}, 'inbound', ${contact}, ${
        "wamid." + "x".repeat(300)
      }, 'long id',
                'received')
        returning id`;
      const objectsBefore = await uploadKeys(s3!.env);
      const rowsBefore = await uploadsBy(users.operator.id);
      const pdf = new TextEncoder().encode("%PDF-1.4\n%%EOF\n");
      const server = startTestServer(() =>
        new Response(pdf, { headers: { "content-type": "application/pdf" } })
      );
      servers.push(server);
      const result = await send({
        content: { kind: "document", url: `${server.url}/x.pdf` },
        reply_to: quoted.id,
      });
      equal(result.status, 400, result.text);
      equal(await uploadsBy(users.operator.id), rowsBefore, "no media_objects row");
      deepStrictEqual(await uploadKeys(s3!.env), objectsBefore, "no object left in the bucket");
    });

    await t.step("buttons, a location and the old text body still queue", async () => {
      for (
        const content of [
          {
            kind: "buttons",
            text: "Pick one",
            buttons: [{ id: "yes", title: "Yes" }, { id: "no", title: "No" }],
          },
          { kind: "location", latitude: 52.52, longitude: 13.405, name: "Shop" },
        ]
      ) {
        const result = await send({ content });
        equal(result.status, 201, result.text);
        deepStrictEqual((result.json as { content: unknown }).content, content);
      }
      const old = await send({ body: "plain words" });
      equal(old.status, 201, old.text);
      deepStrictEqual((old.json as { content: unknown }).content, { kind: "text", text: "plain words" });
    });
  } finally {
    await gateway?.stop();
    for (const server of servers) await server.close();
    await fixtures.cleanUp();
    await s3?.stop();
    await db.end({ timeout: 5 });
  }
});
