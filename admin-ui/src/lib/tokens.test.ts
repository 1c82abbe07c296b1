/**
 * The design tokens agree across globals.css, src/lib/tokens.ts (the /design
 * page) and docs/neo-sketch-design-system.md; components use no raw token;
 * dark mode swaps only semantic tokens; and the colour pairs the components
 * use meet WCAG AA in both themes.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ALL_TOKENS, SEMANTIC_TOKENS } from "./tokens";

const appDir = join(__dirname, "..", "app");
const globals = readFileSync(join(appDir, "globals.css"), "utf8");
const componentCss = ["components.css", "shell.css"].map((file) => readFileSync(join(appDir, file), "utf8")).join("\n");
const doc = readFileSync(join(__dirname, "..", "..", "..", "docs", "neo-sketch-design-system.md"), "utf8");

function declarations(css: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const match of css.matchAll(/(--ns-[a-z0-9-]+)\s*:\s*([^;]+);/g)) map.set(match[1]!, match[2]!.trim());
  return map;
}

/** The body of the block that starts with `selector`. */
function block(css: string, selector: string): string {
  const start = css.indexOf(selector);
  if (start < 0) throw new Error(`no block ${selector}`);
  const open = css.indexOf("{", start);
  let depth = 0;
  for (let index = open; index < css.length; index++) {
    if (css[index] === "{") depth++;
    if (css[index] === "}" && --depth === 0) return css.slice(open + 1, index);
  }
  throw new Error(`unclosed block ${selector}`);
}

const withoutComments = globals.replace(/\/\*[\s\S]*?\*\//g, "");
const darkExplicit = declarations(block(withoutComments, ':root[data-theme="dark"]'));
const darkMedia = declarations(block(withoutComments, "@media (prefers-color-scheme: dark)"));
// Light values: every declaration outside the dark blocks.
const light = declarations(
  withoutComments
    .replace(block(withoutComments, ':root[data-theme="dark"]'), "")
    .replace(block(withoutComments, "@media (prefers-color-scheme: dark)"), ""),
);
const dark = new Map([...light, ...darkExplicit]);

function resolve(values: Map<string, string>, name: string): string {
  let value = values.get(name);
  for (let depth = 0; value !== undefined && depth < 10; depth++) {
    const reference = /^var\((--ns-[a-z0-9-]+)\)$/.exec(value);
    if (reference === null) return value;
    value = values.get(reference[1]!);
  }
  throw new Error(`cannot resolve ${name}`);
}

function luminance(hex: string): number {
  const clean = hex.replace("#", "");
  if (!/^[0-9a-f]{6}$/i.test(clean)) throw new Error(`not a hex colour: ${hex}`);
  const channel = (offset: number) => {
    const value = parseInt(clean.slice(offset, offset + 2), 16) / 255;
    return value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
}

function contrast(values: Map<string, string>, foreground: string, background: string): number {
  const [a, b] = [luminance(resolve(values, foreground)), luminance(resolve(values, background))];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}

describe("tokens", () => {
  it("globals.css declares exactly the tokens the /design page lists", () => {
    const declared = new Set(declarations(globals).keys());
    const listed = new Set(ALL_TOKENS.map((token) => token.name));
    expect([...declared].filter((name) => !listed.has(name))).toEqual([]);
    expect([...listed].filter((name) => !declared.has(name))).toEqual([]);
  });

  it("docs/neo-sketch-design-system.md documents every token", () => {
    expect(ALL_TOKENS.map((token) => token.name).filter((name) => !new RegExp(`\`${name}\``).test(doc))).toEqual([]);
  });

  it("dark mode swaps only semantic tokens, the same ones both ways", () => {
    const semantic = new Set(SEMANTIC_TOKENS.map((token) => token.name));
    expect([...darkExplicit.keys()].filter((name) => !semantic.has(name))).toEqual([]);
    expect(Object.fromEntries(darkMedia)).toEqual(Object.fromEntries(darkExplicit));
  });

  it("components read no raw palette token", () => {
    expect(componentCss.match(/var\(--ns-raw-[a-z-]+\)/g) ?? []).toEqual([]);
    const layer3 = block(withoutComments, ":root {\n  --ns-shadow-1");
    expect(layer3.match(/var\(--ns-raw-[a-z-]+\)/g) ?? []).toEqual([]);
  });

  const textPairs: Array<[string, string]> = [
    ["--ns-foreground", "--ns-background"],
    ["--ns-surface-foreground", "--ns-surface"],
    ["--ns-muted-foreground", "--ns-background"],
    ["--ns-muted-foreground", "--ns-surface"],
    ["--ns-muted-foreground", "--ns-sunken"],
    ["--ns-link", "--ns-background"],
    ["--ns-link", "--ns-surface"],
    ...["success", "warning", "danger", "info"].flatMap((tone): Array<[string, string]> => [
      [`--ns-${tone}-text`, "--ns-background"],
      [`--ns-${tone}-text`, "--ns-surface"],
      [`--ns-${tone}-text`, "--ns-sunken"],
    ]),
    ...["primary", "secondary", "accent", "highlight", "neutral", "success", "warning", "danger", "info"].map(
      (fill): [string, string] => [`--ns-${fill}-foreground`, `--ns-${fill}`],
    ),
  ];

  for (const [theme, values] of [["light", light], ["dark", dark]] as const) {
    it(`meets WCAG AA for text in the ${theme} theme`, () => {
      const failing = textPairs
        .map(([foreground, background]) => ({ foreground, background, ratio: contrast(values, foreground, background) }))
        .filter((pair) => !(pair.ratio >= 4.5))
        .map((pair) => `${pair.foreground} on ${pair.background}: ${pair.ratio.toFixed(2)}`);
      expect(failing).toEqual([]);
    });

    it(`shows focus and outlines at 3:1 or more in the ${theme} theme`, () => {
      for (const background of ["--ns-background", "--ns-surface"]) {
        expect(contrast(values, "--ns-focus", background)).toBeGreaterThanOrEqual(3);
        expect(contrast(values, "--ns-border", background)).toBeGreaterThanOrEqual(3);
      }
    });
  }
});
