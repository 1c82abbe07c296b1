// Writes docs/benchmarks.md from one benchmark run: criterion's estimates
// (native), scripts/bench/wasm-bench.ts's JSON (Wasm in Deno) and
// scripts/bench/wasm-modules.sh's table (module sizes and instantiation).
//   deno run --allow-read --allow-write --allow-env --allow-run scripts/bench/report.ts \
//     <criterion dir> <wasm-bench.json> <wasm-modules.md>
import { markedSections } from "./section.ts";
const [criterionDir, wasmJsonPath, modulesTablePath] = Deno.args;
const root = new URL("../../", import.meta.url);

interface Estimate {
  id: string;
  meanNs: number;
}

async function criterionEstimates(dir: string): Promise<Map<string, Estimate>> {
  const estimates = new Map<string, Estimate>();
  async function walk(path: string) {
    for await (const entry of Deno.readDir(path)) {
      const child = `${path}/${entry.name}`;
      if (entry.isDirectory && entry.name === "new") {
        const benchmark = JSON.parse(
          await Deno.readTextFile(`${child}/benchmark.json`),
        );
        const estimate = JSON.parse(
          await Deno.readTextFile(`${child}/estimates.json`),
        );
        estimates.set(benchmark.full_id, {
          id: benchmark.full_id,
          meanNs: estimate.mean.point_estimate,
        });
      } else if (entry.isDirectory) {
        await walk(child);
      }
    }
  }
  await walk(dir);
  return estimates;
}

const native = await criterionEstimates(criterionDir);
const wasm = JSON.parse(await Deno.readTextFile(wasmJsonPath));
const modulesTable = await Deno.readTextFile(modulesTablePath);

const fmt = (value: number, digits = 2) => value.toFixed(digits);
const perSecond = (ns: number) => Math.round(1e9 / ns).toLocaleString("en-US");

const routingRows: string[] = [];
for (
  const [name, result] of Object.entries(wasm.routing) as Array<
    [string, { inside_ns: number; boundary_ns: number }]
  >
) {
  const nativeEstimate = native.get(`route_500_nodes_200_triggers/${name}`);
  if (nativeEstimate === undefined) {
    throw new Error(`no native estimate for ${name}`);
  }
  routingRows.push(
    `| ${name} | ${fmt(nativeEstimate.meanNs / 1000)} | ${perSecond(nativeEstimate.meanNs)} | ${
      fmt(result.inside_ns / 1000)
    } | ${perSecond(result.inside_ns)} | **${fmt(result.inside_ns / nativeEstimate.meanNs)}×** | ${
      fmt(result.boundary_ns / 1000)
    } | ${fmt(result.boundary_ns / nativeEstimate.meanNs)}× |`,
  );
}
const compileNative = native.get("compile_500_nodes_200_triggers");
const sweepNative = [...native.values()].find((estimate) => estimate.id.startsWith("evaluate_all"));
if (compileNative === undefined || sweepNative === undefined) {
  throw new Error("missing native estimates");
}

// The targets of the issue, met or not, from the figures below.
const ratios = Object.entries(wasm.routing as Record<string, { inside_ns: number }>).map((
  [name, result],
) => ({
  name,
  ratio: result.inside_ns / (native.get(`route_500_nodes_200_triggers/${name}`)?.meanNs ?? NaN),
}));
const worstRatio = ratios.reduce((worst, entry) => entry.ratio > worst.ratio ? entry : worst);
const moduleRows = modulesTable.split("\n").filter((line) => /^\| (routing|health,alerting) \|/.test(line))
  .map((line) => line.split("|").map((cell) => cell.trim()));
const verdict = (ok: boolean) => ok ? "met" : "**missed**";
const targets = [
  `| Wasm routing within 1.5× of native | worst ${fmt(worstRatio.ratio)}× (${worstRatio.name}); ${
    ratios.filter((entry) => entry.ratio <= 1.5).length
  } of ${ratios.length} message kinds within | ${verdict(worstRatio.ratio <= 1.5)} |`,
  `| 10,000-number sweep ≤ 50 ms in Wasm | ${fmt(wasm.health_sweep_10000_ms)} ms | ${
    verdict(wasm.health_sweep_10000_ms <= 50)
  } |`,
  ...moduleRows.map((cells) =>
    `| module \`${cells[1]}\` ≤ 250 KB gzipped, ≤ 30 ms to instantiate | ${
      (Number(cells[3]) / 1000).toFixed(1)
    } KB, ${cells[4]} ms | ${verdict(Number(cells[3]) <= 250_000 && Number(cells[4]) <= 30)} |`
  ),
];

const cpu = Deno.env.get("CPU_MODEL")?.trim() || "unknown CPU";
const rustc = new TextDecoder().decode(
  (await new Deno.Command("rustc", { args: ["--version"] }).output()).stdout,
).trim();
const today = new Date().toISOString().slice(0, 10);

const markdown = `# Benchmarks

Figures from one run of \`./scripts/bench/run.sh\` on ${today}: ${cpu}, ${navigator.hardwareConcurrency} cores,
${rustc}, Deno ${Deno.version.deno} (V8 ${Deno.version.v8}). Native numbers are criterion means
(\`cargo bench -p routing --bench routing\`, \`cargo bench -p health --bench sweep\`, release profile, opt-level
"s"); Wasm numbers are medians from \`scripts/bench/wasm-bench.ts\` on the production modules
(\`functions/_shared/core/{routing,operations}\`, wasm-opt -Oz) loaded as the Edge Functions load it. Re-run the script to refresh
this file; it rewrites it whole.

## Targets

| target | measured | |
|---|---|---|
${targets.join("\n")}

## Routing decisions: 500-node bot, 200 triggers

The same bot (\`crates/routing/fixtures/bench-500-nodes.json\`) and the same messages
(\`crates/routing/fixtures/bench-requests.json\`) on both sides. "Inside Wasm" routes repeatedly inside the
module (the pure decision, comparable with native); "through the boundary" is one \`route()\` call from
TypeScript per decision, including the conversion of the input and output objects (what
\`route-message\` pays). Target: Wasm within 1.5× of native.

| message | native µs | native decisions/s | Wasm µs | Wasm decisions/s | Wasm ÷ native | boundary µs | boundary ÷ native |
|---|---|---|---|---|---|---|---|
${routingRows.join("\n")}

Compiling the bot (validation and indexes, once per isolate and bot version, cached by
\`definition_key\`): native ${fmt(compileNative.meanNs / 1e6)} ms, Wasm ${fmt(wasm.compile_500_nodes_ms)} ms
(${fmt(wasm.compile_500_nodes_ms / (compileNative.meanNs / 1e6))}×).

## Health sweep: 10,000 numbers

\`evaluate_all\` over \`crates/health/fixtures/bench-10000-snapshots.json\`. Target: ≤ 50 ms in Wasm (the edge
runtime allows 2 s of CPU per request). The Wasm figure includes \`JSON.stringify\` of the input and
\`JSON.parse\` of the 10,000 verdicts.

| | time (ms) |
|---|---|
| native | ${fmt(sweepNative.meanNs / 1e6)} |
| Wasm through the boundary | ${fmt(wasm.health_sweep_10000_ms)} |
| ratio | ${fmt(wasm.health_sweep_10000_ms / (sweepNative.meanNs / 1e6))}× |

## Wasm modules: size and instantiation

Each variant built from \`crates/core-wasm\` with the named features, wasm-bindgen \`--target web\`, wasm-opt
-Oz; gzip -9 for the compressed size. Instantiation is base64 decode + compile + \`initSync\` in a fresh Deno
process, the way \`functions/_shared/routing.ts\` and \`operations.ts\` load them (median and worst of 15 processes). Targets: ≤ 250 KB
gzipped, ≤ 30 ms to instantiate. See docs/adr/0004 for the decision these figures support.

${modulesTable.trim()}

## Commands

\`\`\`sh
./scripts/bench/run.sh                   # everything below, then rewrites this file
cargo bench -p routing --bench routing   # native routing (criterion)
cargo bench -p health --bench sweep      # native health sweep (criterion)
deno run --allow-read scripts/bench/wasm-bench.ts
./scripts/bench/wasm-modules.sh 15
\`\`\`
`;
// Sections written by other benchmark scripts (the daemon, the load run)
// are kept as they are.
const documentUrl = new URL("docs/benchmarks.md", root);
let kept: string[] = [];
try {
  kept = markedSections(await Deno.readTextFile(documentUrl));
} catch (error) {
  if (!(error instanceof Deno.errors.NotFound)) throw error;
}
await Deno.writeTextFile(documentUrl, [markdown.trimEnd(), ...kept].join("\n\n") + "\n");
console.log("wrote docs/benchmarks.md");
