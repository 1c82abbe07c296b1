import { describe, expect, it } from "vitest";
import {
  fieldIdFor,
  formatPath,
  JsonSyntaxError,
  lineAndColumn,
  locatePath,
  nearestKnownPath,
  parsePath,
  parseWithPositions,
} from "./json-path";

describe("parsePath and formatPath", () => {
  it("reads the core's paths", () => {
    expect(parsePath("$")).toEqual([]);
    expect(parsePath("$.nodes[2].options[0].next")).toEqual(["nodes", 2, "options", 0, "next"]);
    expect(parsePath('$.vars["odd key"]')).toEqual(["vars", "odd key"]);
    expect(parsePath("$['a.b']")).toEqual(["a.b"]);
    expect(parsePath("nodes[0]")).toBeNull();
    expect(parsePath("$.nodes[x]")).toBeNull();
  });

  it("writes them back, quoting keys that need it", () => {
    expect(formatPath(["nodes", 2, "next"])).toBe("$.nodes[2].next");
    expect(formatPath(["vars", "odd key"])).toBe('$.vars["odd key"]');
    for (const path of ["$", "$.a[0].b", '$.x["y z"][3]']) expect(formatPath(parsePath(path)!)).toBe(path);
  });

  it("turns a path into a DOM id", () => {
    expect(fieldIdFor("$.nodes[0].next")).toBe("def-nodes-0-next");
    expect(fieldIdFor("$.start")).toBe("def-start");
  });

  it("finds the nearest path the form knows", () => {
    const known = new Set(["$", "$.nodes[1]", "$.nodes[1].options"]);
    expect(nearestKnownPath("$.nodes[1].options[0].next", known)).toBe("$.nodes[1].options");
    expect(nearestKnownPath("$.nodes[1].list.sections", known)).toBe("$.nodes[1]");
    expect(nearestKnownPath("$.other", known)).toBe("$");
    expect(nearestKnownPath("garbage", known)).toBe("$");
  });
});

describe("parseWithPositions and locatePath", () => {
  const text = `{
  "name": "Demo",
  "nodes": [
    { "id": "a", "next": "nowhere" },
    { "id": "b" }
  ]
}`;

  it("parses like JSON.parse", () => {
    expect(parseWithPositions(text).value).toEqual(JSON.parse(text));
    expect(parseWithPositions(' [1, -2.5e3, true, null, "x\\n"] ').value).toEqual([1, -2500, true, null, "x\n"]);
  });

  it("selects a member's key and value", () => {
    const range = locatePath(text, "$.nodes[0].next")!;
    expect(range.exact).toBe(true);
    expect(text.slice(range.start, range.end)).toBe('"next": "nowhere"');
  });

  it("selects an array item", () => {
    const range = locatePath(text, "$.nodes[1]")!;
    expect(text.slice(range.start, range.end)).toBe('{ "id": "b" }');
  });

  it("falls back to the nearest ancestor of a missing field", () => {
    const range = locatePath(text, "$.nodes[1].text")!;
    expect(range.exact).toBe(false);
    expect(text.slice(range.start, range.end)).toBe('{ "id": "b" }');
  });

  it("reports where the JSON breaks", () => {
    const broken = '{\n  "a": 1,\n  "b": }';
    expect(() => parseWithPositions(broken)).toThrow(JsonSyntaxError);
    try {
      parseWithPositions(broken);
    } catch (error) {
      const { offset } = error as JsonSyntaxError;
      expect(lineAndColumn(broken, offset)).toEqual({ line: 3, column: 8 });
    }
    expect(locatePath(broken, "$.a")).toBeNull();
    expect(() => parseWithPositions('{"a": 1} x')).toThrow(/after the JSON value/);
    expect(() => parseWithPositions('{"a": "unterminated}')).toThrow(/unterminated/);
  });
});
