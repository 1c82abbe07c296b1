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
  await page.locator("#sessions").getByText("Connected").waitFor();
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
