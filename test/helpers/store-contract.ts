// One contract suite for every Store backend, written with node:assert and a describe/test
// pair passed in, so it runs under `bun test` (bun:sqlite) and `node --test` (better-sqlite3).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Store, WatchEvent } from "../../src/store/types.ts";
import { waitFor } from "./wait.ts";
import {
  CompactedError,
  ConflictError,
  KeyExistsError,
  LockedError,
  NotFoundError,
  WatchLaggedError,
} from "../../src/store/types.ts";

type Fn = () => Promise<void> | void;
export interface Harness {
  describe(name: string, fn: () => void): void;
  test(name: string, fn: Fn): void;
}
export type Open = (
  dir: string,
  opts?: { compactWindow?: number; historyMs?: number; compactIntervalMs?: number; watchBuffer?: number },
) => Promise<Store>;

async function withStore(
  open: Open,
  fn: (s: Store, dir: string) => Promise<void>,
  opts?: Parameters<Open>[1],
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "kube-store-"));
  const s = await open(dir, opts);
  try {
    await fn(s, dir);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function collect(w: AsyncIterable<WatchEvent>, n: number, timeoutMs = 5000): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  const it = w[Symbol.asyncIterator]();
  const deadline = Date.now() + timeoutMs;
  while (out.length < n) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([
      it.next(),
      new Promise<"timeout">((res) => (timer = setTimeout(() => res("timeout"), Math.max(1, deadline - Date.now())))),
    ]);
    clearTimeout(timer);
    if (r === "timeout") throw new Error(`watch delivered ${out.length} of ${n} events before the deadline`);
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

export function storeContract(h: Harness, open: Open): void {
  h.describe("reads and writes", () => {
    h.test("create, get, update with the expected revision, delete", () =>
      withStore(open, async (s) => {
        const a = await s.create("/r/a", "1");
        assert.equal(a.createRevision, a.modRevision);
        assert.deepEqual((await s.get("/r/a")).kv, a);
        const b = await s.update("/r/a", "2", a.modRevision);
        assert.equal(b.modRevision, a.modRevision + 1);
        assert.equal(b.createRevision, a.createRevision);
        const d = await s.delete("/r/a", b.modRevision);
        assert.equal(d.value, "2");
        assert.equal(d.modRevision, b.modRevision + 1);
        assert.equal((await s.get("/r/a")).kv, null);
        assert.equal(await s.currentRevision(), d.modRevision);
      }),
    );

    h.test("named errors: exists, not found, conflict carrying the current value", () =>
      withStore(open, async (s) => {
        const a = await s.create("/r/a", "1");
        await assert.rejects(s.create("/r/a", "x"), KeyExistsError);
        await assert.rejects(s.update("/r/none", "x", 0), NotFoundError);
        await assert.rejects(s.delete("/r/none", 0), NotFoundError);
        await s.update("/r/a", "2", a.modRevision);
        const err = await s.update("/r/a", "3", a.modRevision).catch((e) => e);
        assert.ok(err instanceof ConflictError);
        assert.equal(err.current.value, "2");
        await assert.rejects(s.delete("/r/a", a.modRevision), ConflictError);
        assert.equal((await s.get("/r/a")).kv?.value, "2");
      }),
    );

    h.test("a read after writes batched together sees exactly what committed, also after reopening", async () => {
      const dir = mkdtempSync(join(tmpdir(), "kube-store-"));
      try {
        const s = await open(dir);
        const a = await s.create("/r/a", "1");
        await s.get("/r/a"); // read once, so that a cached copy (if any) must follow the writes below
        // Issued in one turn: a backend may commit them in one transaction; the one of the two
        // updates that lost (a conflict) changes nothing.
        const [u2, ux, gone, c] = await Promise.allSettled([
          s.update("/r/a", "2", a.modRevision),
          s.update("/r/a", "x", a.modRevision),
          s.create("/r/b", "b").then((kv) => s.delete("/r/b", kv.modRevision)),
          s.create("/r/c", "c"),
        ]);
        assert.notEqual(u2.status, ux.status);
        assert.equal(gone.status, "fulfilled");
        assert.equal((await s.get("/r/a")).kv?.value, u2.status === "fulfilled" ? "2" : "x");
        assert.equal((await s.get("/r/b")).kv, null);
        assert.deepEqual((await s.get("/r/c")).kv, (c as PromiseFulfilledResult<unknown>).value);
        await s.close();
        const again = await open(dir);
        assert.equal((await again.get("/r/a")).kv?.value, u2.status === "fulfilled" ? "2" : "x");
        assert.equal((await again.get("/r/b")).kv, null);
        assert.equal((await again.get("/r/c")).kv?.value, "c");
        await again.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    h.test("concurrent read-modify-write with expected revisions loses no update", () =>
      withStore(open, async (s) => {
        await s.create("/counter", "0");
        const writers = 8;
        const each = 25;
        await Promise.all(
          Array.from({ length: writers }, async () => {
            for (let i = 0; i < each; i++) {
              for (;;) {
                const { kv } = await s.get("/counter");
                try {
                  await s.update("/counter", String(Number(kv!.value) + 1), kv!.modRevision);
                  break;
                } catch (err) {
                  if (!(err instanceof ConflictError)) throw err;
                }
              }
            }
          }),
        );
        assert.equal((await s.get("/counter")).kv?.value, String(writers * each));
      }),
    );

    h.test("lists by prefix in key order, with limit, continue and remaining", () =>
      withStore(open, async (s) => {
        for (const k of ["c", "a", "e", "b", "d"]) await s.create(`/p/${k}`, k);
        await s.create("/q/x", "x");
        await s.create("/p", "not under /p/");
        const all = await s.list("/p/");
        assert.deepEqual(
          all.kvs.map((kv) => kv.value),
          ["a", "b", "c", "d", "e"],
        );
        assert.equal(all.more, false);
        const page = await s.list("/p/", { limit: 2 });
        assert.deepEqual(
          page.kvs.map((kv) => kv.value),
          ["a", "b"],
        );
        assert.equal(page.more, true);
        assert.equal(page.remaining, 3);
        const next = await s.list("/p/", { limit: 2, startAfter: page.kvs[1]!.key });
        assert.deepEqual(
          next.kvs.map((kv) => kv.value),
          ["c", "d"],
        );
        const last = await s.list("/p/", { limit: 2, startAfter: next.kvs[1]!.key });
        assert.deepEqual(
          last.kvs.map((kv) => kv.value),
          ["e"],
        );
        assert.equal(last.more, false);
        assert.equal(all.revision, await s.currentRevision());
      }),
    );

    h.test("a keySuffix list still returns every key that ends with it, in order, page by page", () =>
      withStore(open, async (s) => {
        for (const ns of ["a", "b", "c", "d"])
          for (const name of ["ca.crt", "other", "x-ca.crt"]) await s.create(`/cm/${ns}/${name}`, `${ns}:${name}`);
        const found: string[] = [];
        let startAfter: string | undefined;
        for (let pages = 0; pages < 20; pages++) {
          const page = await s.list("/cm/", { limit: 2, startAfter, keySuffix: "/ca.crt", countRemaining: false });
          // The suffix is a hint: a backend may also return other keys, which the caller filters out.
          found.push(...page.kvs.filter((kv) => kv.key.endsWith("/ca.crt")).map((kv) => kv.value));
          if (!page.more) break;
          startAfter = page.kvs[page.kvs.length - 1]!.key;
        }
        assert.deepEqual(found, ["a:ca.crt", "b:ca.crt", "c:ca.crt", "d:ca.crt"]);
      }),
    );
  });

  h.describe("watch", () => {
    h.test("delivers every event after the start revision, in order, filtered by prefix", () =>
      withStore(open, async (s) => {
        const w = s.watch("/w/", { afterRevision: 0 });
        const writes: Promise<unknown>[] = [];
        for (let i = 0; i < 200; i++) writes.push(s.create(`/w/${i}`, String(i)), s.create(`/other/${i}`, "x"));
        await Promise.all(writes);
        const events = await collect(w, 200);
        w.close();
        assert.equal(events.length, 200);
        const revs = events.map((e) => e.revision);
        for (let i = 1; i < revs.length; i++) assert.ok(revs[i]! > revs[i - 1]!, "revisions increase");
        assert.deepEqual(new Set(events.map((e) => e.kv.value)).size, 200);
        assert.ok(events.every((e) => e.kv.key.startsWith("/w/")));
      }),
    );

    h.test("from an old revision: history from the log, then live, without gaps or duplicates", () =>
      withStore(open, async (s) => {
        await s.create("/other", "so that the start revision below is not 0 (= from now)");
        const first = await s.create("/h/a", "1");
        await s.update("/h/a", "2", 0);
        await s.delete("/h/a", 0);
        const w = s.watch("/h/", { afterRevision: first.modRevision - 1 });
        await s.create("/h/b", "live");
        const events = await collect(w, 4);
        w.close();
        assert.deepEqual(
          events.map((e) => [e.type, e.kv.key, e.kv.value]),
          [
            ["create", "/h/a", "1"],
            ["update", "/h/a", "2"],
            ["delete", "/h/a", "2"],
            ["create", "/h/b", "live"],
          ],
        );
        assert.equal(events[1]!.prevKv?.value, "1");
        assert.deepEqual(
          events.map((e) => e.revision),
          [1, 2, 3, 4].map((i) => first.modRevision - 1 + i),
        );
      }),
    );

    h.test("watching from before the compaction point fails with CompactedError", () =>
      withStore(open, async (s) => {
        // Revisions relative to the start: a shared backend (etcd) does not begin at 0.
        const base = await s.currentRevision();
        for (let i = 0; i < 10; i++) await s.create(`/c/${i}`, "x");
        await s.compact(base + 8);
        assert.equal(await s.compactedRevision(), base + 8);
        await assert.rejects(collect(s.watch("/c/", { afterRevision: base + 3 }), 1), CompactedError);
        const ok = s.watch("/c/", { afterRevision: base + 8 });
        const events = await collect(ok, 2);
        ok.close();
        assert.deepEqual(
          events.map((e) => e.revision),
          [base + 9, base + 10],
        );
        assert.equal((await s.list("/c/")).kvs.length, 10, "compaction never touches current state");
      }),
    );

    h.test("a watcher that falls too far behind is ended with its last revision; writers never wait", () =>
      withStore(
        open,
        async (s) => {
          const slow = s.watch("/l/", { afterRevision: 0 });
          const started = Date.now();
          for (let i = 0; i < 500; i++) await s.create(`/l/${i}`, "x");
          assert.ok(Date.now() - started < 10_000);
          const err = await collect(slow, 1000).catch((e) => e);
          assert.ok(err instanceof WatchLaggedError, `expected WatchLaggedError, got ${err}`);
          assert.ok(err.lastRevision >= 0);
        },
        { watchBuffer: 50 },
      ),
    );

    h.test("takeReady hands out events already arrived, in order with the iterator, at most max", () =>
      withStore(open, async (s) => {
        await s.create("/other", "so that the start revision below is not 0 (= from now)");
        const first = await s.create("/t/h0", "history");
        await s.create("/t/h1", "history");
        const w = s.watch("/t/", { afterRevision: first.modRevision - 1 });
        for (let i = 0; i < 20; i++) await s.create(`/t/${i}`, "live");
        assert.deepEqual(w.takeReady(10), [], "nothing is ready before the first read");
        // Reads mixed with takes see every event once, in order: history, then live.
        const it = w[Symbol.asyncIterator]();
        const seen: WatchEvent[] = [];
        while (seen.length < 22) {
          const r = await it.next();
          assert.ok(!r.done);
          seen.push(r.value);
          const taken = w.takeReady(3);
          assert.ok(taken.length <= 3);
          seen.push(...taken);
        }
        assert.deepEqual(
          seen.map((e) => e.kv.key),
          ["/t/h0", "/t/h1", ...Array.from({ length: 20 }, (_, i) => `/t/${i}`)],
        );
        assert.deepEqual(w.takeReady(10), [], "nothing left");
        // Live events written while the reader is between reads are all taken at once.
        for (let i = 0; i < 5; i++) await s.create(`/t/later-${i}`, "live");
        const later = [(await it.next()).value as WatchEvent];
        await waitFor("the rest of the burst", () => {
          later.push(...w.takeReady(100));
          return later.length >= 5;
        });
        assert.deepEqual(
          later.map((e) => e.kv.key),
          Array.from({ length: 5 }, (_, i) => `/t/later-${i}`),
        );
        w.close();
      }),
    );

    h.test("closing a watch ends its iteration", () =>
      withStore(open, async (s) => {
        const w = s.watch("/x/");
        setTimeout(() => w.close(), 10);
        assert.deepEqual(await collect(w, 1), []);
      }),
    );
  });

  h.describe("compaction and ownership", () => {
    h.test("automatic compaction keeps the window and the log bounded under endless updates", () =>
      withStore(
        open,
        async (s) => {
          const kv = await s.create("/u/a", "0");
          let rev = kv.modRevision;
          for (let i = 0; i < 3000; i++) rev = (await s.update("/u/a", "v".repeat(200) + i, rev)).modRevision;
          await waitFor("compaction up to the window", async () => (await s.compactedRevision()) >= rev - 200, 5000);
          assert.equal((await s.get("/u/a")).kv?.modRevision, rev);
        },
        // The revision window alone (SQLite also keeps history by time unless historyMs is 0).
        { compactWindow: 100, historyMs: 0, compactIntervalMs: 50 },
      ),
    );

    h.test("a second open of the same data dir in this process is refused only after close is not", async () => {
      const dir = mkdtempSync(join(tmpdir(), "kube-store-"));
      const s = await open(dir);
      await s.close();
      const again = await open(dir);
      await again.create("/k", "v");
      await again.close();
      const third = await open(dir);
      assert.equal((await third.get("/k")).kv?.value, "v");
      await third.close();
      rmSync(dir, { recursive: true, force: true });
    });
  });
}

export { LockedError };
