/**
 * JSON paths as the routing core reports them (`$.nodes[2].options[0].next`,
 * `$["odd key"]`), and where they point in a JSON text, so a validation
 * error can select the offending field in the raw editor and focus it in
 * the structured one.
 */

export type PathSegment = string | number;

/** Parses `$.a[0].b` / `$['a b']` / `$["a"]` into segments; null when malformed. */
export function parsePath(path: string): PathSegment[] | null {
  if (!path.startsWith("$")) return null;
  const segments: PathSegment[] = [];
  let index = 1;
  while (index < path.length) {
    const character = path[index];
    if (character === ".") {
      const match = /^[^.[\]]+/.exec(path.slice(index + 1));
      if (match === null) return null;
      segments.push(match[0]);
      index += 1 + match[0].length;
    } else if (character === "[") {
      const rest = path.slice(index + 1);
      const number = /^(\d+)\]/.exec(rest);
      if (number !== null) {
        segments.push(Number(number[1]));
        index += 1 + number[0].length;
        continue;
      }
      const quoted = /^(["'])((?:\\.|(?!\1).)*)\1\]/.exec(rest);
      if (quoted === null) return null;
      segments.push(quoted[2]!.replace(/\\(.)/g, "$1"));
      index += 1 + quoted[0].length;
    } else {
      return null;
    }
  }
  return segments;
}

/** Formats segments as a path the way the core does (`$.a[0].b`, quoting odd keys). */
export function formatPath(segments: readonly PathSegment[]): string {
  let path = "$";
  for (const segment of segments) {
    if (typeof segment === "number") path += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) path += `.${segment}`;
    else path += `[${JSON.stringify(segment)}]`;
  }
  return path;
}

/** A stable DOM id for the control editing a path. */
export function fieldIdFor(path: string): string {
  return `def${path.replace(/^\$/, "").replace(/[^A-Za-z0-9_]+/g, "-").replace(/-+$/, "")}`;
}

/**
 * The longest prefix of `path` (itself included) found in `known`, so an
 * error deep inside a part the form shows as one control lands on that
 * control. Falls back to `$`.
 */
export function nearestKnownPath(path: string, known: ReadonlySet<string>): string {
  const segments = parsePath(path);
  if (segments === null) return "$";
  for (let length = segments.length; length >= 0; length--) {
    const candidate = formatPath(segments.slice(0, length));
    if (known.has(candidate)) return candidate;
  }
  return "$";
}

// ---------------------------------------------------------------------------
// Locating a path in JSON text
// ---------------------------------------------------------------------------

/** Where a value (and, for object members, its key) sits in the text. */
interface Located {
  start: number;
  end: number;
  keyStart?: number;
  children?: Map<PathSegment, Located>;
}

/** A JSON syntax error at an offset. */
export class JsonSyntaxError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
    this.name = "JsonSyntaxError";
  }
}

/** Parses JSON text, keeping every value's position; throws {@link JsonSyntaxError}. */
export function parseWithPositions(text: string): { value: unknown; root: Located } {
  let index = 0;
  const fail = (message: string): never => {
    throw new JsonSyntaxError(message, Math.min(index, text.length));
  };
  const skipSpace = () => {
    while (index < text.length && /\s/.test(text[index]!)) index++;
  };
  const parseString = (): string => {
    if (text[index] !== '"') fail("expected a string");
    const start = index;
    index++;
    while (index < text.length && text[index] !== '"') {
      if (text[index] === "\\") index++;
      else if (text.charCodeAt(index) < 0x20) fail("control character in a string");
      index++;
    }
    if (index >= text.length) fail("unterminated string");
    index++;
    try {
      return JSON.parse(text.slice(start, index)) as string;
    } catch {
      index = start;
      return fail("invalid escape in a string");
    }
  };
  const parseValue = (): { value: unknown; located: Located } => {
    skipSpace();
    const start = index;
    const character = text[index];
    if (character === "{") {
      index++;
      const value: Record<string, unknown> = {};
      const children = new Map<PathSegment, Located>();
      skipSpace();
      if (text[index] === "}") {
        index++;
        return { value, located: { start, end: index, children } };
      }
      for (;;) {
        skipSpace();
        const keyStart = index;
        const key = parseString();
        skipSpace();
        if (text[index] !== ":") fail(`expected ":" after the key "${key}"`);
        index++;
        const member = parseValue();
        value[key] = member.value;
        children.set(key, { ...member.located, keyStart });
        skipSpace();
        if (text[index] === ",") {
          index++;
          continue;
        }
        if (text[index] === "}") {
          index++;
          return { value, located: { start, end: index, children } };
        }
        fail('expected "," or "}" in an object');
      }
    }
    if (character === "[") {
      index++;
      const value: unknown[] = [];
      const children = new Map<PathSegment, Located>();
      skipSpace();
      if (text[index] === "]") {
        index++;
        return { value, located: { start, end: index, children } };
      }
      for (;;) {
        const item = parseValue();
        children.set(value.length, item.located);
        value.push(item.value);
        skipSpace();
        if (text[index] === ",") {
          index++;
          continue;
        }
        if (text[index] === "]") {
          index++;
          return { value, located: { start, end: index, children } };
        }
        fail('expected "," or "]" in an array');
      }
    }
    if (character === '"') {
      const value = parseString();
      return { value, located: { start, end: index } };
    }
    const literal = /^(-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(index));
    if (literal === null) fail(index >= text.length ? "unexpected end of the text" : "unexpected character");
    index += literal![0].length;
    return { value: JSON.parse(literal![0]) as unknown, located: { start, end: index } };
  };
  const result = parseValue();
  skipSpace();
  if (index < text.length) fail("unexpected text after the JSON value");
  return { value: result.value, root: result.located };
}

/** A range in the text: what to select for a path. */
export interface TextRange {
  start: number;
  end: number;
  /** False when the path itself is absent (e.g. a missing field) and the range is its nearest ancestor. */
  exact: boolean;
}

/** Finds the range of `path` in `text` (the key and value for object members). */
export function locatePath(text: string, path: string): TextRange | null {
  let root: Located;
  try {
    root = parseWithPositions(text).root;
  } catch {
    return null;
  }
  const segments = parsePath(path) ?? [];
  let current = root;
  for (const segment of segments) {
    const next = current.children?.get(segment);
    if (next === undefined) return { start: current.start, end: current.end, exact: false };
    current = next;
  }
  return { start: current.keyStart ?? current.start, end: current.end, exact: true };
}

/** 1-based line and column of an offset. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  return { line, column };
}
