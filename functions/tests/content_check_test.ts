/**
 * The functions' content check and limit table against the message model's
 * Rust source: every constant and media limit of
 * `crates/message-model/src/limits.rs` has the same value in
 * `functions/_shared/whatsapp-limits.ts` (read from the Rust file, so a
 * change on either side fails here), and `checkOutbound` names the same
 * paths and codes as `check_outbound`'s own tests.
 */

import { deepStrictEqual, equal, ok } from "node:assert/strict";

import { checkOutbound } from "../_shared/content-check.ts";
import * as L from "../_shared/whatsapp-limits.ts";
import { REPO_ROOT } from "./helpers.ts";

const LIMITS_RS = new URL("crates/message-model/src/limits.rs", REPO_ROOT);

Deno.test("whatsapp-limits.ts mirrors crates/message-model/src/limits.rs", async () => {
  const source = await Deno.readTextFile(LIMITS_RS);
  const constants = [...source.matchAll(/pub const ([A-Z_]+): (?:usize|u64) = ([^;]+);/g)];
  ok(constants.length >= 19, `found ${constants.length} constants in limits.rs`);
  const units: Record<string, number> = { MB: 1024 * 1024, KB: 1024 };
  const evaluate = (expression: string) =>
    expression.split("*").map((part) => part.trim()).reduce(
      (product, part) => product * (units[part] ?? Number(part.replaceAll("_", ""))),
      1,
    );
  const exported = L as unknown as Record<string, unknown>;
  for (const [, name, value] of constants) {
    equal(exported[name], evaluate(value), `${name} in whatsapp-limits.ts`);
  }
  const media = [...source.matchAll(
    /MediaLimit \{\s*kind: "([a-z]+)",\s*max_bytes: ([^,]+),\s*mime_types: &\[([^\]]*)\],\s*caption: (true|false),/g,
  )].map(([, kind, max, types, caption]) => ({
    kind,
    maxBytes: evaluate(max),
    mimeTypes: [...types.matchAll(/"([^"]+)"/g)].map((match) => match[1]),
    caption: caption === "true",
  }));
  equal(media.length, 6, "six media kinds in limits.rs");
  deepStrictEqual(L.MEDIA_LIMITS.map((limit) => ({ ...limit, mimeTypes: [...limit.mimeTypes] })), media);
});

Deno.test("checkOutbound names the paths check_outbound names", () => {
  const paths = (content: unknown) => checkOutbound(content).map((problem) => [problem.path, problem.code]);
  deepStrictEqual(
    paths({
      kind: "buttons",
      text: "Pick one",
      buttons: [{ id: "a", title: "Fine" }, { id: "b", title: "This title is far too long" }],
    }),
    [["buttons[1].title", "too_long"]],
  );
  const button = (id: string) => ({ id, title: id });
  deepStrictEqual(paths({ kind: "buttons", text: "x", buttons: ["1", "2", "3", "4"].map(button) }), [[
    "buttons[3]",
    "too_many",
  ]]);
  const rows = Array.from({ length: 11 }, (_, n) => ({ id: String(n), title: String(n) }));
  deepStrictEqual(paths({ kind: "list", text: "x", button: "Open", sections: [{ rows }] }), [[
    "sections",
    "too_many",
  ]]);
  deepStrictEqual(paths({ kind: "text", text: "x".repeat(4097) }), [["text", "too_long"]]);
  deepStrictEqual(paths({ kind: "image", caption: "hi" }), [["url", "missing"]]);
  deepStrictEqual(paths({ kind: "sticker", storage_key: "k", caption: "no" }), [["caption", "invalid"]]);
  deepStrictEqual(paths({ kind: "sticker", storage_key: "k", size_bytes: 200 * 1024 }), [[
    "size_bytes",
    "too_large",
  ]]);
  deepStrictEqual(paths({ kind: "sticker", storage_key: "k", size_bytes: 200 * 1024, animated: true }), []);
  deepStrictEqual(paths({ kind: "image", storage_key: "k", mime_type: "image/gif" }), [[
    "mime_type",
    "mime_type",
  ]]);
  deepStrictEqual(paths({ kind: "template", name: "Bad Name", language: "en_US" }), [["name", "invalid"]]);
  deepStrictEqual(
    paths({
      kind: "template",
      name: "promo",
      language: "en",
      components: [{ type: "header", parameters: [{ type: "image", media: { caption: "x" } }] }],
    }),
    [["components[0].parameters[0].media.url", "missing"]],
  );
  deepStrictEqual(paths({ kind: "list_reply", id: "1", title: "One" }), [["kind", "inbound_only"]]);
  // Hostile shapes are problems with their path, never a crash.
  deepStrictEqual(paths({ kind: "buttons", text: 5, buttons: "no" }), [["text", "missing"], [
    "buttons",
    "missing",
  ]]);
  deepStrictEqual(paths({ kind: "location", latitude: "north", longitude: 0 }), [["latitude", "missing"]]);
  deepStrictEqual(paths(null), [["", "invalid"]]);
  deepStrictEqual(paths({ kind: "hologram" }), [["kind", "invalid"]]);
});
