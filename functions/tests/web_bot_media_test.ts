/**
 * A bot's media named by URL on a WhatsApp Web number (which uploads bytes
 * itself, and whose daemon reads only the bucket): route-message fetches
 * the file once per version through the outbound-URL guard, stores it in
 * the real media bucket (moto's S3 server, or the stack's) and names the
 * copy on the reply; later replies reuse it; a URL that cannot be used
 * leaves the reply with `storage_error`. On a Cloud API number the URL is
 * left for Meta to fetch.
 */

import { equal, ok } from "node:assert/strict";

import { mediaConfig, MediaStore } from "../_shared/media.ts";
import {
  call,
  connectDb,
  Fixtures,
  type Gateway,
  mintJwt,
  type S3Server,
  startGateway,
  startS3Server,
  startTestServer,
} from "./helpers.ts";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Array(500).fill(7)]);

Deno.test("route-message: a bot's media by URL on WhatsApp Web goes out from the bucket", async (t) => {
  const { db, error: dbError } = await connectDb();
  await t.step("the local database is reachable", () => ok(db !== null, String(dbError)));
  if (db === null) return;
  const fixtures = new Fixtures(db);
  let gateway: Gateway | null = null;
  let s3: S3Server | null = null;
  const files = startTestServer((request) =>
    request.path === "/logo.png"
      ? new Response(PNG, { headers: { "content-type": "image/png" } })
      : new Response("gone", { status: 404 })
  );
  try {
    s3 = await startS3Server();
    gateway = await startGateway({ env: s3.env });
    const token = await mintJwt("service_role");
    const url = gateway.functionUrl("route-message");
    const botId = await fixtures.bot("web media bot");
    const versionId = await fixtures.botVersion(botId, 1, {
      format: 1,
      name: "web media",
      triggers: [
        { match: "exact", value: "logo", start: "logo" },
        { match: "exact", value: "broken", start: "broken" },
      ],
      nodes: [
        {
          type: "message",
          id: "logo",
          media: { kind: "image", url: `${files.url}/logo.png`, caption: "Our logo" },
        },
        { type: "message", id: "broken", media: { url: `${files.url}/missing.png`, mime_type: "image/png" } },
      ],
    });
    const webNumber = await fixtures.number(botId);
    await db`update public.numbers set transport = 'web' where id = ${webNumber}`;
    const cloudNumber = await fixtures.number(botId);
    await db`update public.numbers set transport = 'cloud' where id = ${cloudNumber}`;
    const route = async (numberId: string, text: string) => {
      const { messageId } = await fixtures.inbound(numberId, text, { waId: "15550109876", name: "Ada" });
      const routed = await call(url, { token, body: { message_id: messageId } });
      equal(routed.status, 200, routed.text);
      const [reply] = await db`select content from public.messages where in_reply_to = ${messageId}`;
      ok(reply !== undefined, `a reply to ${text}: ${routed.text}`);
      return reply.content as Record<string, unknown>;
    };

    await t.step("the first send fetches the file once and names the bucket copy", async () => {
      const content = await route(webNumber, "logo");
      equal(content.kind, "image");
      equal(content.caption, "Our logo");
      const key = String(content.storage_key);
      ok(key.startsWith(`bots/${botId}/`), key);
      equal(content.size_bytes, PNG.byteLength);
      const store = new MediaStore(mediaConfig((name) => s3!.env[name]));
      const object = await store.get(key);
      ok(object !== null, "the object is in the bucket");
      const bytes = new Uint8Array(await object!.arrayBuffer());
      equal(bytes.byteLength, PNG.byteLength);
      ok(bytes.every((byte, index) => byte === PNG[index]), "the bucket holds the file's bytes");
      const [row] = await db`
        select o.source from public.bot_version_media b join public.media_objects o using (storage_key)
        where b.bot_version_id = ${versionId}`;
      equal(row.source, "import");
    });

    await t.step("later sends reuse the copy", async () => {
      const before = files.requests.length;
      const content = await route(webNumber, "logo");
      ok(String(content.storage_key).startsWith(`bots/${botId}/`));
      equal(files.requests.length, before, "the URL is not fetched again");
    });

    await t.step("a URL that cannot be used is said on the reply", async () => {
      const content = await route(webNumber, "broken");
      equal(content.storage_key, undefined);
      ok(/answered 404/.test(String(content.storage_error)), String(content.storage_error));
    });

    await t.step("a Cloud API number sends the URL for Meta to fetch", async () => {
      const content = await route(cloudNumber, "logo");
      equal(content.url, `${files.url}/logo.png`);
      equal(content.storage_key, undefined);
    });
  } finally {
    await gateway?.stop();
    await s3?.stop();
    await files.close();
    await fixtures.cleanUp();
    await db.end();
  }
});
