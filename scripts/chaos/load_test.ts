/** Unit tests of the chaos run's simulated contacts: `deno test scripts/chaos/`. */
import { FIRST_RETRY_MS, MAX_RETRY_MS, retryDelayMs, Slots } from "./load.ts";

function assert(condition: boolean, message = "assertion failed"): void {
  if (!condition) throw new Error(message);
}
function assertEquals(actual: unknown, expected: unknown): void {
  const [a, e] = [JSON.stringify(actual), JSON.stringify(expected)];
  assert(a === e, `expected ${e}, got ${a}`);
}

Deno.test("redelivery backs off from 1 s, doubling to 15 s, with ±25% jitter", () => {
  assertEquals(retryDelayMs(1, 0.5), FIRST_RETRY_MS);
  assertEquals(retryDelayMs(2, 0.5), 2 * FIRST_RETRY_MS);
  assertEquals(retryDelayMs(4, 0.5), 8 * FIRST_RETRY_MS);
  assertEquals(retryDelayMs(5, 0.5), MAX_RETRY_MS);
  assertEquals(retryDelayMs(50, 0.5), MAX_RETRY_MS);
  assertEquals(retryDelayMs(1, 0), 0.75 * FIRST_RETRY_MS);
  assert(retryDelayMs(50, 0.999_999) <= 1.25 * MAX_RETRY_MS);
});

Deno.test("at most `limit` slots are held at once, handed over first come first served", async () => {
  const slots = new Slots(2);
  let held = 0;
  let most = 0;
  const order: number[] = [];
  await Promise.all([0, 1, 2, 3, 4].map(async (i) => {
    await slots.acquire();
    held++;
    most = Math.max(most, held);
    order.push(i);
    await new Promise((resolve) => setTimeout(resolve, 5));
    held--;
    slots.release();
  }));
  assertEquals(most, 2);
  assertEquals(order, [0, 1, 2, 3, 4]);
});
