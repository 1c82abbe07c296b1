/**
 * The simulated contacts and the lease watcher of the chaos run
 * (`scripts/chaos.sh`).
 *
 * `load` pushes inbound messages at a steady rate through the daemons'
 * simulators, as WhatsApp would: every message has its own contact (so its
 * reply can be counted at the contact's side) and a fixed WhatsApp message
 * id, and a message the daemon did not acknowledge (the daemon is dead, the
 * database is down, the number is between two daemons) is delivered again
 * with the same id, to whichever daemon holds the number, until it is
 * acknowledged or `patience` seconds have passed. Like WhatsApp's
 * redelivery, each message backs off on its own: 1 s after the first refused
 * round, doubling to 15 s, with jitter (so a thousand messages pending while
 * a daemon is down do not hammer the survivor in lockstep), and at most
 * `MAX_IN_FLIGHT` requests are open at once. Acknowledged messages go
 * to `<out>/acked.tsv` (message id, number, contact, attempts, milliseconds
 * from the first attempt to the acknowledgement); the summary is printed as
 * JSON.
 *
 * `watch` samples, every 250 ms until killed, which daemons' simulators
 * have a connected line for each number, and appends every sample where
 * two daemons hold one number to `<out>/overlaps.tsv`; `<out>/samples.txt`
 * holds the number of samples taken.
 *
 * ```sh
 * deno run --allow-net --allow-read --allow-write scripts/chaos/load.ts load \
 *   <daemon urls, comma-separated> <token> <numbers file> <out dir> <label> <rate/s> <seconds> <patience s>
 * deno run --allow-net --allow-read --allow-write scripts/chaos/load.ts watch \
 *   <daemon urls> <numbers file> <out dir>
 * ```
 *
 * @module
 */

/** One acknowledged message. */
interface Acked {
  messageId: string;
  to: string;
  from: string;
  attempts: number;
  ackMs: number;
  duplicate: boolean;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Requests open at once, over all messages and both daemons. */
export const MAX_IN_FLIGHT = 32;
/** The first redelivery delay and its cap (WhatsApp-like: 1 s doubling to 15 s). */
export const FIRST_RETRY_MS = 1000;
export const MAX_RETRY_MS = 15_000;

/**
 * The delay before redelivery round `round` (1 for the first redelivery):
 * `FIRST_RETRY_MS` doubling up to `MAX_RETRY_MS`, with ±25% jitter from
 * `random` (a number in [0, 1)).
 */
export function retryDelayMs(round: number, random: number = Math.random()): number {
  const base = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, round - 1));
  return Math.round(base * (0.75 + random * 0.5));
}

/** A counting semaphore: at most `limit` holders at once, first come first served. */
export class Slots {
  #free: number;
  #waiting: (() => void)[] = [];
  constructor(limit: number) {
    this.#free = limit;
  }
  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }
  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
}

async function readNumbers(path: string): Promise<string[]> {
  return (await Deno.readTextFile(path)).split("\n").map((line) => line.trim()).filter((line) => line !== "");
}

/** The contact of message `index` of the scenario with digit `label`: a valid, unique E.164 number. */
export function contactFor(label: number, index: number): string {
  return `+1778${label}${String(index).padStart(7, "0")}`;
}

async function load(args: string[]): Promise<void> {
  const [urlsText, token, numbersFile, outDir, labelText, rateText, secondsText, patienceText] = args;
  if (!patienceText) {
    throw new Error(
      "usage: load.ts load <daemon urls> <token> <numbers file> <out dir> <label> <rate/s> <seconds> <patience s>",
    );
  }
  const urls = urlsText.split(",");
  const numbers = await readNumbers(numbersFile);
  const label = Number(labelText);
  const rate = Number(rateText);
  const count = Math.round(rate * Number(secondsText));
  const patienceMs = Number(patienceText) * 1000;
  /** Per number, the daemon that answered last, tried first. */
  const preferred = new Map<string, number>();
  const acked: Acked[] = [];
  const gaveUp: string[] = [];
  const errors: Record<string, number> = {};
  const slots = new Slots(MAX_IN_FLIGHT);

  async function push(index: number): Promise<void> {
    const to = numbers[index % numbers.length];
    const from = contactFor(label, index);
    const messageId = `CHAOS-${label}-${index}`;
    const body = JSON.stringify({
      to,
      from,
      name: "Chaos",
      text: `ping ${label}-${index}`,
      message_id: messageId,
    });
    const started = performance.now();
    let attempts = 0;
    let round = 0;
    while (performance.now() - started < patienceMs) {
      const first = preferred.get(to) ?? 0;
      for (let k = 0; k < urls.length; k++) {
        const which = (first + k) % urls.length;
        attempts++;
        await slots.acquire();
        try {
          const response = await fetch(`${urls[which]}/simulator/inbound`, {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body,
            signal: AbortSignal.timeout(10_000),
          });
          const text = await response.text();
          if (response.status === 202) {
            preferred.set(to, which);
            const answer = JSON.parse(text) as { duplicate?: boolean };
            acked.push({
              messageId,
              to,
              from,
              attempts,
              ackMs: Math.round(performance.now() - started),
              duplicate: answer.duplicate === true,
            });
            return;
          }
          errors[`http ${response.status}`] = (errors[`http ${response.status}`] ?? 0) + 1;
        } catch (error) {
          const name = error instanceof Error ? error.name : "error";
          errors[name] = (errors[name] ?? 0) + 1;
        } finally {
          slots.release();
        }
      }
      round++;
      await sleep(retryDelayMs(round));
    }
    gaveUp.push(messageId);
  }

  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let index = 0; index < count; index++) {
    const due = started + (index * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(push(index));
  }
  await Promise.all(pending);

  await Deno.writeTextFile(
    `${outDir}/acked.tsv`,
    acked.map((a) => `${a.messageId}\t${a.to}\t${a.from}\t${a.attempts}\t${a.ackMs}\t${a.duplicate}\n`).join(
      "",
    ),
  );
  const ackMs = acked.map((a) => a.ackMs).sort((x, y) => x - y);
  console.log(JSON.stringify({
    pushed: count,
    acked: acked.length,
    gave_up: gaveUp.length,
    redelivered: acked.filter((a) => a.attempts > 1).length,
    acked_as_duplicate: acked.filter((a) => a.duplicate).length,
    max_ack_ms: ackMs[ackMs.length - 1] ?? 0,
    refused_attempts: errors,
    seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
  }));
}

async function watch(args: string[]): Promise<void> {
  const [urlsText, numbersFile, outDir] = args;
  if (!outDir) throw new Error("usage: load.ts watch <daemon urls> <numbers file> <out dir>");
  const urls = urlsText.split(",");
  const numbers = await readNumbers(numbersFile);
  let samples = 0;
  for (;;) {
    const holders = await Promise.all(numbers.map(async (number) => {
      const connected = await Promise.all(urls.map(async (url) => {
        try {
          const response = await fetch(`${url}/simulator/numbers/${encodeURIComponent(number)}`, {
            signal: AbortSignal.timeout(2000),
          });
          if (response.status !== 200) {
            await response.body?.cancel();
            return false;
          }
          const line = await response.json() as { connected?: boolean };
          return line.connected === true;
        } catch {
          return false;
        }
      }));
      return { number, daemons: urls.filter((_, i) => connected[i]) };
    }));
    samples++;
    const overlaps = holders.filter((h) => h.daemons.length > 1);
    if (overlaps.length > 0) {
      const at = new Date().toISOString();
      await Deno.writeTextFile(
        `${outDir}/overlaps.tsv`,
        overlaps.map((o) => `${at}\t${o.number}\t${o.daemons.join(" ")}\n`).join(""),
        { append: true },
      );
    }
    // Written aside and renamed: the watcher is killed at any moment, and a
    // kill between writeTextFile's truncate and its write left an empty
    // file, which read as "no sample taken" (seen once in CI).
    await Deno.writeTextFile(`${outDir}/samples.txt.next`, `${samples}\n`);
    await Deno.rename(`${outDir}/samples.txt.next`, `${outDir}/samples.txt`);
    await sleep(250);
  }
}

if (import.meta.main) {
  const [mode, ...rest] = Deno.args;
  if (mode === "load") await load(rest);
  else if (mode === "watch") await watch(rest);
  else throw new Error("usage: load.ts load|watch …");
}
