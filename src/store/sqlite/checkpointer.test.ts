// The checkpointer's thread copies a WAL written by another connection into the database (PASSIVE
// leaves nothing for the writer's own checkpoint to copy; TRUNCATE empties the file), and a store
// that has written enough hands its checkpoints to it and still reopens whole.
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../../../test/helpers/wait.ts";
import { openStore } from "../index.ts";
import { startCheckpointer } from "./checkpointer.ts";
import { openDatabase } from "./driver.ts";
import { PRAGMAS, SCHEMA } from "./schema.ts";

const walBytes = (path: string) => statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0;

test("copies another connection's WAL frames into the database, and TRUNCATE empties the WAL", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kube-ckpt-"));
  const path = join(dir, "kube.db");
  const db = await openDatabase(path);
  try {
    db.exec(PRAGMAS);
    db.exec(SCHEMA);
    db.exec("PRAGMA wal_autocheckpoint = 0");
    const put = db.prepare("INSERT INTO kv(key, value, create_rev, mod_rev) VALUES (?, ?, 1, 1)");
    db.transaction(() => {
      for (let i = 0; i < 200; i++) put.run(`/k/${i}`, "x".repeat(2000));
    })();
    // Nothing copied yet: the writer's own PASSIVE checkpoint would find frames to copy.
    const c = await startCheckpointer(path);
    expect(c).toBeDefined();
    try {
      c!.checkpoint("PASSIVE");
      await waitFor("checkpoint done", () => !c!.busy);
      const after = db.prepare("PRAGMA wal_checkpoint(PASSIVE)").get() as { log: number; checkpointed: number };
      expect(after.log).toBeGreaterThan(0);
      expect(after.checkpointed).toBe(after.log);
      expect(walBytes(path)).toBeGreaterThan(0);
      c!.checkpoint("TRUNCATE");
      await waitFor("truncated", () => !c!.busy);
      expect(walBytes(path)).toBe(0);
      expect(db.prepare("SELECT count(*) AS n FROM kv").get()).toEqual({ n: 200 });
    } finally {
      await c!.stop();
    }
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

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
