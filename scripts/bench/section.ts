// Replaces (or appends) one marked section of a Markdown document, so that
// several benchmark and reliability scripts can each refresh their own part
// of docs/benchmarks.md or docs/reliability.md without touching the rest.
//
//   deno run --allow-read --allow-write scripts/bench/section.ts \
//     docs/benchmarks.md daemon .local/bench-daemon/section.md
//
// The section sits between `<!-- section:NAME:begin -->` and
// `<!-- section:NAME:end -->`. The document is created when missing.

export function replaceSection(
  document: string,
  name: string,
  body: string,
): string {
  if (!/^[a-z0-9-]+$/.test(name)) {
    throw new Error(`section name "${name}" must be lower-case letters, digits and dashes`);
  }
  const begin = `<!-- section:${name}:begin -->`;
  const end = `<!-- section:${name}:end -->`;
  const block = `${begin}\n${body.trim()}\n${end}`;
  const start = document.indexOf(begin);
  if (start === -1) {
    return `${document.trimEnd()}\n\n${block}\n`;
  }
  const stop = document.indexOf(end, start);
  if (stop === -1) {
    throw new Error(`section "${name}" has a begin marker but no end marker`);
  }
  return document.slice(0, start) + block + document.slice(stop + end.length);
}

/** Every marked section of a document, in order, markers included. */
export function markedSections(document: string): string[] {
  const found = document.match(/<!-- section:([a-z0-9-]+):begin -->[\s\S]*?<!-- section:\1:end -->/g);
  return found ?? [];
}

if (import.meta.main) {
  const [documentPath, name, bodyPath] = Deno.args;
  if (!documentPath || !name || !bodyPath) {
    console.error("usage: section.ts DOCUMENT NAME BODY_FILE");
    Deno.exit(64);
  }
  let document = "";
  try {
    document = await Deno.readTextFile(documentPath);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const body = await Deno.readTextFile(bodyPath);
  await Deno.writeTextFile(documentPath, replaceSection(document, name, body));
  console.log(`wrote section "${name}" of ${documentPath}`);
}
