/**
 * Malformed bodies on every route of a running session daemon that takes
 * one (run by `scripts/security.sh`, which starts the daemon): truncated
 * JSON, a JSON value that is not an object, wrongly typed fields and bodies
 * over the limit get a 4xx whose `{"error"}` names what is wrong, and
 * nothing is stored. The Cloud API webhook is tried with valid signatures
 * over each bad body (so the body, not the signature, is what is judged)
 * and with bad signatures over a good one.
 *
 * Environment: `WABOT_SECURITY_DAEMON_URL`, `WABOT_DAEMON_TOKEN`,
 * `WABOT_CLOUD_APP_SECRET` (the daemon's), `WABOT_SECURITY_DB_URL`. The test
 * is ignored when the daemon URL is not set.
 */

/** Throws `message` unless `condition` holds. */
function ok(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

/** Throws unless `actual === expected`. */
function equal(actual: unknown, expected: unknown, message: string): void {
  ok(actual === expected, `${message} (got ${String(actual)}, expected ${String(expected)})`);
}

/** Throws unless `text` matches `pattern`. */
function match(text: string, pattern: RegExp, message: string): void {
  ok(pattern.test(text), `${message}: ${JSON.stringify(text)} does not match ${pattern}`);
}

const DAEMON_URL = Deno.env.get("WABOT_SECURITY_DAEMON_URL");
const DAEMON_TOKEN = Deno.env.get("WABOT_DAEMON_TOKEN") ?? "";
const APP_SECRET = Deno.env.get("WABOT_CLOUD_APP_SECRET") ?? "";
const DB_URL = Deno.env.get("WABOT_SECURITY_DB_URL") ??
  "postgresql://postgres:postgres@127.0.0.1:54322/postgres";

/** The daemon's request body limit (`MAXIMUM_REQUEST_BODY_BYTES`). */
const MAXIMUM_REQUEST_BODY_BYTES = 64 * 1024;
/** The Cloud webhook's body limit (`MAXIMUM_WEBHOOK_BODY_BYTES`). */
const MAXIMUM_WEBHOOK_BODY_BYTES = 4 * 1024 * 1024;

async function hmacHex(secret: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const signature = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body));
  return [...new Uint8Array(signature)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

interface Answer {
  status: number;
  error: string;
}

async function post(path: string, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${DAEMON_URL}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${DAEMON_TOKEN}`, "content-type": "application/json", ...headers },
    body,
  });
  const text = await response.text();
  let error = text;
  try {
    error = String((JSON.parse(text) as { error?: unknown }).error ?? text);
  } catch {
    // Not JSON: the text itself.
  }
  return { status: response.status, error };
}

/** Rows in the tables a daemon writes inbound traffic to (through psql). */
async function counts(): Promise<string> {
  const output = await new Deno.Command("psql", {
    args: [
      "-X",
      "-At",
      "-d",
      DB_URL,
      "-c",
      `select (select count(*) from public.messages), (select count(*) from public.contacts),
              (select count(*) from public.number_connection_events),
              (select count(*) from public.session_commands)`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
  return new TextDecoder().decode(output.stdout).trim();
}

Deno.test({
  name: "the daemon refuses malformed bodies with a clear 4xx and stores nothing",
  ignore: DAEMON_URL === undefined,
  async fn(t) {
    {
      const before = await counts();
      const phone = "+15550199999";
      const routes: Array<{ path: string; wrong: Array<[unknown, RegExp]> }> = [
        {
          path: "/simulator/inbound",
          wrong: [
            [{ to: 15550100001, from: "+15550109999", text: "hi" }, /to/],
            [{ to: "+15550100001", from: "+15550109999", text: 42 }, /text/],
            [{ to: "+15550100001", from: true, text: "hi" }, /from/],
            [{ to: "+15550100001", from: "+15550109999", text: "hi", message_id: 7 }, /message_id/],
            [{ to: "not a phone", from: "+15550109999", text: "hi" }, /to|E\.164/],
          ],
        },
        {
          path: `/simulator/numbers/${encodeURIComponent(phone)}/script`,
          wrong: [[{ reply_delay_ms: "slow" }, /reply_delay_ms|unknown field|expected/]],
        },
        {
          path: `/simulator/numbers/${encodeURIComponent(phone)}/events`,
          // serde names an enum's wrong type, not its field.
          wrong: [[{ kind: 3 }, /kind|variant/], [
            { kind: "temporary_ban", expires_in_ms: "soon" },
            /expires_in_ms|invalid type/,
          ]],
        },
        {
          path: `/simulator/numbers/${encodeURIComponent(phone)}/receipts`,
          wrong: [[{ wa_message_id: 1, status: "read" }, /wa_message_id/], [
            { wa_message_id: "x", status: "eaten" },
            /status/,
          ]],
        },
      ];

      for (const route of routes) {
        await t.step(route.path, async () => {
          const truncated = await post(route.path, '{"');
          equal(truncated.status, 400, `truncated: ${truncated.error}`);
          match(truncated.error, /JSON|EOF|parse/i, "truncated JSON is named");
          for (const notAnObject of ["[1, 2]", '"text"', "42"]) {
            const answer = await post(route.path, notAnObject);
            ok(
              answer.status >= 400 && answer.status < 500,
              `${notAnObject}: ${answer.status} ${answer.error}`,
            );
            ok(answer.error.length > 0, "the error says what is wrong");
          }
          for (const [body, message] of route.wrong) {
            const answer = await post(route.path, JSON.stringify(body));
            ok(answer.status === 400 || answer.status === 422, `${JSON.stringify(body)}: ${answer.status}`);
            match(answer.error, message, JSON.stringify(body));
          }
          const oversized = await post(
            route.path,
            JSON.stringify({ text: "x".repeat(MAXIMUM_REQUEST_BODY_BYTES) }),
          );
          equal(oversized.status, 413, `oversized: ${oversized.error}`);
          match(oversized.error, /too large/, "oversized");
        });
      }

      await t.step("/simulator/numbers/{phone}/pair and the session actions take no body", async () => {
        const pair = await post(`/simulator/numbers/${encodeURIComponent(phone)}/pair`, "{not json");
        ok(pair.status >= 400 && pair.status < 500, `pair: ${pair.status} ${pair.error}`);
        for (const action of ["start", "stop", "restart"]) {
          const answer = await post(`/numbers/${crypto.randomUUID()}/session/${action}`, "{not json");
          ok(answer.status >= 400 && answer.status < 500, `${action}: ${answer.status} ${answer.error}`);
          const badId = await post(`/numbers/not-a-uuid/session/${action}`, "{}");
          equal(badId.status, 400, `${action} with a bad id: ${badId.error}`);
        }
      });

      await t.step("/cloud/webhook: bad signatures are 401, bad bodies under good ones 400", async () => {
        ok(APP_SECRET !== "", "WABOT_CLOUD_APP_SECRET is set for the daemon under test");
        const good = JSON.stringify({ object: "whatsapp_business_account", entry: [] });
        const signed = async (body: string) => ({
          "x-hub-signature-256": `sha256=${await hmacHex(APP_SECRET, body)}`,
        });
        for (
          const [what, headers] of [
            ["no signature", {}],
            ["another secret", { "x-hub-signature-256": `sha256=${await hmacHex("another-secret", good)}` }],
            ["not hex", { "x-hub-signature-256": "sha256=zz" }],
            ["no prefix", { "x-hub-signature-256": await hmacHex(APP_SECRET, good) }],
            ["truncated", {
              "x-hub-signature-256": `sha256=${(await hmacHex(APP_SECRET, good)).slice(0, 40)}`,
            }],
          ] as Array<[string, Record<string, string>]>
        ) {
          const answer = await post("/cloud/webhook", good, headers);
          equal(answer.status, 401, `${what}: ${answer.error}`);
        }
        for (
          const [body, message] of [
            ['{"object": "whatsapp_business_acc', /JSON|EOF|parse/i],
            ["[1, 2]", /object|expected/],
            [JSON.stringify({ object: 5, entry: [] }), /object/],
            [
              JSON.stringify({ object: "whatsapp_business_account", entry: "none" }),
              /entry|sequence|expected/,
            ],
          ] as Array<[string, RegExp]>
        ) {
          const answer = await post("/cloud/webhook", body, await signed(body));
          equal(answer.status, 400, `${body}: ${answer.error}`);
          match(answer.error, message, body);
        }
        const huge = JSON.stringify({
          object: "whatsapp_business_account",
          entry: [],
          pad: "x".repeat(MAXIMUM_WEBHOOK_BODY_BYTES),
        });
        const tooLarge = await post("/cloud/webhook", huge, await signed(huge));
        equal(tooLarge.status, 413, `oversized webhook: ${tooLarge.error}`);
        const accepted = await post("/cloud/webhook", good, await signed(good));
        equal(accepted.status, 200, `a good, signed, empty notification is taken: ${accepted.error}`);
      });

      await t.step("nothing was stored", async () => {
        equal(await counts(), before, "row counts");
      });
    }
  },
});
