/**
 * The browser's routing module is the Edge Functions' one: loaded from the
 * copied wasm-bindgen output, it validates and routes as the server does.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { starterDefinition } from "./definition";
import { loadRouting, type Routing, routingFrom } from "./routing";

const repo = join(__dirname, "..", "..", "..");
let routing: Routing;

beforeAll(async () => {
  const bytes = readFileSync(join(__dirname, "..", "generated", "core", "routing", "core_bg.wasm"));
  routing = routingFrom(await loadRouting(bytes));
});

describe("routing in the browser", () => {
  it("accepts the starter definition", () => {
    expect(routing.validateDefinition(starterDefinition("New bot")).errors).toEqual([]);
  });

  it("reports every error with its JSON path", () => {
    const definition = starterDefinition("New bot");
    (definition.nodes as Array<Record<string, unknown>>)[0]!.next = "nowhere";
    const report = routing.validateDefinition(definition);
    expect(report.errors).toEqual([expect.objectContaining({ path: "$.nodes[0].next", code: "unknown_node" })]);
  });

  it("routes the demo bot from the shared fixtures", () => {
    const definition = JSON.parse(readFileSync(join(repo, "crates", "routing", "fixtures", "demo-bot.json"), "utf8"));
    const first = routing.route({
      definitionKey: "demo",
      definition,
      state: null,
      message: { id: "m1", text: "hi" },
      contact: { wa_id: "+15550000000", name: "Ada" },
      now_ms: Date.parse("2026-11-26T10:00:00Z"),
      seed: 1,
    });
    const texts = first.actions.flatMap((action) => (action.type === "send_message" && "text" in action.message ? [action.message.text] : []));
    expect(texts[0]).toBe("Hi Ada! I'm the demo bot.");
    const second = routing.route({
      definitionKey: "demo",
      definition,
      state: first.state,
      message: { id: "m2", text: "1" },
      contact: { wa_id: "+15550000000", name: "Ada" },
      now_ms: Date.parse("2026-11-26T10:00:10Z"),
      seed: 2,
    });
    expect(JSON.stringify(second.actions)).toContain("We are open Monday to Friday");
  });
});
