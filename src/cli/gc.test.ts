// The forced collection's pacing: quick collections keep the interval, slow ones stretch it.
import { expect, test } from "bun:test";
import { nextGcDelay, PAUSE_BUDGET_MS } from "./gc.ts";

test("a quick collection keeps the interval; a slow one waits 4 times longer, up to 64 intervals; a quick one resets", () => {
  const interval = 20_000;
  let delay = interval;
  const waits: number[] = [];
  for (const pause of [5, PAUSE_BUDGET_MS + 1, 900, 900, 900, 900, 5]) {
    delay = nextGcDelay(interval, delay, pause);
    waits.push(delay);
  }
  expect(waits).toEqual([20_000, 80_000, 320_000, 1_280_000, 1_280_000, 1_280_000, 20_000]);
});
