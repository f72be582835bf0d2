import { expect, test } from "bun:test";
import { freshShared } from "./fresh-call.ts";

/** A call whose answers the test releases by hand: each answer is the number of the call. */
function gated() {
  const gates: (() => void)[] = [];
  let calls = 0;
  const fn = () => {
    const n = ++calls;
    return new Promise<number>((r) => gates.push(() => r(n)));
  };
  return { fn, gates, calls: () => calls };
}

test("callers during a running call share one next call, which starts after the running one ends", async () => {
  const g = gated();
  const list = freshShared(g.fn);
  const a = list();
  expect(g.calls()).toBe(1);
  // b, c and d asked after call 1 began: it may miss what they did, so they wait for call 2.
  const [b, c, d] = [list(), list(), list()];
  expect(g.calls()).toBe(1);
  g.gates[0]!();
  expect(await a).toBe(1);
  await Bun.sleep(0);
  expect(g.calls()).toBe(2);
  // e asks while call 2 runs: it gets a call 3 of its own.
  const e = list();
  g.gates[1]!();
  expect([await b, await c, await d]).toEqual([2, 2, 2]);
  await Bun.sleep(0);
  g.gates[2]!();
  expect(await e).toBe(3);
  expect(g.calls()).toBe(3);
  // Idle again: the next caller starts at once.
  await Bun.sleep(0);
  const f = list();
  expect(g.calls()).toBe(4);
  g.gates[3]!();
  expect(await f).toBe(4);
});

test("a failed call fails its own callers only; the queued call still runs", async () => {
  let n = 0;
  const gates: ((ok: boolean) => void)[] = [];
  const list = freshShared(
    () =>
      new Promise<number>((resolve, reject) => {
        const i = ++n;
        gates.push((ok) => (ok ? resolve(i) : reject(new Error(`call ${i} failed`))));
      }),
  );
  const a = list();
  const b = list();
  gates[0]!(false);
  await expect(a).rejects.toThrow("call 1 failed");
  await Bun.sleep(0);
  gates[1]!(true);
  expect(await b).toBe(2);
});
