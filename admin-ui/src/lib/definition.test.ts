import { describe, expect, it } from "vitest";
import { getIn, type Json, nodeIds, setIn, starterDefinition } from "./definition";
import { structuredControls, controlForPath } from "../app/(admin)/bots/[botId]/fields";

describe("setIn and getIn", () => {
  const root: Json = { nodes: [{ id: "a", next: "b" }, { id: "b" }], name: "x" };
  it("replace without touching the original", () => {
    const next = setIn(root, ["nodes", 0, "next"], "c");
    expect(getIn(next, ["nodes", 0, "next"])).toBe("c");
    expect(getIn(root, ["nodes", 0, "next"])).toBe("b");
  });
  it("remove object members and array items", () => {
    expect(getIn(setIn(root, ["nodes", 0, "next"], undefined), ["nodes", 0])).toEqual({ id: "a" });
    expect(nodeIds(setIn(root, ["nodes", 0], undefined))).toEqual(["b"]);
  });
  it("create what is missing", () => {
    expect(setIn({}, ["triggers", 0, "match"], "any")).toEqual({ triggers: [{ match: "any" }] });
  });
});

describe("structured editor controls", () => {
  const definition = {
    ...starterDefinition("Bot"),
    commands: { restart: ["again"] },
    nodes: [
      { id: "welcome", type: "message", text: "Hi", next: "menu", buttons: [{ id: "x", title: "X" }], variants: ["Hello"] },
      { id: "menu", type: "menu", text: "?", options: [{ key: "1", next: "welcome" }], nxt: "typo" },
    ],
  };
  const controls = structuredControls(definition);

  it("give each field the form shows its own control", () => {
    expect(controlForPath("$.nodes[0].next", controls)).toBe("def-nodes-0-next");
    expect(controlForPath("$.nodes[1].options[0].next", controls)).toBe("def-nodes-1-options-0-next");
    expect(controlForPath("$.triggers[0].start", controls)).toBe("def-triggers-0-start");
    expect(controlForPath("$.name", controls)).toBe("def-name");
    expect(controlForPath("$.nodes[0].buttons[0].title", controls)).toBe("def-nodes-0-buttons-0-title");
    expect(controlForPath("$.nodes[0].buttons[0]", controls)).toBe("def-nodes-0-buttons-0-title");
    expect(controlForPath("$.nodes[0].buttons", controls)).toBe("def-nodes-0-buttons--add");
  });

  it("send problems in fields without a control to the nearest JSON box or parent", () => {
    expect(controlForPath("$.nodes[0].variants[0]", controls)).toBe("def-nodes-0--extras");
    expect(controlForPath("$.nodes[1].nxt", controls)).toBe("def-nodes-1--extras");
    expect(controlForPath("$.commands.restart[0]", controls)).toBe("def--extras");
    expect(controlForPath("$.nodes[1].options[5]", controls)).toBe("def-nodes-1-options--add");
    expect(controlForPath("$", controls)).toBe("def-start");
    expect(controlForPath("$.nodes", controls)).toBe("def-add-node");
  });
});
