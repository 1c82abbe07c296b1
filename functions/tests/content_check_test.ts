/**
 * The functions' content check: malformed content is named at its exact
 * path by the validators generated from the model's JSON Schema, and the
 * limits come from the Rust model itself (`checkContent` through Wasm), so
 * `checkOutbound` names the same paths and codes as `check_outbound`'s own
 * tests.
 */

import { deepStrictEqual, equal, ok } from "node:assert/strict";

import { checkOutbound } from "../_shared/content-check.ts";
import * as L from "../_shared/whatsapp-limits.ts";

Deno.test("malformed content is named at its exact path by the generated validators", () => {
  const problems = (content: unknown) =>
    checkOutbound(content).map((problem) => [problem.path, problem.code]);
  deepStrictEqual(
    problems({ kind: "buttons", text: "Pick", buttons: [{ id: "a", title: "A" }, { id: "b" }] }),
    [
      ["buttons[1].title", "missing"],
    ],
  );
  deepStrictEqual(problems({ kind: "image", url: 3 }), [["url", "invalid"]]);
  deepStrictEqual(problems({ kind: "location", latitude: "north", longitude: 1 }), [["latitude", "invalid"]]);
  deepStrictEqual(
    problems({
      kind: "template",
      name: "order_update",
      language: "en_US",
      components: [{ type: "body", parameters: [{ type: "text" }] }],
    }).slice(0, 1),
    [["components[0].parameters[0].text", "missing"]],
  );
  deepStrictEqual(problems({ kind: "hologram" }), [["kind", "invalid"]]);
  deepStrictEqual(problems("hello"), [["", "invalid"]]);
  // The media limits the upload route uses are the generated ones.
  equal(L.mediaLimit("image")?.maxBytes, 5 * 1024 * 1024);
  ok(L.mediaLimit("sticker")?.mimeTypes.includes("image/webp"));
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
  deepStrictEqual(paths({ kind: "buttons", text: 5, buttons: "no" }), [["text", "invalid"], [
    "buttons",
    "invalid",
  ]]);
  deepStrictEqual(paths({ kind: "location", latitude: "north", longitude: 0 }), [["latitude", "invalid"]]);
  deepStrictEqual(paths(null), [["", "invalid"]]);
  deepStrictEqual(paths({ kind: "hologram" }), [["kind", "invalid"]]);
});
