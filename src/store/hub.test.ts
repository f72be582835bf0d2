// The live watcher's buffer: events come out in order, and an event read is no longer held by the watcher.
import { describe, expect, test } from "bun:test";
import { LiveWatcher } from "./hub.ts";
import type { WatchEvent } from "./types.ts";

const event = (revision: number): WatchEvent => ({
  type: "update",
  revision,
  kv: {
    key: `/registry/pods/default/p${revision}`,
    value: `{"n":${revision}}`,
    createRevision: 1,
    modRevision: revision,
  },
});

/**
 * Pushes n events made here (nothing else references them), reads `read` of them with next() and
 * take(), and returns weak references to all, so the caller sees which ones the watcher still keeps.
 */
async function pushAndRead(w: LiveWatcher, n: number, read: number): Promise<WeakRef<WatchEvent>[]> {
  const refs: WeakRef<WatchEvent>[] = [];
  for (let i = 1; i <= n; i++) {
    const ev = event(i);
    refs.push(new WeakRef(ev));
    w.push(ev);
  }
  const half = Math.floor(read / 2);
  const got: number[] = [];
  for (let i = 0; i < half; i++) got.push((await w.next(() => 0))!.revision);
  got.push(...w.take(read - half).map((e) => e.revision));
  expect(got).toEqual(Array.from({ length: read }, (_, i) => i + 1));
  return refs;
}

/** How many of the events behind `refs` are still alive after a full collection. */
function alive(refs: WeakRef<WatchEvent>[]): number {
  Bun.gc(true);
  return refs.filter((r) => r.deref() !== undefined).length;
}

describe("LiveWatcher", () => {
  test("events read, all or part of the buffer, are not kept alive by the watcher; unread ones are", async () => {
    const w = new LiveWatcher("/registry/pods/", 10_000);
    const all = await pushAndRead(w, 300, 300);
    // Before, every read event stayed in the buffer until more than 1024 had been read.
    // JSC scans the stack conservatively: allow a stray one.
    expect(alive(all)).toBeLessThanOrEqual(2);
    const part = await pushAndRead(w, 300, 200);
    expect(alive(part)).toBeGreaterThanOrEqual(100);
    expect(alive(part)).toBeLessThanOrEqual(102);
    expect((await w.next(() => 0))?.revision).toBe(201);
    expect(w.take(1000).map((e) => e.revision)).toEqual(Array.from({ length: 99 }, (_, i) => i + 202));
    expect(w.idle).toBe(true);
  });
});
