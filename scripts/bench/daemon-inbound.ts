/**
 * Load for the session daemon's benchmark (scripts/bench/daemon.sh):
 * simulated contacts write to the daemon's numbers through
 * `POST /simulator/inbound`, `concurrency` requests at a time, and the
 * timings are printed as JSON. Each request returns once the daemon has
 * committed the message (and its outbox row) to Postgres, so the rate is
 * the daemon's stored-inbound throughput.
 *
 * Usage: deno run --allow-net --allow-read scripts/bench/daemon-inbound.ts \
 *   <daemon url> <token> <file of numbers, one E.164 per line> <messages> <concurrency>
 *
 * @module
 */

const [baseUrl, token, numbersFile, countText, concurrencyText] = Deno.args;
if (!baseUrl || !token || !numbersFile || !countText || !concurrencyText) {
  throw new Error("usage: daemon-inbound.ts <daemon url> <token> <numbers file> <messages> <concurrency>");
}
const numbers = (await Deno.readTextFile(numbersFile)).split("\n").map((line) => line.trim()).filter((
  line,
) => line.length > 0);
const count = Number(countText);
const concurrency = Number(concurrencyText);

const latencies: number[] = [];
let failures = 0;
let next = 0;

async function worker(): Promise<void> {
  while (true) {
    const index = next++;
    if (index >= count) return;
    const to = numbers[index % numbers.length];
    const from = `+1777${String(index).padStart(7, "0")}`;
    const started = performance.now();
    const response = await fetch(`${baseUrl}/simulator/inbound`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ to, from, name: "Bench", text: `bench ${index}` }),
    });
    await response.body?.cancel();
    if (response.status === 202) {
      latencies.push(performance.now() - started);
    } else {
      failures++;
    }
  }
}

const started = performance.now();
await Promise.all(Array.from({ length: concurrency }, () => worker()));
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const percentile = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
console.log(JSON.stringify({
  messages: latencies.length,
  failures,
  seconds: Number(seconds.toFixed(3)),
  per_second: Number((latencies.length / seconds).toFixed(1)),
  p50_ms: Number(percentile(0.5).toFixed(2)),
  p99_ms: Number(percentile(0.99).toFixed(2)),
}));
