import { describe, expect, test } from "bun:test";
import { waitFor } from "../../test/helpers/wait.ts";
import { FakeClock } from "../../test/helpers/clock.ts";
import { WorkQueue, runWorkers } from "./workqueue.ts";

describe("WorkQueue", () => {
  test("hands keys out in order and queues a key once however often it is added", async () => {
    const q = new WorkQueue();
    q.add("a");
    q.add("b");
    q.add("a");
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe("a");
    expect(await q.get()).toBe("b");
    expect(q.len()).toBe(0);
  });

  test("a key added while being processed is not handed to a second worker, and is re-queued after done", async () => {
    const q = new WorkQueue();
    q.add("a");
    const key = await q.get();
    expect(key).toBe("a");
    q.add("a");
    q.add("a");
    expect(q.len()).toBe(0);
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await Promise.resolve();
    expect(second).toBeUndefined();
    q.done("a");
    await waitFor("the second get to return a", () => second === "a");
    q.done("a");
    expect(q.len()).toBe(0);
  });

  test("done without a re-add does not re-queue", async () => {
    const q = new WorkQueue();
    q.add("a");
    q.done((await q.get())!);
    expect(q.len()).toBe(0);
  });

  test("a waiting get() receives the next added key", async () => {
    const q = new WorkQueue();
    const got = q.get();
    q.add("x");
    expect(await got).toBe("x");
  });

  test("shutDown wakes waiting getters with undefined and ignores later adds", async () => {
    const q = new WorkQueue();
    const a = q.get();
    const b = q.get();
    q.shutDown();
    expect(await a).toBeUndefined();
    expect(await b).toBeUndefined();
    q.add("late");
    expect(q.len()).toBe(0);
    expect(await q.get()).toBeUndefined();
    expect(q.isShuttingDown()).toBe(true);
  });

  test("addAfter adds the key after the delay, keeping the earlier of two delays", () => {
    const clock = new FakeClock(0);
    const q = new WorkQueue({ clock });
    q.addAfter("k", 10_000);
    q.addAfter("k", 20);
    q.addAfter("k", 5_000);
    expect(clock.waiting()).toBe(1);
    clock.step(19);
    expect(q.len()).toBe(0);
    clock.step(1);
    expect(q.len()).toBe(1);
    expect(clock.waiting()).toBe(0);
    q.shutDown();
  });

  test("addAfter with no delay adds at once", async () => {
    const q = new WorkQueue();
    q.addAfter("k", 0);
    expect(q.len()).toBe(1);
  });

  test("rate-limited back-off doubles per failure from 5ms, caps at 1000s, and forget resets it", () => {
    const q = new WorkQueue();
    const delays = Array.from({ length: 5 }, () => q.when("k"));
    expect(delays).toEqual([5, 10, 20, 40, 80]);
    expect(q.numRequeues("k")).toBe(5);
    for (let i = 0; i < 40; i++) q.when("k");
    expect(q.when("k")).toBe(1_000_000);
    expect(q.when("other")).toBe(5);
    q.forget("k");
    expect(q.numRequeues("k")).toBe(0);
    expect(q.when("k")).toBe(5);
  });

  test("addRateLimited re-adds the key after its back-off", async () => {
    const q = new WorkQueue({ baseDelayMs: 1 });
    q.addRateLimited("k");
    q.addRateLimited("k");
    expect(await q.get()).toBe("k");
    expect(q.numRequeues("k")).toBe(2);
  });

  test("after shutDown, delayed adds never hand out their key", async () => {
    const clock = new FakeClock(0);
    const q = new WorkQueue({ clock });
    q.addAfter("k", 1);
    q.shutDown();
    expect(clock.waiting()).toBe(0);
    clock.step(1);
    expect(await q.get()).toBeUndefined();
    expect(q.len()).toBe(0);
  });
});

describe("runWorkers", () => {
  test("never reconciles one key in two workers at once, and retries failures until they succeed", async () => {
    const q = new WorkQueue({ baseDelayMs: 1 });
    const active = new Set<string>();
    let overlap = false;
    const attempts = new Map<string, number>();
    const succeeded = new Set<string>();
    const errors: string[] = [];
    const workers = runWorkers(
      q,
      4,
      async (key) => {
        if (active.has(key)) overlap = true;
        active.add(key);
        await new Promise((r) => setTimeout(r, 1));
        active.delete(key);
        const n = (attempts.get(key) ?? 0) + 1;
        attempts.set(key, n);
        if (key === "flaky" && n < 3) throw new Error("not yet");
        succeeded.add(key);
      },
      (key) => errors.push(key),
    );
    for (let i = 0; i < 20; i++) q.add(`k${i % 5}`);
    q.add("flaky");
    await waitFor("all six keys to succeed", () => succeeded.size === 6);
    // More adds of a key while it runs: still never concurrent.
    for (let i = 0; i < 50; i++) q.add("k1");
    await waitFor("an empty, idle queue", () => q.len() === 0 && active.size === 0);
    q.shutDown();
    await workers;
    expect(overlap).toBe(false);
    expect(errors).toEqual(["flaky", "flaky"]);
    expect(attempts.get("flaky")).toBe(3);
    expect(q.numRequeues("flaky")).toBe(0);
  });

  test("resolves once the queue shuts down", async () => {
    const q = new WorkQueue();
    const done = runWorkers(q, 3, async () => {});
    q.shutDown();
    await done;
  });
});
