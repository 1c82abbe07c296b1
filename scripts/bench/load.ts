/**
 * The simulated contacts of the load benchmark (scripts/bench/load.sh).
 *
 * Posts `count` inbound messages to the daemon's `POST /simulator/inbound`,
 * message `i` (counting from `first`) from contact `i mod contacts` to number
 * `i mod numbers`, with the WhatsApp id `LOAD-<tag>-<i>` and the text
 * `load <tag> <i>`. The id makes a retried request idempotent (the daemon
 * stores a message once per number and id), so a request that fails is
 * retried up to three times before the message counts as not accepted.
 *
 * Two ways to push:
 *
 * - `--concurrency C`: a closed loop, C requests in flight at all times, as
 *   fast as the daemon answers (the throughput phase);
 * - `--rate R`: an open loop, one message every 1/R seconds whatever the
 *   answers (the steady phase, for latency without a growing backlog), with
 *   at most 256 requests in flight.
 *
 * Prints one JSON object: accepted, failed, duplicates (answers saying the
 * daemon had the id already), seconds and the request times (which end at
 * the daemon's commit of the message and its outbox row).
 *
 * Usage: deno run --allow-net --allow-read scripts/bench/load.ts <daemon url> <token>
 *   <numbers file> --contacts N --first I --count N --tag T (--concurrency C | --rate R)
 *
 * @module
 */

const [baseUrl, token, numbersFile, ...rest] = Deno.args;
const option = (name: string): string | undefined => {
  const index = rest.indexOf(`--${name}`);
  return index >= 0 ? rest[index + 1] : undefined;
};
if (!baseUrl || !token || !numbersFile || option("count") === undefined || option("tag") === undefined) {
  console.error(
    "usage: load.ts <daemon url> <token> <numbers file> --contacts N --first I --count N --tag T " +
      "(--concurrency C | --rate R)",
  );
  Deno.exit(64);
}
const numbers = (await Deno.readTextFile(numbersFile)).split("\n").map((line) => line.trim()).filter((line) =>
  line.length > 0
);
const nContacts = Number(option("contacts") ?? 1000);
const first = Number(option("first") ?? 0);
const count = Number(option("count"));
const tag = option("tag") as string;
const concurrency = Number(option("concurrency") ?? 0);
const rate = Number(option("rate") ?? 0);
if (numbers.length === 0 || !(count > 0) || (concurrency > 0) === (rate > 0)) {
  console.error("load.ts: need numbers, a positive --count and exactly one of --concurrency and --rate");
  Deno.exit(64);
}

/** The most requests in flight in the open loop. */
const MAX_IN_FLIGHT = 256;
/** Attempts per message before it counts as not accepted. */
const ATTEMPTS = 4;

const requestMilliseconds: number[] = [];
let nFailed = 0;
let nDuplicates = 0;
const errors = new Map<string, number>();

/** A contact's E.164 number: +1 555 followed by seven digits. */
function contactNumber(index: number): string {
  return `+1555${String(index % nContacts).padStart(7, "0")}`;
}

async function push(index: number): Promise<void> {
  const body = JSON.stringify({
    to: numbers[index % numbers.length],
    from: contactNumber(index),
    name: `Contact ${index % nContacts}`,
    text: `load ${tag} ${index}`,
    message_id: `LOAD-${tag}-${index}`,
  });
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const started = performance.now();
    try {
      const response = await fetch(`${baseUrl}/simulator/inbound`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body,
      });
      const text = await response.text();
      if (response.status === 202) {
        requestMilliseconds.push(performance.now() - started);
        if ((JSON.parse(text) as { duplicate?: boolean }).duplicate === true && attempt === 1) nDuplicates++;
        return;
      }
      const key = `HTTP ${response.status}: ${text.slice(0, 120)}`;
      errors.set(key, (errors.get(key) ?? 0) + 1);
    } catch (error) {
      const key = error instanceof Error ? error.message.slice(0, 120) : String(error);
      errors.set(key, (errors.get(key) ?? 0) + 1);
    }
    await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
  }
  nFailed++;
}

const started = performance.now();
if (concurrency > 0) {
  let next = first;
  const worker = async () => {
    while (next < first + count) await push(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
} else {
  const inFlight = new Set<Promise<void>>();
  const intervalMs = 1000 / rate;
  for (let i = 0; i < count; i++) {
    const due = started + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
    const request = push(first + i).finally(() => inFlight.delete(request));
    inFlight.add(request);
  }
  await Promise.all(inFlight);
}
const seconds = (performance.now() - started) / 1000;

requestMilliseconds.sort((a, b) => a - b);
const percentile = (p: number) =>
  requestMilliseconds[Math.min(requestMilliseconds.length - 1, Math.floor(p * requestMilliseconds.length))] ??
    0;
console.log(JSON.stringify({
  accepted: requestMilliseconds.length,
  failed: nFailed,
  duplicates: nDuplicates,
  errors: Object.fromEntries(errors),
  seconds: Number(seconds.toFixed(3)),
  per_second: Number((requestMilliseconds.length / seconds).toFixed(1)),
  request_p50_ms: Number(percentile(0.5).toFixed(2)),
  request_p99_ms: Number(percentile(0.99).toFixed(2)),
}));
