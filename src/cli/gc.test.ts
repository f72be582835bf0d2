import { afterEach, expect, test } from "bun:test";
import { waitFor } from "../../test/helpers/wait.ts";
import { collectGarbage } from "./gc.ts";

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

/**
 * A collector that notes when it ran (ms since start) and whether the API server was busy then;
 * busy.asks counts the times it asked.
 */
function pacing(ms: number, busy: { now: boolean; asks?: number }) {
  const t0 = performance.now();
  const runs: { at: number; busy: boolean }[] = [];
  stops.push(
    collectGarbage(ms, {
      busy: () => {
        busy.asks = (busy.asks ?? 0) + 1;
        return busy.now;
      },
      collect: () => runs.push({ at: performance.now() - t0, busy: busy.now }),
      retryMs: 10,
    }),
  );
  return runs;
}

test("a collection every interval while nothing is being listed", async () => {
  const runs = pacing(50, { now: false });
  await waitFor("three collections", () => runs.length >= 3);
  // (A timer may fire up to a millisecond before its time as performance.now() sees it.)
  expect(runs[0]!.at).toBeGreaterThanOrEqual(49);
  expect(runs[2]!.at).toBeGreaterThanOrEqual(149);
  expect(runs.every((r) => !r.busy)).toBe(true);
});

test("a due collection waits until the LIST being written ends", async () => {
  const busy = { now: true, asks: 0 };
  const runs = pacing(300, busy);
  // Due at 300 ms, it asks again every 10 ms; the LIST ends after a few asks (well before 600 ms).
  await waitFor("the collection to be held", () => busy.asks >= 3);
  expect(runs).toEqual([]);
  busy.now = false;
  await waitFor("the held collection", () => runs.length === 1);
  expect(runs[0]!.busy).toBe(false);
  expect(runs[0]!.at).toBeGreaterThanOrEqual(299);
});

test("a collection is held at most one more interval, however long the LIST", async () => {
  const runs = pacing(60, { now: true });
  await waitFor("a collection while busy", () => runs.length >= 1);
  // Due at 60 ms, held until 120 ms, then it runs anyway.
  expect(runs[0]!.at).toBeGreaterThanOrEqual(119);
  expect(runs[0]!.busy).toBe(true);
});

test("an interval of 0 never collects", () => {
  let ran = 0;
  const stop = collectGarbage(0, { collect: () => ran++ });
  stop();
  expect(ran).toBe(0);
});

test("a slow collection leaves heaps to JSC until one is small enough for a pause within slowMs", async () => {
  const heap = { bytes: 1000 };
  const runs: number[] = [];
  const slow: { bytes: number; maxBytes: number }[] = [];
  let asked = 0;
  stops.push(
    collectGarbage(20, {
      heapBytes: () => {
        asked++;
        return heap.bytes;
      },
      collect: () => {
        runs.push(heap.bytes);
        // A collection's pause as the collector sees it: 10 ms for a heap of 1000, as long per byte below.
        const end = performance.now() + heap.bytes / 100;
        while (performance.now() < end);
      },
      slowMs: 5,
      onSlow: (ms, bytes, maxBytes) => {
        expect(ms).toBeGreaterThan(5);
        slow.push({ bytes, maxBytes });
      },
    }),
  );
  await waitFor("the first, slow collection", () => runs.length === 1);
  // 10 ms for 1000 kept: heaps over ~500 would pause longer than 5 ms.
  expect(slow.length).toBe(1);
  expect(slow[0]!.bytes).toBe(1000);
  expect(slow[0]!.maxBytes).toBeLessThanOrEqual(500);
  expect(slow[0]!.maxBytes).toBeGreaterThan(250);
  const after = asked;
  await waitFor("three more due times with the same heap", () => asked >= after + 3);
  heap.bytes = 2000;
  await waitFor("three more due times with a bigger heap", () => asked >= after + 6);
  // Smaller than the slow one's heap, but still a pause of ~9 ms.
  heap.bytes = 900;
  await waitFor("three more due times with a heap a little smaller", () => asked >= after + 9);
  expect(runs).toEqual([1000]);
  heap.bytes = 200;
  await waitFor("collections again", () => runs.length >= 3);
  expect(runs.slice(1, 3)).toEqual([200, 200]);
});
