// The Wasm side of the core benchmarks, on the production module exactly as
// the Edge Functions load it (functions/_shared/routing.ts and health.ts), over the same
// inputs as the native criterion benchmarks:
//   - routing decisions on the 500-node, 200-trigger bot, per message kind:
//     inside the module (bench_route_repeatedly) and through the JS boundary
//     (route(), what a function pays per call);
//   - a health sweep (evaluate_all) over 10,000 numbers through the boundary.
// Prints one JSON object. Run by scripts/bench/run.sh.
//   deno run --allow-read scripts/bench/wasm-bench.ts
import { route } from "../../functions/_shared/routing.ts";
import { health } from "../../functions/_shared/health.ts";
import * as core from "../../functions/_shared/core/routing/core.js";

const root = new URL("../../", import.meta.url);
const readJson = async (path: string) => JSON.parse(await Deno.readTextFile(new URL(path, root)));

const definition = await readJson(
  "crates/routing/fixtures/bench-500-nodes.json",
);
const requests: Array<{ name: string; request: Record<string, unknown> }> = await readJson(
  "crates/routing/fixtures/bench-requests.json",
);
const sweep = await readJson(
  "crates/health/fixtures/bench-10000-snapshots.json",
);

function timeMedian(samples: number, run: () => void): number {
  const times: number[] = [];
  for (let sample = 0; sample < samples; sample++) {
    const started = performance.now();
    run();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const definitionKey = "bench-500-nodes";
const routing: Record<string, { inside_ns: number; boundary_ns: number }> = {};
for (const { name, request } of requests) {
  const input = { ...request, definition_key: definitionKey, definition };
  // Warm up (and compile the bot once into the cache).
  core.bench_route_repeatedly(JSON.stringify(input), 2_000);
  const cachedInput = JSON.stringify({ ...request, definition_key: definitionKey });
  const repetitions = 20_000;
  const insideMs = timeMedian(
    7,
    () => core.bench_route_repeatedly(cachedInput, repetitions),
  );
  const calls = 5_000;
  const boundaryInput = {
    definitionKey,
    definition,
    ...(request as Omit<
      Parameters<typeof route>[0],
      "definitionKey" | "definition"
    >),
  };
  for (let call = 0; call < 1_000; call++) route(boundaryInput);
  const boundaryMs = timeMedian(7, () => {
    for (let call = 0; call < calls; call++) route(boundaryInput);
  });
  routing[name] = {
    inside_ns: (insideMs / repetitions) * 1e6,
    boundary_ns: (boundaryMs / calls) * 1e6,
  };
}

for (let warm = 0; warm < 3; warm++) health("evaluate_all", sweep);
const sweepMs = timeMedian(15, () => health("evaluate_all", sweep));

const compileMs = timeMedian(
  15,
  () => core.bench_route_repeatedly(JSON.stringify({ ...requests[0].request, definition }), 1),
);

console.log(
  JSON.stringify(
    {
      routing,
      health_sweep_10000_ms: sweepMs,
      compile_500_nodes_ms: compileMs,
    },
    null,
    2,
  ),
);
