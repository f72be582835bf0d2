// The checkpointer's thread copies a WAL written by another connection into the database (PASSIVE
// leaves nothing for the writer's own checkpoint to copy) and starts the WAL over itself, cutting
// the file back to journal_size_limit, unless the writer holds the shared write lock; a store that
// has written enough hands its checkpoints to it and still reopens whole, and a reader holding an
// old snapshot never holds up the writes.
import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../../../test/helpers/wait.ts";
import { openStore } from "../index.ts";
import { startCheckpointer } from "./checkpointer.ts";
import { type Database as DriverDatabase, openDatabase } from "./driver.ts";
import { PRAGMAS, SCHEMA, WAL_SIZE_LIMIT } from "./schema.ts";

const walBytes = (path: string) => statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0;

/** A database with more than journal_size_limit of WAL that no checkpoint has copied, written by `db`. */
async function withLongWal(run: (db: DriverDatabase, path: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "kube-ckpt-"));
  const path = join(dir, "kube.db");
  const db = await openDatabase(path);
  try {
    db.exec(PRAGMAS);
    db.exec(SCHEMA);
    db.exec("PRAGMA wal_autocheckpoint = 0");
    const put = db.prepare("INSERT INTO kv(key, value, create_rev, mod_rev) VALUES (?, ?, 1, 1)");
    db.transaction(() => {
      for (let i = 0; i < 1200; i++) put.run(`/k/${i}`, "x".repeat(16_000));
    })();
    expect(walBytes(path)).toBeGreaterThan(WAL_SIZE_LIMIT);
    await run(db, path);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** How many times the checkpointer started the WAL over (its one-row write). */
const restarts = (db: { prepare(sql: string): { get(): unknown } }) =>
  (db.prepare("SELECT value FROM meta WHERE name = 'wal_restarts'").get() as { value: number } | null)?.value ?? 0;

test("copies another connection's WAL frames into the database and starts the WAL over itself, cutting the file back", () =>
  withLongWal(async (db, path) => {
    const c = await startCheckpointer(path);
    expect(c).toBeDefined();
    try {
      c!.checkpoint();
      await waitFor("checkpoint done", () => !c!.busy);
      // The writer has not written since: the checkpointer's own one-row write started the WAL
      // over (so the writer's next commit does not sync a new WAL header) and cut the file back.
      expect(restarts(db)).toBe(1);
      expect(walBytes(path)).toBeGreaterThan(0);
      expect(walBytes(path)).toBeLessThanOrEqual(WAL_SIZE_LIMIT);
      // The WAL holds only that write's pages now, not the ~1,200 frames before.
      const after = db.prepare("PRAGMA wal_checkpoint(PASSIVE)").get() as { log: number; checkpointed: number };
      expect(after.log).toBeLessThan(10);
      db.prepare("DELETE FROM kv WHERE key = ?").run("/k/0");
      expect(db.prepare("SELECT count(*) AS n FROM kv").get()).toEqual({ n: 1199 });
    } finally {
      await c!.stop();
    }
  }));

test("the WAL is not started over while the writer holds the shared write lock, and is once it is given back", () =>
  withLongWal(async (db, path) => {
    const c = await startCheckpointer(path);
    try {
      expect(c!.beginWrite()).toBe(true);
      c!.checkpoint();
      await waitFor("checkpoint done", () => !c!.busy);
      // Copied, but the restart needs the lock: the thread gave up waiting for it.
      expect(restarts(db)).toBe(0);
      expect(walBytes(path)).toBeGreaterThan(WAL_SIZE_LIMIT);
      c!.endWrite();
      c!.checkpoint();
      await waitFor("checkpoint done", () => !c!.busy);
      expect(restarts(db)).toBe(1);
      expect(walBytes(path)).toBeLessThanOrEqual(WAL_SIZE_LIMIT);
    } finally {
      await c!.stop();
    }
  }));

test("a file it cannot open: no checkpointer (the store checkpoints itself)", async () => {
  expect(await startCheckpointer("/nonexistent-dir/kube.db")).toBeUndefined();
});

test("a store past the checkpointer's start keeps its WAL bounded and reopens with everything", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kube-ckpt-store-"));
  try {
    const s = await openStore({ dataDir: dir });
    const value = "v".repeat(16 * 1024);
    // ~80 MB of values (the WAL would hold ~200 MB of them) in batches, written faster than checkpoints copy them:
    // commits wait for the checkpointer once it is behind.
    let maxWal = 0;
    for (let b = 0; b < 80; b++) {
      await Promise.all(Array.from({ length: 64 }, (_, i) => s.create(`/registry/configmaps/d/c${b}-${i}`, value)));
      maxWal = Math.max(maxWal, walBytes(join(dir, "kube.db")));
    }
    expect(maxWal).toBeLessThan(80 * 1024 * 1024);
    await s.close();
    expect(walBytes(join(dir, "kube.db"))).toBe(0);
    // The checkpointer started the WAL over as it went, not the store's writes.
    const db = new Database(join(dir, "kube.db"), { readonly: true });
    expect(restarts(db)).toBeGreaterThan(0);
    db.close();
    const again = await openStore({ dataDir: dir });
    try {
      expect((await again.list("/registry/configmaps/d/")).kvs.length).toBe(80 * 64);
    } finally {
      await again.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a reader holding an old snapshot (a backup) does not hold up writes while compaction and checkpoints run", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kube-ckpt-reader-"));
  const s = await openStore({ dataDir: dir, compactWindow: 50, historyMs: 0, compactIntervalMs: 50 });
  let reader: Database | undefined;
  try {
    const value = "v".repeat(16 * 1024);
    // Past the checkpointer's start (4 MB of values).
    for (let b = 0; b < 8; b++)
      await Promise.all(Array.from({ length: 64 }, (_, i) => s.create(`/registry/configmaps/d/c${b}-${i}`, value)));
    reader = new Database(join(dir, "kube.db"), { readonly: true });
    reader.exec("BEGIN");
    const seen = reader.prepare("SELECT count(*) AS n FROM kv").get();
    // The event loop's longest stop while the writes go on: a write that waits for the write lock
    // waits in SQLite's busy_timeout (5 s) with the loop stopped.
    let last = performance.now();
    let longest = 0;
    const tick = setInterval(() => {
      longest = Math.max(longest, performance.now() - last);
      last = performance.now();
    }, 10);
    const compactedBefore = await s.compactedRevision();
    try {
      for (let b = 0; b < 20; b++) {
        await Promise.all(
          Array.from({ length: 16 }, (_, i) => s.update(`/registry/configmaps/d/c${b % 8}-${i}`, value, 0)),
        );
      }
      await waitFor("a compaction past the writes", async () => (await s.compactedRevision()) > compactedBefore);
      await s.create("/registry/configmaps/d/last", "x");
    } finally {
      clearInterval(tick);
    }
    expect(longest).toBeLessThan(2_000);
    // The reader still sees its snapshot.
    expect(reader.prepare("SELECT count(*) AS n FROM kv").get()).toEqual(seen);
  } finally {
    reader?.exec("COMMIT");
    reader?.close();
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
