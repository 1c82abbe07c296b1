/**
 * Tests of the local gateway's fault-injection knob
 * (`WABOT_GATEWAY_FAULT_RATE`, used by `scripts/chaos.sh` only): the parsing
 * of the rate, the draw, and a gateway subprocess answering 503 before or
 * after its function ran. Like `gateway_test.ts` they need no database.
 */

import { deepStrictEqual, equal, match, ok, throws } from "node:assert/strict";

import { call, type Gateway, gatewayEnv, runGatewayToExit, startGateway } from "./helpers.ts";
import { drawFault, FAULT_RATE_VARIABLE, parseFaultRate } from "../../supabase/local/gateway.ts";

/** A function that says on the gateway's stdout that it ran. */
const LOGGING_FUNCTION = `
export default {
  fetch(): Response {
    console.log("logging function ran");
    return Response.json({ ran: true });
  },
};
`;

const TEST_CONFIG = `
project_id = "gateway-faults-test"

[functions.logging]
verify_jwt = false
entrypoint = "./logging/index.ts"
`;

async function writeTestConfig(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "gateway-faults-test-" });
  await Deno.mkdir(`${dir}/logging`);
  await Deno.writeTextFile(`${dir}/logging/index.ts`, LOGGING_FUNCTION);
  await Deno.writeTextFile(`${dir}/config.toml`, TEST_CONFIG);
  return `${dir}/config.toml`;
}

/** A random source that returns the given values in turn. */
function sequence(...values: number[]): () => number {
  let index = 0;
  return () => values[index++ % values.length];
}

Deno.test("the fault rate is off when unset and must be a number from 0 to 1", () => {
  equal(parseFaultRate(undefined), 0);
  equal(parseFaultRate(""), 0);
  equal(parseFaultRate("0"), 0);
  equal(parseFaultRate("0.1"), 0.1);
  equal(parseFaultRate("1"), 1);
  for (const bad of ["-0.1", "1.5", "ten percent", "NaN", "Infinity"]) {
    throws(() => parseFaultRate(bad), /WABOT_GATEWAY_FAULT_RATE must be a number from 0 to 1/, bad);
  }
});

Deno.test("a fault strikes when the first draw is below the rate, before or after by the second", () => {
  equal(drawFault(0, sequence(0)), null, "a rate of 0 never faults");
  equal(drawFault(0.1, sequence(0.1)), null, "a draw equal to the rate passes");
  equal(drawFault(0.1, sequence(0.05, 0.2)), "before");
  equal(drawFault(0.1, sequence(0.05, 0.7)), "after");
  equal(drawFault(1, sequence(0.999, 0.5)), "after");
  let faults = 0;
  for (let i = 0; i < 10_000; i++) if (drawFault(0.1) !== null) faults++;
  ok(faults > 800 && faults < 1200, `about 10% of 10,000 draws fault, got ${faults}`);
});

Deno.test("the gateway refuses a fault rate out of range at start", async () => {
  const env = { ...await gatewayEnv(), [FAULT_RATE_VARIABLE]: "2" };
  const output = await runGatewayToExit(env);
  equal(output.code, 1);
  match(new TextDecoder().decode(output.stderr), /WABOT_GATEWAY_FAULT_RATE must be a number from 0 to 1/);
});

Deno.test("with a fault rate of 1 every function call is a 503, before or after the function ran", async () => {
  const configPath = await writeTestConfig();
  let gateway: Gateway | null = null;
  try {
    gateway = await startGateway({ configPath, env: { [FAULT_RATE_VARIABLE]: "1" } });
    ok(gateway.stdoutLines().some((line) => line.includes("gateway injecting faults: 100%")));
    const where: Record<string, number> = { before: 0, after: 0 };
    for (let i = 0; i < 40; i++) {
      const result = await call(gateway.functionUrl("logging"), { method: "POST", body: {} });
      equal(result.status, 503);
      deepStrictEqual(result.json, { error: "injected fault (WABOT_GATEWAY_FAULT_RATE)" });
      const fault = result.headers.get("x-wabot-fault") ?? "none";
      ok(fault === "before" || fault === "after", `x-wabot-fault is before or after, got ${fault}`);
      where[fault]++;
    }
    ok(where.before > 0 && where.after > 0, `both kinds of fault happen: ${JSON.stringify(where)}`);
    const notFound = await call(gateway.functionUrl("no-such-function"));
    equal(notFound.status, 404, "a call that finds no function is not faulted");

    // The function ran exactly for the faults that struck after it.
    await gateway.stop();
    const ran = gateway.stdoutLines().filter((line) => line === "logging function ran").length;
    equal(ran, where.after);
    gateway = null;
  } finally {
    await gateway?.stop();
  }
});

Deno.test("without the knob no call is faulted", async () => {
  const configPath = await writeTestConfig();
  const gateway = await startGateway({ configPath });
  try {
    for (let i = 0; i < 20; i++) {
      const result = await call(gateway.functionUrl("logging"), { method: "POST", body: {} });
      equal(result.status, 200, result.text);
      equal(result.headers.get("x-wabot-fault"), null);
    }
  } finally {
    await gateway.stop();
  }
});
