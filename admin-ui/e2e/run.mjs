#!/usr/bin/env node
// End-to-end tests of the admin UI in Debian's Chromium (never a downloaded
// browser), driven by playwright-core, against a running stack: the Next.js
// production server, the functions gateway (admin API and local auth), the
// session daemon with the simulator transport, and Postgres.
//
// Environment (scripts/test.sh sets it; defaults suit a hand-started stack):
//   E2E_UI_URL              the admin UI                     (http://127.0.0.1:60300)
//   E2E_DAEMON_URL          the session daemon               (http://127.0.0.1:60380)
//   WABOT_DAEMON_TOKEN      the daemon's bearer token (simulator inbound)
//   E2E_DATABASE_URL        Postgres, for the alert fixture  (postgresql://postgres:postgres@127.0.0.1:60322/postgres)
//   E2E_EMAIL, E2E_PASSWORD the seeded local owner (supabase/seed.sql)
//   E2E_SCREENSHOTS         where screenshots go             (admin-ui/test-results/screenshots)
//   CHROMIUM                the browser                      (/usr/bin/chromium)
//
// Every page gets a screenshot and an axe-core check (no serious or
// critical violation). Prints one line per test and "N passed, N failed".
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { deflateSync } from "node:zlib";

const require = createRequire(import.meta.url);
const uiRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const UI = (process.env.E2E_UI_URL ?? "http://127.0.0.1:60300").replace(/\/$/, "");
const DAEMON = (process.env.E2E_DAEMON_URL ?? "http://127.0.0.1:60380").replace(/\/$/, "");
const DAEMON_TOKEN = process.env.WABOT_DAEMON_TOKEN ?? "";
const DATABASE_URL = process.env.E2E_DATABASE_URL ?? "postgresql://postgres:postgres@127.0.0.1:60322/postgres";
const EMAIL = process.env.E2E_EMAIL ?? "admin@wabot.local";
const PASSWORD = process.env.E2E_PASSWORD ?? "wabot-local-admin";
const SHOTS = process.env.E2E_SCREENSHOTS ?? join(uiRoot, "test-results", "screenshots");
const DEMO_NUMBER_ID = "00000000-0000-4000-8000-00000000a001";
const DEMO_NUMBER = "+15550100001";
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const RUN = Date.now().toString(36);

rmSync(SHOTS, { recursive: true, force: true });
mkdirSync(SHOTS, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-GB", timezoneId: "UTC" });
context.setDefaultTimeout(15000);
const page = await context.newPage();
const pageErrors = [];
const serverErrors = [];
page.on("pageerror", (error) => pageErrors.push(error.message));
page.on("response", (response) => {
  if (response.status() >= 500) serverErrors.push(`${response.status()} ${response.url()}`);
});
let adminApiBase = "";
page.on("request", (request) => {
  const match = /^(.*\/functions\/v1\/admin-api)\//.exec(request.url());
  if (match) adminApiBase = match[1];
});

// ---------------------------------------------------------------------------
// A tiny runner: tests run in order; a failure is reported and the run goes on.
// ---------------------------------------------------------------------------

const results = [];
const shots = [];
async function test(name, body) {
  const started = Date.now();
  const errorsBefore = pageErrors.length;
  try {
    await body();
    if (pageErrors.length > errorsBefore) {
      throw new Error(`uncaught error in the page: ${pageErrors.slice(errorsBefore).join(" | ")}`);
    }
    results.push({ name, ok: true });
    console.log(`ok    ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    results.push({ name, ok: false });
    console.log(`FAIL  ${name} (${Date.now() - started} ms)\n      ${String(error?.stack ?? error).split("\n").slice(0, 6).join("\n      ")}`);
    await page.screenshot({ path: join(SHOTS, `failure-${slug(name)}.png`), fullPage: true }).catch(() => {});
  }
}

function slug(text) {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 60);
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

async function screenshot(name, options = {}) {
  // Let pollers settle and fonts load so the picture shows the finished page.
  await page.evaluate(() => document.fonts.ready);
  if (options.fullPage ?? true) await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(300);
  const path = join(SHOTS, `${name}.png`);
  // Toasts are fixed to the viewport: in a full-page picture they would float over the middle.
  const fullPage = options.fullPage ?? true;
  await page.screenshot({ path, fullPage, style: fullPage ? ".ns-toast-regions { display: none; }" : undefined });
  shots.push(path);
}

/** Runs axe-core in the page; fails on serious or critical violations. */
async function axe(label) {
  // After a client-side navigation the new page's title may still be on its way.
  await page.waitForFunction(() => document.title !== "").catch(() => {});
  await page.addScriptTag({ content: AXE_SOURCE });
  const violations = await page.evaluate(async () => {
    const result = await globalThis.axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      targets: violation.nodes.slice(0, 5).map((node) => node.target.join(" ")),
    }));
  });
  const blocking = violations.filter((violation) => violation.impact === "serious" || violation.impact === "critical");
  const minor = violations.filter((violation) => !blocking.includes(violation));
  if (minor.length > 0) {
    console.log(`      axe (${label}), minor: ${minor.map((violation) => `${violation.id} [${violation.impact}]`).join(", ")}`);
  }
  assert(
    blocking.length === 0,
    `axe found serious or critical violations on ${label}:\n${
      blocking.map((violation) => `  ${violation.id} [${violation.impact}] ${violation.help}: ${violation.targets.join(", ")}`).join("\n")
    }`,
  );
}

async function visit(path) {
  await page.goto(`${UI}${path}`);
  await page.waitForLoadState("networkidle").catch(() => {});
}

/** Waits until no "Loading…" status is left on the page. */
async function settled() {
  await page.waitForFunction(() => ![...document.querySelectorAll('[role="status"]')].some((node) => /Loading|Checking/.test(node.textContent ?? "")));
}

async function toast(pattern) {
  await page.getByTestId("toast").filter({ hasText: pattern }).first().waitFor();
}

function psql(sql) {
  return execFileSync("psql", [DATABASE_URL, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql], { encoding: "utf8" }).trim();
}

/** A small RGB PNG (a diagonal stripe pattern), built here so no fixture file is needed. */
function pngBytes(width, height, [r, g, b]) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes) => {
    let c = 0xffffffff;
    for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([length, body, sum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      const stripe = ((x + y) >> 3) % 2 === 0;
      row.set(stripe ? [r, g, b] : [255, 251, 242], 1 + x * 3);
    }
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.concat(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** Half a second of a 440 Hz tone as 8 kHz mono WAV. */
function wavBytes() {
  const rate = 8000;
  const samples = rate / 2;
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) data.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), i * 2);
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "ascii");
  header.writeUInt32LE(36 + data.length, 4);
  header.write("WAVEfmt ", 8, "ascii");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36, "ascii");
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/** The Ogg page checksum: CRC-32 with polynomial 0x04c11db7, no reflection (RFC 3533). */
function oggCrc(bytes) {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 24;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? ((crc << 1) ^ 0x04c11db7) >>> 0 : (crc << 1) >>> 0;
  }
  return crc >>> 0;
}

/** One Ogg page holding whole packets (each under 255 bytes). */
function oggPage(packets, { granule, sequence, flags }) {
  const header = Buffer.alloc(27);
  header.write("OggS", 0, "ascii");
  header.writeUInt8(flags, 5);
  header.writeBigInt64LE(BigInt(granule), 6);
  header.writeUInt32LE(0x7761626f, 14);
  header.writeUInt32LE(sequence, 18);
  header.writeUInt8(packets.length, 26);
  const page = Buffer.concat([header, Buffer.from(packets.map((packet) => packet.length)), ...packets]);
  page.writeUInt32LE(oggCrc(page), 22);
  return page;
}

/**
 * A one-second Ogg Opus voice note (RFC 7845): the identification and
 * comment headers, then fifty 20 ms packets (a TOC byte each, CELT
 * full-band, mono: frames the decoder conceals as silence).
 */
function oggOpusBytes() {
  const head = Buffer.alloc(19);
  head.write("OpusHead", 0, "ascii");
  head.writeUInt8(1, 8);
  head.writeUInt8(1, 9);
  head.writeUInt16LE(312, 10);
  head.writeUInt32LE(48000, 12);
  const vendor = Buffer.from("wabot e2e");
  const tags = Buffer.alloc(8 + 4 + vendor.length + 4);
  tags.write("OpusTags", 0, "ascii");
  tags.writeUInt32LE(vendor.length, 8);
  vendor.copy(tags, 12);
  const audio = Array.from({ length: 50 }, () => Buffer.from([0xf8]));
  return Buffer.concat([
    oggPage([head], { granule: 0, sequence: 0, flags: 0x02 }),
    oggPage([tags], { granule: 0, sequence: 1, flags: 0 }),
    oggPage(audio, { granule: 312 + 48000, sequence: 2, flags: 0x04 }),
  ]);
}

/** An MP4 file's opening `ftyp` box (an upload's signature; not a playable video). */
function mp4Bytes(size) {
  const bytes = Buffer.alloc(size);
  bytes.writeUInt32BE(24, 0);
  bytes.write("ftypisom", 4, "ascii");
  bytes.writeUInt32BE(0x200, 12);
  bytes.write("isomiso2", 16, "ascii");
  return bytes;
}

/** A SQL string literal. */
function sqlString(value) {
  return value === null || value === undefined ? "null" : `'${String(value).replaceAll("'", "''")}'`;
}

async function noHorizontalScroll(label) {
  const { scrollWidth, width } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert(scrollWidth <= width + 1, `${label} scrolls sideways at ${width} px (content is ${scrollWidth} px wide)`);
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

let botUrl = "";
let conversationUrl = "";
const contactNumber = `+1555${String(Date.now()).slice(-7)}`;
const contactName = `E2E Contact ${RUN}`;

await test("the sign-in page is accessible and signed-out visitors are sent there", async () => {
  await visit("/overview");
  await page.waitForURL(/\/signin/);
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await screenshot("01-signin");
  await axe("/signin");
});

await test("a wrong password is refused with a message", async () => {
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "Invalid login credentials" }).waitFor();
});

await test("signs in with the seeded local owner (supabase-js against the local auth)", async () => {
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/overview/);
  await page.getByText("Role: owner").waitFor();
});

await test("overview: sessions by state, open alerts, 24-hour chart and runtimes", async () => {
  await settled();
  await page.getByRole("heading", { name: "Sessions" }).waitFor();
  await page.locator("#sessions").getByRole("link", { name: /^Connected \d+$/ }).waitFor();
  await page.getByRole("heading", { name: "Messages, last 24 hours" }).waitFor();
  assert(await page.locator("#volume-chart-caption").count() === 1, "the chart has no caption");
  await page.getByRole("heading", { name: "Runtime instances" }).waitFor();
  // The suite's own daemon answers its /status, probed through the admin API.
  await page.locator("#runtimes").getByText("OK", { exact: true }).first().waitFor();
  await page.locator("#runtimes").getByText(/^\d+ sessions?$/).first().waitFor();
  await screenshot("02-overview");
  await axe("/overview");
});

await test("runbook smoke test: the admin UI fetches the bot list without errors", async () => {
  const response = page.waitForResponse(
    (candidate) => candidate.request().method() === "GET" && /\/functions\/v1\/admin-api\/bots\?/.test(candidate.url()),
  );
  await visit("/bots");
  const answer = await response;
  assert(answer.status() === 200, `GET /admin-api/bots answered ${answer.status()}`);
  await page.getByRole("link", { name: "Demo bot", exact: true }).waitFor();
  assert(await page.getByText(/Could not load/).count() === 0, "the bots page shows an error");
  await screenshot("03-bots");
  await axe("/bots");
});

await test("creates a bot, fixes a validation error, tries it in the test chat and publishes it", async () => {
  await page.getByRole("button", { name: "New bot" }).click();
  await page.getByLabel("Name").fill(`E2E bot ${RUN}`);
  await page.getByRole("button", { name: "Create bot" }).click();
  await page.waitForURL(/\/bots\/[0-9a-f-]{36}$/);
  botUrl = new URL(page.url()).pathname;
  await page.getByText("The routing core accepts this draft").waitFor();

  // Break it in the JSON: the welcome node now leads nowhere.
  await page.getByRole("tab", { name: "JSON" }).click();
  const json = page.getByLabel("Definition (JSON)");
  const text = await json.inputValue();
  assert(text.includes('"next": "menu"'), "the starter definition changed shape");
  await json.fill(text.replace('"next": "menu"', '"next": "nowhere"'));
  const problem = page.getByRole("button", { name: /Go to \$\.nodes\[0\]\.next/ });
  await problem.waitFor();
  await page.getByText("1 error to fix before publishing").waitFor();
  assert(await page.getByRole("button", { name: "Publish", exact: true }).isDisabled(), "Publish is enabled with an error");
  // The error leads to the offending text in the JSON …
  await problem.click();
  const selected = await json.evaluate((element) => element.value.slice(element.selectionStart, element.selectionEnd));
  assert(selected.includes('"next": "nowhere"'), `the JSON selection is ${JSON.stringify(selected)}`);
  await screenshot("04-bot-editor-error-json");

  // … and, in the form, to the offending control, which fixes it.
  await page.getByRole("tab", { name: "Form" }).click();
  await problem.click();
  const focused = await page.evaluate(() => document.activeElement?.id);
  assert(focused === "def-nodes-0-next", `the focused control is ${focused}`);
  const control = page.locator("#def-nodes-0-next");
  assert(await control.getAttribute("aria-invalid") === "true", "the offending control is not marked invalid");
  await screenshot("05-bot-editor-error-form", { fullPage: false });
  await control.selectOption("menu");
  await page.getByText("The routing core accepts this draft").waitFor();

  // The test chat runs the draft in the browser.
  const chat = page.locator("#test-chat");
  await chat.getByLabel("Message as the test contact").fill("hi");
  await chat.getByRole("button", { name: "Send" }).click();
  await chat.getByText("Hi Test contact! Reply 1 for our opening hours.").waitFor();
  await chat.getByText("Reply 1 for opening hours or 2 to talk to a person.").waitFor();
  await chat.getByLabel("Message as the test contact").fill("1");
  await chat.getByRole("button", { name: "Send" }).click();
  await chat.getByText("We are open Monday to Friday, 9:00 to 17:00.").waitFor();

  await page.getByRole("button", { name: "Publish", exact: true }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("button", { name: "Publish" }).click();
  await toast(/Published version 1/);
  await page.getByText("Published v1").first().waitFor();
  await screenshot("06-bot-published");
  await axe(botUrl);
});

await test("a simulated contact's message shows in the inbox", async () => {
  assert(DAEMON_TOKEN !== "", "WABOT_DAEMON_TOKEN is not set");
  // The daemon may still be connecting the demo number (409): try for 30 s.
  let response;
  for (const deadline = Date.now() + 30000; ;) {
    response = await fetch(`${DAEMON}/simulator/inbound`, {
      method: "POST",
      headers: { authorization: `Bearer ${DAEMON_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ to: DEMO_NUMBER, from: contactNumber, name: contactName, text: "hi" }),
    });
    if (response.status === 202 || Date.now() > deadline || ![409, 503].includes(response.status)) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  assert(response.status === 202, `POST /simulator/inbound answered ${response.status}: ${await response.text()}`);
  await visit("/conversations");
  const item = page.getByRole("link", { name: new RegExp(contactName) });
  await item.waitFor({ timeout: 30000 });
  await screenshot("07-conversations-inbox");
  await axe("/conversations");
  await item.click();
  await page.waitForURL(/\/conversations\/[0-9a-f-]{36}$/);
  conversationUrl = new URL(page.url()).pathname;
  const thread = page.getByRole("log", { name: "Messages" });
  await thread.getByText("hi", { exact: true }).waitFor();
  // The demo bot answered through route-message; its reply shows with a delivery status.
  await thread.getByText(/I'm the demo bot/).waitFor({ timeout: 30000 });
});

await test("takes the conversation over and answers as an agent", async () => {
  await page.getByRole("button", { name: "Take over" }).click();
  await toast(/took the conversation over/);
  await page.getByRole("button", { name: "Release to bot" }).waitFor();
  const reply = `Hello from the e2e agent ${RUN}`;
  await page.getByLabel("Reply as an agent").fill(reply);
  await page.getByRole("button", { name: "Send" }).click();
  await toast(/Reply queued/);
  const thread = page.getByRole("log", { name: "Messages" });
  const bubble = thread.locator("li").filter({ hasText: reply });
  await bubble.waitFor();
  await bubble.getByText("You (agent)").waitFor();
  // The daemon sends it: the status moves on from Queued, and the contact gets it.
  await bubble.getByText(/Sent|Delivered|Read/).waitFor({ timeout: 30000 });
  const transcript = await (
    await fetch(`${DAEMON}/simulator/transcript?to=${encodeURIComponent(DEMO_NUMBER)}&from=${encodeURIComponent(contactNumber)}`)
  ).json();
  assert(JSON.stringify(transcript).includes(reply), "the simulated contact did not receive the agent's reply");
  await screenshot("08-conversation-thread");
  await axe(conversationUrl);
});


// ---------------------------------------------------------------------------
// Issue 13: every kind in the inbox, sending a picture, a quote and a
// template, and the bot editor's buttons. The rows are real (Postgres, with
// the content column and its shape check), and so is every admin API route:
// uploads go to the stack's S3 server, templates come from message_templates.
// ---------------------------------------------------------------------------

const waId = (name) => `wamid.e2e-${RUN}-${name}`;
const PICTURE = pngBytes(96, 64, [116, 192, 252]);
// A real WebP (the upload route checks a file's first bytes), encoded by
// Chromium itself on the first use.
let STICKER = Buffer.alloc(0);
async function webpSticker() {
  const dataUrl = await page.evaluate(() => {
    const canvas = document.createElement("canvas");
    canvas.width = 64;
    canvas.height = 64;
    const context = canvas.getContext("2d");
    context.fillStyle = "rgb(255, 212, 59)";
    context.fillRect(0, 0, 64, 64);
    return canvas.toDataURL("image/webp");
  });
  assert(dataUrl.startsWith("data:image/webp;base64,"), `Chromium encoded ${dataUrl.slice(0, 30)}`);
  return Buffer.from(dataUrl.slice("data:image/webp;base64,".length), "base64");
}
const SOUND = wavBytes();
const VOICE = oggOpusBytes();
const VIDEO = mp4Bytes(1024);
const PDF = Buffer.from(`%PDF-1.4\n% e2e invoice ${RUN}\n%%EOF\n`);

/** Inserts rows into a conversation, a second apart, already routed; returns their ids by name. */
function insertMessages(conversationId, rows, startOffsetSeconds = 0) {
  const ids = {};
  rows.forEach((row, index) => {
    const outbound = row.direction === "outbound";
    ids[row.name] = psql(`insert into public.messages
        (number_id, conversation_id, direction, contact_wa_id, wa_message_id, content, payload, status,
         context_wa_message_id, created_at, sent_at, routed_at)
      select number_id, id, '${outbound ? "outbound" : "inbound"}', contact_wa_id, ${sqlString(waId(row.name))},
             $json$${JSON.stringify(row.content)}$json$::jsonb, '{}'::jsonb, '${outbound ? "sent" : "received"}',
             ${sqlString(row.quotes ? waId(row.quotes) : null)},
             now() + interval '${startOffsetSeconds + index} seconds',
             ${outbound ? `now() + interval '${startOffsetSeconds + index} seconds'` : "null"},
             ${outbound ? "null" : "now()"}
        from public.conversations where id = '${conversationId}'
      returning id`);
  });
  return ids;
}

/**
 * Uploads a file as the signed-in member would (`POST /media` from the page,
 * with the session's token). Returns the answer ({storage_key, mime_type, size_bytes, sha256, filename}).
 */
async function uploadThroughApi(bytes, mimeType, filename) {
  assert(adminApiBase !== "", "no admin API request seen yet");
  const answer = await page.evaluate(async ({ base, data, mimeType, filename }) => {
    // src/lib/supabase.ts keeps the session under this key.
    const token = JSON.parse(localStorage.getItem("wabot-admin-auth") ?? "{}").access_token ?? null;
    const body = Uint8Array.from(atob(data), (char) => char.charCodeAt(0));
    const response = await fetch(`${base}/media?filename=${encodeURIComponent(filename)}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": mimeType },
      body,
    });
    return { status: response.status, body: await response.text() };
  }, { base: adminApiBase, data: bytes.toString("base64"), mimeType, filename });
  assert(answer.status === 201 || answer.status === 200, `POST /media answered ${answer.status}: ${answer.body}`);
  return JSON.parse(answer.body);
}

/** A conversation of its own (not the daemon's), with one inbound message a minute ago, taken over in the UI. */
async function conversationTakenOver(label, minutesAgo = 1, numberId = DEMO_NUMBER_ID) {
  const contact = `+1555${String(Date.now() + Math.floor(Math.random() * 1000)).slice(-7)}`;
  const conversationId = psql(`insert into public.conversations (number_id, contact_wa_id, contact_name, mode, last_activity_at)
    values ('${numberId}', '${contact}', '${label} ${RUN}', 'bot', now() - interval '${minutesAgo} minutes') returning id`);
  psql(`insert into public.messages (number_id, conversation_id, direction, contact_wa_id, wa_message_id, content, status, created_at, routed_at)
    values ('${numberId}', '${conversationId}', 'inbound', '${contact}', ${sqlString(waId(`first-${conversationId}`))},
            '{"kind": "text", "text": "Hello, I have a question"}', 'received', now() - interval '${minutesAgo} minutes', now())`);
  await visit(`/conversations/${conversationId}`);
  await page.getByRole("button", { name: "Take over" }).click();
  await toast(/took the conversation over/);
  await page.getByRole("button", { name: "Release to bot" }).waitFor();
  return conversationId;
}

let kindsConversationUrl = "";

await test("the inbox draws every kind of message, with screenshots", async () => {
  const conversationId = await conversationTakenOver("Every kind");
  kindsConversationUrl = `/conversations/${conversationId}`;
  // The files go through POST /media, so the rows name objects GET /messages/{id}/media serves.
  const uploaded = {};
  STICKER = await webpSticker();
  for (const [name, bytes, type, filename] of [
    ["image", PICTURE, "image/png", "lamp.png"],
    ["sticker", STICKER, "image/webp", "sticker.webp"],
    ["voice", VOICE, "audio/ogg", "voice.ogg"],
    ["audio", SOUND, "audio/mpeg", "song.mp3"],
    ["video", VIDEO, "video/mp4", "unboxing.mp4"],
    ["document", PDF, "application/pdf", "invoice-42.pdf"],
  ]) {
    uploaded[name] = await uploadThroughApi(bytes, type, filename);
  }
  const key = (name) => uploaded[name].storage_key;
  const rows = [
    { name: "image", content: { kind: "image", storage_key: key("image"), mime_type: "image/png", size_bytes: PICTURE.length, caption: "The broken lamp" } },
    { name: "sticker", content: { kind: "sticker", storage_key: key("sticker"), mime_type: "image/webp", size_bytes: STICKER.length } },
    { name: "voice", content: { kind: "voice", storage_key: key("voice"), mime_type: "audio/ogg", size_bytes: VOICE.length } },
    { name: "audio", content: { kind: "audio", storage_key: key("audio"), mime_type: "audio/mpeg", size_bytes: SOUND.length, filename: "song.mp3" } },
    { name: "video", content: { kind: "video", storage_key: key("video"), mime_type: "video/mp4", size_bytes: 1024, caption: "Unboxing" } },
    { name: "video_too_big", content: { kind: "video", media_id: "1234567890", mime_type: "video/mp4", storage_error: "the file is over 16 MB, WhatsApp's limit for a video" } },
    { name: "document", content: { kind: "document", storage_key: key("document"), mime_type: "application/pdf", size_bytes: PDF.length, filename: "invoice-42.pdf", caption: "My invoice" } },
    { name: "location", content: { kind: "location", latitude: 52.3676, longitude: 4.9041, name: "Our shop", address: "Dam 1, Amsterdam" } },
    { name: "contacts", content: { kind: "contacts", contacts: [{ name: { formatted_name: "Ann Lee" }, phones: [{ phone: "+31 6 1234 5678", type: "CELL" }] }] } },
    { name: "quoted", quotes: "image", content: { kind: "text", text: "Is it still under warranty?" } },
    { name: "buttons", direction: "outbound", content: { kind: "buttons", text: "Shall we send a new one?", buttons: [{ id: "send_new", title: "Yes, send one" }, { id: "refund", title: "Refund me" }] } },
    { name: "reaction", content: { kind: "reaction", message_id: waId("buttons"), emoji: "👍" } },
    { name: "button_reply", quotes: "buttons", content: { kind: "button_reply", id: "send_new", title: "Yes, send one" } },
    { name: "list", direction: "outbound", content: { kind: "list", text: "When should it arrive?", button: "Delivery slots", sections: [{ title: "Tomorrow", rows: [{ id: "am", title: "Morning", description: "8:00 to 12:00" }, { id: "pm", title: "Afternoon" }] }] } },
    { name: "list_reply", content: { kind: "list_reply", id: "am", title: "Morning", description: "8:00 to 12:00" } },
    { name: "template", direction: "outbound", content: { kind: "template", name: "order_update", language: "en_US", components: [{ type: "body", parameters: [{ type: "text", text: "Ann" }, { type: "text", text: "#42" }] }] } },
    { name: "lost_reaction", content: { kind: "reaction", message_id: "wamid.not-in-this-thread", emoji: "❤️" } },
    { name: "system", content: { kind: "system", system_type: "user_changed_number", text: "Ann changed their number", new_wa_id: "31612345679" } },
    { name: "unknown", content: { kind: "unknown", original_type: "poll", reason: "polls are not mapped yet" } },
  ];
  const ids = insertMessages(conversationId, rows);
  // The content check and the trigger kept each kind, and filled type and body.
  assert(psql(`select string_agg(type, ',' order by created_at) from public.messages where id in (${Object.values(ids).map((id) => `'${id}'`).join(",")})`)
    === rows.map((row) => row.content.kind).join(","), "the stored types do not follow content.kind");

  const mediaRequests = [];
  const onRequest = (request) => {
    if (/\/admin-api\/messages\/[0-9a-f-]{36}\/media$/.test(request.url())) mediaRequests.push(request.headers().authorization ?? "");
  };
  page.on("request", onRequest);
  try {
    await visit(kindsConversationUrl);
    const thread = page.getByRole("log", { name: "Messages" });
    const bubble = (name) => thread.locator(`li[data-message-id="${ids[name]}"]`);
    await bubble("unknown").waitFor();

    // Pictures and stickers: decoded from an object URL, the caption as alt text.
    const image = bubble("image").getByRole("img", { name: "The broken lamp" });
    await image.waitFor();
    await page.waitForFunction((id) => {
      const element = document.querySelector(`li[data-message-id="${id}"] img`);
      return element !== null && element.complete && element.naturalWidth === 96;
    }, ids.image);
    assert((await image.getAttribute("src")).startsWith("blob:"), "the picture is not shown from an object URL");
    await page.waitForFunction((id) => (document.querySelector(`li[data-message-id="${id}"] img`)?.naturalWidth ?? 0) === 64, ids.sticker);
    // Audio, voice notes and video are playable controls on object URLs.
    for (const name of ["voice", "audio"]) {
      const audio = bubble(name).locator("audio[controls]");
      await audio.waitFor();
      assert((await audio.getAttribute("src")).startsWith("blob:"), `the ${name} has no object URL`);
    }
    await page.waitForFunction((id) => (document.querySelector(`li[data-message-id="${id}"] audio`)?.duration ?? 0) > 0.4, ids.voice);
    const video = bubble("video").locator("video[controls]");
    await video.waitFor();
    assert((await video.getAttribute("src")).startsWith("blob:"), "the video has no object URL");
    await bubble("video_too_big").getByText("The file was not stored: the file is over 16 MB").waitFor();
    // Every file was fetched with the member's token; none from a public URL.
    assert(mediaRequests.length >= 5 && mediaRequests.every((header) => /^Bearer ey/.test(header)), `media requests: ${JSON.stringify(mediaRequests)}`);
    // The thread's 3-second refresh does not download them again.
    const fetched = mediaRequests.length;
    await page.waitForTimeout(3500);
    assert(mediaRequests.length === fetched, `the refresh fetched media again (${fetched} → ${mediaRequests.length})`);

    // A document downloads under its name.
    await bubble("document").getByText("application/pdf · ").waitFor();
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      bubble("document").getByRole("button", { name: "Download invoice-42.pdf" }).click(),
    ]);
    assert(download.suggestedFilename() === "invoice-42.pdf", `the download is named ${download.suggestedFilename()}`);
    const saved = readFileSync(await download.path());
    assert(saved.equals(PDF), "the downloaded document differs from the stored bytes");

    // A location links to the map in a new tab.
    const map = bubble("location").getByRole("link", { name: /Open in OpenStreetMap/ });
    assert((await map.getAttribute("href")) === "https://www.openstreetmap.org/?mlat=52.3676&mlon=4.9041#map=16/52.3676/4.9041", "wrong map link");
    assert((await map.getAttribute("target")) === "_blank" && /noopener/.test(await map.getAttribute("rel")), "the map link does not open safely in a new tab");
    await bubble("location").getByText("52.36760° N, 4.90410° E").waitFor();
    await bubble("contacts").getByText("+31 6 1234 5678 (cell)").waitFor();
    // The quote shows the quoted message's summary above the reply.
    await bubble("quoted").locator("blockquote").getByText("The broken lamp").waitFor();
    await bubble("button_reply").locator("blockquote").getByText("Shall we send a new one?").waitFor();
    // The reaction sits on the message it reacts to, and is not a message of its own.
    await bubble("buttons").getByLabel("Reactions").getByText("👍").waitFor();
    assert(await bubble("reaction").count() === 0, "the matched reaction is also shown alone");
    await bubble("lost_reaction").getByText(/to a message not in this thread/).waitFor();
    await bubble("button_reply").getByText("tapped").waitFor();
    await bubble("button_reply").getByText("send_new", { exact: true }).waitFor();
    await bubble("list_reply").getByText("picked from a list").waitFor();
    await bubble("buttons").getByText("Refund me").waitFor();
    await bubble("list").getByText("Delivery slots").waitFor();
    await bubble("list").getByText("Afternoon").waitFor();
    await bubble("template").getByText("order_update").waitFor();
    await bubble("template").getByText("#42").waitFor();
    await bubble("system").getByText("Ann changed their number").waitFor();
    await bubble("unknown").getByText("not supported yet").waitFor();
    await bubble("unknown").getByText("poll", { exact: true }).waitFor();

    for (const row of rows) {
      if (row.name === "reaction") continue;
      const target = bubble(row.name);
      await target.scrollIntoViewIfNeeded();
      const path = join(SHOTS, `25-kind-${slug(row.name)}.png`);
      await target.screenshot({ path });
      shots.push(path);
    }
    await screenshot("25-conversation-every-kind");
    await axe("/conversations/{id} with every kind");
  } finally {
    page.off("request", onRequest);
  }
});

await test("an agent sends a picture, replies quoting a message and shares a location", async () => {
  assert(kindsConversationUrl !== "", "no conversation from the earlier test");
  await visit(kindsConversationUrl);
  await page.getByRole("button", { name: "Release to bot" }).waitFor();
  const caption = `Here is the new lamp ${RUN}`;
  await page.getByLabel("Attach a picture or a document").setInputFiles({ name: "new-lamp.png", mimeType: "image/png", buffer: PICTURE });
  await page.getByText("new-lamp.png").waitFor();
  await page.getByLabel("Caption (optional)").fill(caption);
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await toast(/Picture queued/);
  const thread = page.getByRole("log", { name: "Messages" });
  const sent = thread.locator("li").filter({ has: page.getByRole("img", { name: caption }) });
  await sent.waitFor();
  await page.waitForFunction((alt) => [...document.querySelectorAll("img")].some((img) => img.alt === alt && img.naturalWidth === 96), caption);
  await sent.getByText("You (agent)").waitFor();
  const stored = JSON.parse(psql(`select content from public.messages where conversation_id = '${kindsConversationUrl.split("/").pop()}'
    and direction = 'outbound' and content->>'caption' = ${sqlString(caption)}`));
  assert(stored.kind === "image" && /^uploads\//.test(stored.storage_key) && stored.mime_type === "image/png" && stored.filename === "new-lamp.png",
    `the stored content is ${JSON.stringify(stored)}`);
  assert(stored.size_bytes === PICTURE.length, `the stored size is ${stored.size_bytes}, the file's ${PICTURE.length}`);
  await sent.screenshot({ path: join(SHOTS, "26-sent-picture.png") });

  // Reply to the location, quoting it.
  const location = thread.locator('li[data-kind="location"]').first();
  await location.getByRole("button", { name: "Reply to this message" }).click();
  await page.locator(".ns-composer__quote").getByText("Our shop, Dam 1, Amsterdam").waitFor();
  const answer = `Yes, come by the shop ${RUN}`;
  await page.getByLabel("Reply as an agent").fill(answer);
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await toast(/Reply queued/);
  const reply = thread.locator("li").filter({ hasText: answer });
  await reply.locator("blockquote").getByText("Our shop, Dam 1, Amsterdam").waitFor();

  // Share a location.
  await page.getByText("Share a location").click();
  await page.getByLabel("Latitude (−90 to 90)").fill("48.8584");
  await page.getByLabel("Longitude (−180 to 180)").fill("2.2945");
  await page.getByLabel("Place name (optional)").fill(`Pick-up point ${RUN}`);
  await page.getByRole("button", { name: "Send location" }).click();
  await toast(/Location queued/);
  const place = thread.locator('li[data-kind="location"]').filter({ hasText: `Pick-up point ${RUN}` });
  assert((await place.getByRole("link", { name: /Open in OpenStreetMap/ }).getAttribute("href")).startsWith("https://www.openstreetmap.org/?mlat=48.8584&mlon=2.2945"),
    "the sent location has no map link");
  await screenshot("26-conversation-sent-picture-quote-location");
});

/** The number's templates as the Graph API sync stores them (components and the derived parameter spec). */
const TEMPLATES = [
  {
    name: "order_update",
    language: "en_US",
    status: "APPROVED",
    category: "UTILITY",
    components: [{ type: "BODY", text: "Hi {{1}}, your order {{2}} is on its way." }],
    parameter_spec: [{ type: "body", parameters: 2 }],
  },
  {
    name: "spring_sale",
    language: "en_US",
    status: "PENDING",
    category: "MARKETING",
    components: [{ type: "BODY", text: "Sale!" }],
    parameter_spec: [],
  },
];

await test("an agent sends an approved template when the 24-hour window is closed", async () => {
  // A Cloud API number (only there does the window apply) whose synced
  // templates are one approved and one pending, and a contact who last
  // wrote two days ago. No daemon holds the number: the template stays queued.
  const cloudNumberId = psql(`insert into public.numbers (phone_number, label, transport)
    values ('+1555${String(Date.now()).slice(-7)}', 'Cloud ${RUN}', 'cloud') returning id`);
  for (const [index, template] of TEMPLATES.entries()) {
    psql(`insert into public.message_templates
        (number_id, waba_id, template_id, name, language, status, category, components, parameter_spec)
      values ('${cloudNumberId}', '102290129340398', '${9000 + index}', ${sqlString(template.name)}, ${sqlString(template.language)},
              ${sqlString(template.status)}, ${sqlString(template.category)},
              $json$${JSON.stringify(template.components)}$json$::jsonb, $json$${JSON.stringify(template.parameter_spec)}$json$::jsonb)`);
  }
  const conversationId = await conversationTakenOver("Window closed", 48 * 60, cloudNumberId);
  await page.getByText("The 24-hour window is closed").waitFor();
  // The inbox marks the conversation too.
  await page.getByRole("link", { name: new RegExp(`Window closed ${RUN}`) }).getByText("Window closed", { exact: true }).waitFor();
  assert(await page.getByLabel("Reply as an agent").count() === 0, "free-form text is offered outside the window");
  const picker = page.getByLabel("Template", { exact: true });
  await picker.waitFor();
  const offered = await picker.locator("option").evaluateAll((options) => options.map((option) => option.value));
  assert(JSON.stringify(offered) === JSON.stringify(["", "order_update:en_US"]), `offered templates: ${offered}`);
  await picker.selectOption("order_update:en_US");
  await page.getByLabel("Body parameter {{1}}").fill("Ann");
  await page.getByLabel("Body parameter {{2}}").fill(`#${RUN}`);
  await page.getByLabel("Template preview").getByText(`Hi Ann, your order #${RUN} is on its way.`).waitFor();
  await screenshot("27-template-picker");
  await axe("/conversations/{id} with the window closed");
  await page.getByRole("button", { name: "Send template" }).click();
  await toast(/Template order_update queued/);
  const thread = page.getByRole("log", { name: "Messages" });
  await thread.locator('li[data-kind="template"]').getByText(`#${RUN}`).waitFor();
  const stored = JSON.parse(psql(`select content from public.messages where conversation_id = '${conversationId}' and direction = 'outbound'`));
  assert(stored.kind === "template" && stored.name === "order_update" && stored.components[0].parameters[1].text === `#${RUN}`,
    `the stored template is ${JSON.stringify(stored)}`);
  await screenshot("28-template-sent");
});

await test("the bot editor edits a buttons node: live counter, the core's error under the title, fixed", async () => {
  assert(botUrl !== "", "no bot from the earlier test");
  await visit(botUrl);
  await page.getByText("The routing core accepts this draft").waitFor();
  await page.getByRole("tab", { name: "Form" }).click();
  // The welcome node (node 1) becomes text with reply buttons.
  await page.locator("#def-nodes-0--content").selectOption("buttons");
  const title = page.locator("#def-nodes-0-buttons-0-title");
  await title.waitFor();
  await title.fill("Opening hours, please");
  await page.locator("#def-nodes-0-buttons-0-title-hint").getByText("21/20 characters: 1 too many").waitFor();
  await page.getByRole("button", { name: /Go to \$\.nodes\[0\]\.buttons\[0\]\.title/ }).waitFor();
  assert(await title.getAttribute("aria-invalid") === "true", "the too-long title is not marked invalid");
  await page.locator("#def-nodes-0-buttons-0-title-error").getByText("title_too_long").waitFor();
  await title.evaluate((element) => element.scrollIntoView({ block: "center" }));
  await screenshot("29-bot-editor-buttons-error", { fullPage: false });
  await title.fill("Opening hours");
  await page.locator("#def-nodes-0-buttons-0-id").fill("hours");
  await page.getByRole("button", { name: "Add button" }).click();
  await page.locator("#def-nodes-0-buttons-1-title").fill("A person");
  await page.locator("#def-nodes-0-buttons-1-id").fill("person");
  await page.getByText("The routing core accepts this draft").waitFor();
  await page.getByRole("tab", { name: "JSON" }).click();
  const definition = JSON.parse(await page.getByLabel("Definition (JSON)").inputValue());
  const welcome = definition.nodes[0];
  assert(JSON.stringify(welcome.buttons) === JSON.stringify([{ id: "hours", title: "Opening hours" }, { id: "person", title: "A person" }]),
    `the buttons are ${JSON.stringify(welcome.buttons)}`);
  assert(welcome.next === "menu" && typeof welcome.text === "string", "the node lost its text or next");
  await page.getByRole("tab", { name: "Form" }).click();
  await page.locator("#def-nodes-0-buttons-1-title").evaluate((element) => element.scrollIntoView({ block: "center" }));
  await screenshot("30-bot-editor-buttons", { fullPage: false });
  // The test chat draws the buttons and a tap answers with the id.
  const chat = page.locator("#test-chat");
  await chat.getByRole("button", { name: "Restart chat" }).click();
  await chat.getByLabel("Message as the test contact").fill("hi");
  await chat.getByRole("button", { name: "Send" }).click();
  await chat.getByRole("group", { name: "Reply buttons" }).getByRole("button", { name: "Opening hours" }).waitFor();
  await axe(`${botUrl} with a buttons node`);
});

await test("restarts a number after confirming and sees it on its timeline", async () => {
  await visit("/numbers");
  await page.getByRole("link", { name: DEMO_NUMBER }).waitFor();
  await screenshot("09-numbers");
  await axe("/numbers");
  await page.getByRole("link", { name: DEMO_NUMBER }).click();
  await page.waitForURL(new RegExp(`/numbers/${DEMO_NUMBER_ID}$`));
  await settled();
  const timeline = page.getByRole("list", { name: "Connection events" });
  await timeline.waitFor();
  const before = await timeline.locator("li").count();
  const newestBefore = await timeline.locator("li time").first().getAttribute("datetime");
  await page.getByRole("button", { name: "Restart", exact: true }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByText(/disconnects and connects again/).waitFor();
  await dialog.getByRole("button", { name: "Restart" }).click();
  await toast(/Restart (sent to the daemon|queued)/);
  await page.waitForFunction(
    ({ newestBefore, before }) => {
      const list = document.querySelector('[aria-label="Connection events"]');
      const first = list?.querySelector("time")?.getAttribute("datetime");
      return list !== null && (first !== newestBefore || list.querySelectorAll("li").length > before);
    },
    { newestBefore, before },
    { timeout: 30000 },
  );
  await page.getByRole("table", { name: "Recent session commands" }).getByText("restart").first().waitFor();
  await screenshot("10-number-restarted");
  await axe(`/numbers/${DEMO_NUMBER_ID}`);
});

await test("adds a number and pairs it by QR code and pair code", async () => {
  const phone = `+1555${String(Date.now() + 7).slice(-7)}`;
  const encoded = encodeURIComponent(phone);
  const daemon = (path, body) =>
    fetch(`${DAEMON}/simulator/numbers/${encoded}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${DAEMON_TOKEN}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  await visit("/numbers");
  await page.getByRole("button", { name: "Add number" }).click();
  await page.getByLabel("Phone number (E.164)").fill(phone);
  await page.getByLabel("Label").fill(`E2E pairing ${RUN}`);
  await page.getByLabel("Transport").selectOption("simulator");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await toast(new RegExp(`Added \\${phone}`));
  await page.getByRole("link", { name: phone }).click();
  await page.waitForURL(/\/numbers\/[0-9a-f-]{36}$/);
  // The daemon takes the new number on and connects it; then its line asks for pairing.
  await page.locator("header .ns-badge").getByText("Connected").waitFor({ timeout: 30000 });
  for (const deadline = Date.now() + 15000; ;) {
    const response = await daemon("/script", { require_pairing: true });
    if (response.ok) break;
    assert(Date.now() < deadline, `POST /simulator/numbers/{phone}/script answered ${response.status}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await page.getByRole("button", { name: "Restart", exact: true }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Restart" }).click();
  const card = page.locator("#pairing");
  await card.getByRole("img", { name: "QR code to link the WhatsApp account" }).waitFor({ timeout: 30000 });
  const code = (await card.locator(".ns-pair-code").textContent())?.trim() ?? "";
  assert(/^[0-9A-Z-]{6,}$/.test(code), `the pair code is ${JSON.stringify(code)}`);
  await page.locator("header .ns-badge").getByText("Pairing").waitFor();
  await screenshot("11-number-pairing");
  await axe("/numbers/{id} while pairing");
  const paired = await daemon("/pair");
  assert(paired.ok, `POST /simulator/numbers/{phone}/pair answered ${paired.status}`);
  await page.locator("header .ns-badge").getByText("Connected").waitFor({ timeout: 30000 });
  await page.getByRole("list", { name: "Connection events" }).getByText("Paired").waitFor();
});

await test("acknowledges an alert, records the post-incident summary and sees it in the audit log", async () => {
  const title = `E2E: demo number down ${RUN}`;
  psql(
    `insert into public.alerts (kind, severity, number_id, dedupe_key, status, title, details)
     values ('number_disconnected', 'critical', '${DEMO_NUMBER_ID}', 'e2e:${RUN}', 'open', '${title}',
             '{"recommended_actions": ["restart_session"]}')`,
  );
  await visit("/alerts");
  const link = page.getByRole("link", { name: title });
  await link.waitFor();
  await screenshot("12-alerts");
  await axe("/alerts");
  await link.click();
  await page.waitForURL(/\/alerts\/[0-9a-f-]{36}$/);
  await page.getByRole("button", { name: "Acknowledge" }).click();
  await toast(/Acknowledged/);
  await page.locator("header").getByText("Acknowledged").waitFor();
  await page.getByText("Stopped", { exact: true }).waitFor();
  await page.getByRole("textbox", { name: "Summary" }).fill("E2E: the demo number dropped; a restart brought it back.");
  await page.getByRole("button", { name: "Save summary" }).click();
  await toast(/Summary recorded/);
  await page.locator("blockquote").getByText("a restart brought it back").waitFor();
  await screenshot("13-alert-acknowledged");
  await axe(new URL(page.url()).pathname);

  await visit("/audit");
  await page.getByLabel("Action").fill("alerts.*");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.getByRole("table", { name: "Audit log entries" }).getByText(/alerts\.acknowledged/).first().waitFor();
  await screenshot("14-audit-log");
  await axe("/audit");
});

await test("dead letters: an exhausted delivery is listed with its error and retried after confirming", async () => {
  const id = psql(
    `insert into public.outbox (topic, payload, attempts, last_error, dead_at)
     values ('e2e-dead-letter', '{"run": "${RUN}"}', 10, 'E2E: the function answered 500 (${RUN})', now())
     returning id`,
  );
  try {
    await visit("/dead-letters");
    const table = page.getByRole("table", { name: "Dead letters" });
    await table.getByText(`E2E: the function answered 500 (${RUN})`).waitFor();
    await screenshot("14b-dead-letters");
    await axe("/dead-letters");
    await page.getByRole("button", { name: `Retry #${id}` }).click();
    const dialog = page.getByRole("dialog", { name: `Retry outbox row #${id}?` });
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Retry" }).click();
    await toast(new RegExp(`Outbox row #${id} is due again`));
    // Fresh attempts: the daemon's relay may already have taken the first.
    const state = psql(`select dead_at is null and attempts <= 1 from public.outbox where id = ${id}`);
    assert(state === "t", `outbox row ${id} is not due again: ${state}`);
    const audited = psql(`select count(*) from public.audit_log_entries where action = 'outbox.retried' and target_id = '${id}'`);
    assert(audited === "1", `the retry of ${id} is not audited once: ${audited}`);
    await table.getByText(`E2E: the function answered 500 (${RUN})`).waitFor({ state: "detached" });
  } finally {
    psql(`delete from public.outbox where id = ${id}`);
  }
});

await test("settings: members and alert channels", async () => {
  await visit("/settings");
  await settled();
  await page.getByRole("table", { name: "Members" }).getByText(EMAIL).waitFor();
  await page.getByRole("heading", { name: "Alert channels" }).waitFor();
  await screenshot("15-settings");
  await axe("/settings");
});

await test("the design system page renders every token and component, light and dark", async () => {
  await visit("/design");
  await page.getByRole("table", { name: /Layer 1/ }).getByText("--ns-raw-paper", { exact: true }).waitFor();
  await screenshot("16-design-light");
  await axe("/design (light)");
  await page.getByRole("button", { name: "Switch to dark theme" }).first().click();
  await page.waitForFunction(() => document.documentElement.dataset.theme === "dark");
  await screenshot("17-design-dark");
  await axe("/design (dark)");
  await visit("/overview");
  await settled();
  await screenshot("18-overview-dark");
  await axe("/overview (dark)");
  await page.getByRole("button", { name: "Switch to light theme" }).first().click();
});

await test("keyboard only: skip link, visible focus, a confirmation dialog that traps and returns focus", async () => {
  await visit(`/numbers/${DEMO_NUMBER_ID}`);
  await settled();
  await page.keyboard.press("Tab");
  const first = await page.evaluate(() => document.activeElement?.textContent?.trim());
  assert(first === "Skip to content", `the first Tab lands on ${JSON.stringify(first)}`);
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert(outline !== "none", "the focused skip link has no visible outline");
  await page.keyboard.press("Enter");
  // Tab through until the Restart button has focus.
  let found = false;
  for (let step = 0; step < 40 && !found; step++) {
    await page.keyboard.press("Tab");
    found = await page.evaluate(() => document.activeElement?.textContent?.trim() === "Restart");
  }
  assert(found, "Restart cannot be reached with Tab");
  const ring = await page.evaluate(() => {
    const style = getComputedStyle(document.activeElement);
    return `${style.outlineStyle} ${style.outlineWidth}`;
  });
  assert(/solid 3px/.test(ring), `the focused button's outline is ${ring}`);
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog");
  await dialog.waitFor();
  const inDialog = await page.evaluate(() => document.activeElement?.closest("dialog") !== null);
  assert(inDialog, "focus did not move into the dialog");
  await screenshot("19-keyboard-dialog", { fullPage: false });
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "hidden" });
  const back = await page.evaluate(() => document.activeElement?.textContent?.trim());
  assert(back === "Restart", `focus returned to ${JSON.stringify(back)}`);
});

await test("reduced motion: no press animation", async () => {
  await page.emulateMedia({ reducedMotion: "reduce" });
  await visit("/bots");
  const duration = await page.locator(".ns-button").first().evaluate((element) => getComputedStyle(element).transitionDuration);
  assert(duration.split(",").every((part) => parseFloat(part) < 0.001), `transition-duration is ${duration}`);
  await page.emulateMedia({ reducedMotion: null });
});

await test("usable at 375 px wide", async () => {
  await page.setViewportSize({ width: 375, height: 800 });
  try {
  for (const [path, name] of [
    ["/overview", "20-mobile-overview"],
    ["/numbers", "21-mobile-numbers"],
    [botUrl || "/bots", "22-mobile-bot-editor"],
    [conversationUrl || "/conversations", "23-mobile-conversation"],
    [kindsConversationUrl || "/conversations", "23b-mobile-conversation-every-kind"],
    ["/alerts", "24-mobile-alerts"],
  ]) {
    await visit(path);
    await settled();
    await noHorizontalScroll(path);
    await screenshot(name);
  }
  // The menu opens and leads somewhere.
  await page.getByRole("button", { name: "Menu" }).click();
  await page.getByRole("navigation", { name: "Primary" }).getByRole("link", { name: "Numbers" }).click();
  await page.waitForURL(/\/numbers$/);
  await axe("/numbers at 375 px");
  } finally {
    await page.setViewportSize({ width: 1280, height: 900 });
  }
});

await test("no server errors were seen", async () => {
  assert(serverErrors.length === 0, `responses with status 5xx: ${serverErrors.join(", ")}`);
});

await test("signs out", async () => {
  await visit("/overview");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/signin/);
});

await browser.close();

const passed = results.filter((result) => result.ok).length;
const failed = results.length - passed;
console.log(`\nscreenshots (${shots.length}) in ${SHOTS}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
