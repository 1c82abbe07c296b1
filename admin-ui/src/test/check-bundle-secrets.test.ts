/** The build check finds what must never reach a browser, and passes a clean build. */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const script = join(__dirname, "..", "..", "scripts", "check-bundle-secrets.mjs");
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
const token = (role: string) => `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ role, exp: 1983812996 })}.c2lnbmF0dXJlc2lnbmF0dXJl`;

/** The secrets the check compares by value, unset (the test's own environment may hold them). */
const CLEAN = { SUPABASE_SERVICE_ROLE_KEY: "", SUPABASE_DB_URL: "", SUPABASE_JWT_SECRET: "", WABOT_DAEMON_TOKEN: "", OUTBOX_RELAY_SECRET: "" };

function check(files: Record<string, string>, env: Record<string, string> = {}): { ok: boolean; output: string } {
  const root = mkdtempSync(join(tmpdir(), "bundle-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(root, name, ".."), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  try {
    const output = execFileSync("node", [script, root], { env: { ...process.env, ...CLEAN, ...env }, encoding: "utf8", stdio: "pipe" });
    return { ok: true, output };
  } catch (error) {
    return { ok: false, output: String((error as { stderr?: string }).stderr) };
  }
}

describe("check-bundle-secrets", () => {
  it("passes a bundle with only the anon key", () => {
    expect(check({ "static/chunks/a.js": `const key = "${token("anon")}";` }).ok).toBe(true);
  });

  it("finds a service-role key, a database URL and secrets by value", () => {
    const serviceRole = check({ "static/chunks/a.js": `const key = "${token("service_role")}";` });
    expect(serviceRole).toMatchObject({ ok: false });
    expect(serviceRole.output).toContain("role service_role");
    expect(check({ "server/app/page.js": 'fetch("postgresql://postgres:postgres@127.0.0.1:5432/postgres")' }).output)
      .toContain("a database URL");
    expect(check({ "static/x.js": "daemon-token-0123456789abcdef" }, { WABOT_DAEMON_TOKEN: "daemon-token-0123456789abcdef" }).output)
      .toContain("the value of WABOT_DAEMON_TOKEN");
    expect(check({ "static/x.js": "process.env.SUPABASE_SERVICE_ROLE_KEY" }).output).toContain("the name SUPABASE_SERVICE_ROLE_KEY");
  });

  it("refuses an empty build", () => {
    expect(check({}).ok).toBe(false);
  });
});
