// The Store contract against bun:sqlite, plus what only a real process can show: the data
// dir lock against another process, and crash safety under SIGKILL.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { storeContract } from "../../../test/helpers/store-contract.ts";
import { waitFor } from "../../../test/helpers/wait.ts";
import { openStore } from "../index.ts";
import { KeyExistsError, LockedError } from "../types.ts";
import { PRAGMAS, SCHEMA } from "./schema.ts";
import { SqliteStore } from "./store.ts";

storeContract({ describe, test }, (dir, opts) => openStore({ dataDir: dir, ...opts }));

const child = (dir: string, script: string) =>
  Bun.spawn(
    [
      process.execPath,
      "-e",
      `import { openStore } from ${JSON.stringify(join(import.meta.dir, "../index.ts"))}; const s = await openStore({ dataDir: ${JSON.stringify(dir)} }); ${script}`,
    ],
    { stdout: "pipe", stderr: "pipe" },
  );

async function readUntil(stream: ReadableStream<Uint8Array>, pred: (text: string) => boolean): Promise<string> {
  const reader = stream.getReader();
  let text = "";
  while (!pred(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return text;
}

test("a keySuffix list reads only the keys that end with it: pages, more and remaining count those", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kube-suffix-"));
  const s = await openStore({ dataDir: dir });
  try {
    for (let ns = 0; ns < 5; ns++)
      for (const name of ["kube-root-ca.crt", "a", "b"]) await s.create(`/cm/ns${ns}/${name}`, name);
    const first = await s.list("/cm/", { limit: 2, keySuffix: "/kube-root-ca.crt" });
    expect(first.kvs.map((kv) => kv.key)).toEqual(["/cm/ns0/kube-root-ca.crt", "/cm/ns1/kube-root-ca.crt"]);
    expect(first.more).toBe(true);
    expect(first.remaining).toBe(3);
    const rest = await s.list("/cm/", { startAfter: first.kvs[1]!.key, keySuffix: "/kube-root-ca.crt" });
    expect(rest.kvs.map((kv) => kv.key)).toEqual([
      "/cm/ns2/kube-root-ca.crt",
      "/cm/ns3/kube-root-ca.crt",
      "/cm/ns4/kube-root-ca.crt",
    ]);
    expect(rest.more).toBe(false);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the change log is compacted once it holds twice the window, without waiting for the timer", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kube-compact-"));
  // The timer (and its first pass 2 s after open) never fires during this test: only writes trigger compaction.
  const s = await openStore({ dataDir: dir, compactWindow: 100, historyMs: 0, compactIntervalMs: 3_600_000 });
  try {
    let rev = (await s.create("/u/a", "0")).modRevision;
    for (let i = 0; i < 1000; i++) {
      rev = (await s.update("/u/a", `v${i}`, rev)).modRevision;
      const kept = rev - (await s.compactedRevision());
      if (kept >= 200) throw new Error(`log holds ${kept} revisions at ${rev}`);
    }
    // A burst committed in one group is compacted after its commit too.
    await Promise.all(Array.from({ length: 500 }, (_, i) => s.create(`/b/${i}`, "x")));
    const last = await s.currentRevision();
    expect(last - (await s.compactedRevision())).toBeLessThan(200);
    // The window itself is kept: a watch from within it replays, one from before it is refused.
    const w = s.watch("/b/", { afterRevision: last - 100 });
    expect((await w[Symbol.asyncIterator]().next()).value?.revision).toBe(last - 99);
    w.close();
    const old = s.watch("/u/", { afterRevision: 1 });
    expect(
      await old[Symbol.asyncIterator]()
        .next()
        .catch((e) => e.name),
    ).toBe("CompactedError");
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("history is kept by time too: no revision written within historyMs is compacted", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kube-history-"));
  let now = 1_000_000;
  const s = await openStore({
    dataDir: dir,
    compactWindow: 10,
    historyMs: 60_000,
    compactIntervalMs: 3_600_000,
    now: () => now,
  });
  try {
    let rev = (await s.create("/u/a", "0")).modRevision;
    const write = async (n: number) => {
      for (let i = 0; i < n; i++) rev = (await s.update("/u/a", `v${i}`, rev)).modRevision;
      return rev;
    };
    const a = await write(100);
    now += 30_000;
    const b = await write(100);
    // Twenty times the window of 10, but all written within the last minute: nothing goes.
    expect(await s.compactedRevision()).toBe(0);
    now += 31_000;
    await write(100);
    // The second hundred is 31 s old: kept.
    expect(await s.compactedRevision()).toBeLessThanOrEqual(a);
    now += 30_000;
    await write(100);
    // The first hundred is 91 s old and goes; the third, 30 s old, stays.
    await waitFor("compaction of what is older than a minute", async () => (await s.compactedRevision()) >= a);
    expect(await s.compactedRevision()).toBeLessThanOrEqual(b);
    const w = s.watch("/u/", { afterRevision: b });
    expect((await w[Symbol.asyncIterator]().next()).value?.revision).toBe(b + 1);
    w.close();
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a watcher is caught up at the store's revision once it read every event, writes elsewhere included", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kube-caught-up-"));
  const s = await openStore({ dataDir: dir });
  try {
    await s.create("/other/first", "0"); // afterRevision 0 would mean "from now"
    const start = (await s.create("/w/a", "0")).modRevision;
    await s.create("/other/x", "0");
    const w = s.watch("/w/", { afterRevision: start - 1 });
    const it = w[Symbol.asyncIterator]();
    // Replaying the log: not yet.
    expect(w.caughtUp?.()).toBeUndefined();
    expect((await it.next()).value?.revision).toBe(start);
    const next = it.next();
    await s.create("/other/y", "0");
    expect(w.caughtUp?.()).toBe(await s.currentRevision());
    // An event waiting in its buffer: not caught up until it is read.
    await s.create("/w/b", "0");
    const b = await s.currentRevision();
    await s.create("/w/c", "0");
    expect((await next).value?.revision).toBe(b);
    expect(w.caughtUp?.()).toBeUndefined();
    expect(w.takeReady(10).map((e) => e.kv.key)).toEqual(["/w/c"]);
    expect(w.caughtUp?.()).toBe(await s.currentRevision());
    w.close();
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the read cache holds keys that were read, not every key written", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kube-cache-"));
  const s = await SqliteStore.open({ dataDir: dir });
  try {
    await Promise.all(Array.from({ length: 1000 }, (_, i) => s.create(`/registry/events/default/e${i}`, `{"i":${i}}`)));
    expect(s.cachedKeys).toBe(0);
    expect((await s.get("/registry/events/default/e7")).kv?.value).toBe('{"i":7}');
    expect(s.cachedKeys).toBe(1);
    // A cached key follows its writes; a delete drops it.
    const kv = await s.update("/registry/events/default/e7", '{"i":"seven"}', 0);
    expect((await s.get("/registry/events/default/e7")).kv).toEqual(kv);
    await s.update("/registry/events/default/e8", '{"i":"eight"}', 0);
    expect(s.cachedKeys).toBe(1);
    await s.delete("/registry/events/default/e7", 0);
    expect(s.cachedKeys).toBe(0);
    expect((await s.get("/registry/events/default/e7")).kv).toBeNull();
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the read cache stays within its bound (32M characters) through writes and reads, and its values stay right", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kube-cache-"));
  const s = await SqliteStore.open({ dataDir: dir });
  try {
    const value = (i: number, v = 0) => `{"i":${i},"v":${v},"pad":"${"x".repeat(1_900_000)}"}`;
    const key = (i: number) => `/registry/configmaps/default/c${i}`;
    for (let i = 0; i < 24; i++) await s.create(key(i), value(i), { readSoon: true });
    expect(s.cachedKeys).toBe(17);
    // Reading every key in turn (most from SQLite) keeps the bound; an update of an old one too.
    for (let i = 0; i < 24; i++) expect((await s.get(key(i))).kv?.value).toBe(value(i));
    expect(s.cachedKeys).toBe(17);
    await s.update(key(3), value(3, 1), 0);
    expect((await s.get(key(3))).kv?.value).toBe(value(3, 1));
    expect(s.cachedKeys).toBe(17);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

test("a create marked readSoon is cached once committed, and writes after it in the same batch win", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kube-cache-"));
  const s = await SqliteStore.open({ dataDir: dir });
  try {
    const a = await s.create("/registry/pods/default/a", '{"n":"a"}', { readSoon: true });
    expect(s.cachedKeys).toBe(1);
    expect((await s.get("/registry/pods/default/a")).kv).toEqual(a);
    // One turn, one transaction: the create is followed by an update and by a delete of other keys.
    const [, b2, , c2] = await Promise.all([
      s.create("/registry/pods/default/b", '{"n":"b"}', { readSoon: true }),
      s.update("/registry/pods/default/b", '{"n":"b2"}', 0),
      s.create("/registry/pods/default/c", '{"n":"c"}', { readSoon: true }),
      s.delete("/registry/pods/default/c", 0),
    ]);
    expect(b2.modRevision).toBe(a.modRevision + 2);
    expect((await s.get("/registry/pods/default/b")).kv).toEqual(b2);
    expect(c2.modRevision).toBe(a.modRevision + 4);
    expect((await s.get("/registry/pods/default/c")).kv).toBeNull();
    // A create that fails (the key exists) caches nothing new and leaves the value as it was.
    await expect(s.create("/registry/pods/default/b", '{"n":"x"}', { readSoon: true })).rejects.toThrow(KeyExistsError);
    expect((await s.get("/registry/pods/default/b")).kv).toEqual(b2);
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

describe("process ownership and crashes", () => {
  test("a second process opening the data dir is refused with a message naming the holder", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kube-lock-"));
    const holder = child(dir, `console.log("open"); await new Promise(() => {});`);
    await readUntil(holder.stdout, (t) => t.includes("open"));
    const err = await openStore({ dataDir: dir }).catch((e) => e);
    holder.kill();
    await holder.exited;
    expect(err).toBeInstanceOf(LockedError);
    expect(err.message).toBe(`data dir ${dir} is in use by another kube process (pid ${holder.pid})`);
    const after = await openStore({ dataDir: dir });
    await after.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("SIGKILL in the middle of writes loses no acknowledged write and keeps revisions continuous", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kube-crash-"));
    const writer = child(
      dir,
      `for (let i = 0; ; i++) { const kv = await s.create("/k/" + String(i).padStart(8, "0"), "v" + i); console.log(kv.modRevision); }`,
    );
    const text = await readUntil(writer.stdout, (t) => t.split("\n").length > 2000);
    writer.kill("SIGKILL");
    await writer.exited;
    const acked = text
      .split("\n")
      .filter((l) => /^\d+$/.test(l))
      .map(Number);
    const s = await openStore({ dataDir: dir });
    const list = await s.list("/k/");
    const revs = list.kvs.map((kv) => kv.modRevision);
    expect(revs.length).toBeGreaterThanOrEqual(acked.length);
    expect(revs.slice(0, acked.length)).toEqual(acked);
    expect(revs).toEqual(revs.map((_, i) => i + 1));
    const next = await s.create("/after", "x");
    expect(next.modRevision).toBe(revs.length + 1);
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("data format versions", () => {
  const { Database } = require("bun:sqlite") as typeof import("bun:sqlite");

  test("an older data dir (no version, no key index) is migrated on open and keeps its objects", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kube-schema-"));
    const s = await openStore({ dataDir: dir });
    await s.create("/registry/configmaps/default/a", "{}");
    await s.close();
    const raw = new Database(join(dir, "kube.db"));
    raw.exec("DROP INDEX kv_keys; DELETE FROM meta WHERE name = 'schema_version';");
    raw.close();
    const again = await openStore({ dataDir: dir });
    expect((await again.get("/registry/configmaps/default/a")).kv?.value).toBe("{}");
    await again.close();
    const check = new Database(join(dir, "kube.db"));
    expect(check.query("SELECT value FROM meta WHERE name = 'schema_version'").get()).toEqual({ value: 2 });
    expect(check.query("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'kv_keys'").get()).toEqual({
      name: "kv_keys",
    });
    check.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("auto_vacuum is incremental in a new data dir, and in an older one after its first open", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kube-vacuum-"));
    const s = await openStore({ dataDir: dir });
    await s.create("/registry/configmaps/default/a", "{}");
    await s.close();
    const mode = () => {
      const db = new Database(join(dir, "kube.db"));
      const m = (db.query("PRAGMA auto_vacuum").get() as { auto_vacuum: number }).auto_vacuum;
      db.close();
      return m;
    };
    expect(mode()).toBe(2);
    // As dirs made before this fix: auto_vacuum off.
    const raw = new Database(join(dir, "kube.db"));
    raw.exec("PRAGMA auto_vacuum = NONE; VACUUM;");
    raw.close();
    expect(mode()).toBe(0);
    const again = await openStore({ dataDir: dir });
    expect((await again.get("/registry/configmaps/default/a")).kv?.value).toBe("{}");
    await again.close();
    expect(mode()).toBe(2);
    rmSync(dir, { recursive: true, force: true });
  });

  test("a new data dir has 16 KiB pages; one made with 4 KiB pages keeps them, and its objects", async () => {
    const pageSize = (dir: string) => {
      const db = new Database(join(dir, "kube.db"));
      const q = db.prepare("PRAGMA page_size");
      const size = (q.get() as { page_size: number }).page_size;
      q.finalize();
      db.close();
      return size;
    };
    const fresh = mkdtempSync(join(tmpdir(), "kube-pages-"));
    await (await openStore({ dataDir: fresh })).close();
    expect(pageSize(fresh)).toBe(16384);
    // As a kube before 16 KiB pages made it: SQLite's default 4 KiB pages.
    const dir = mkdtempSync(join(tmpdir(), "kube-pages-"));
    const raw = new Database(join(dir, "kube.db"));
    raw.exec(PRAGMAS.replace(/PRAGMA page_size = \d+;/, "PRAGMA page_size = 4096;") + SCHEMA);
    raw.close();
    const s = await openStore({ dataDir: dir });
    await s.create("/registry/configmaps/default/a", "{}");
    await s.close();
    expect(pageSize(dir)).toBe(4096);
    const again = await openStore({ dataDir: dir });
    await again.create("/registry/configmaps/default/b", "{}");
    expect((await again.list("/registry/configmaps/default/")).kvs.map((kv) => kv.key)).toEqual([
      "/registry/configmaps/default/a",
      "/registry/configmaps/default/b",
    ]);
    await again.close();
    expect(pageSize(dir)).toBe(4096);
    for (const d of [fresh, dir]) rmSync(d, { recursive: true, force: true });
  });

  test("a data dir written by a newer kube is refused with a one-line message and left untouched", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kube-schema-"));
    await (await openStore({ dataDir: dir })).close();
    const raw = new Database(join(dir, "kube.db"));
    raw.exec("UPDATE meta SET value = 99 WHERE name = 'schema_version'");
    raw.close();
    const err = await openStore({ dataDir: dir }).catch((e) => e);
    expect(err.message).toBe(
      `data dir ${dir} was written by a newer kube (data format 99); this kube reads up to format 2: upgrade kube`,
    );
    const up = Bun.spawn(
      [
        process.execPath,
        join(import.meta.dir, "../../main.ts"),
        "up",
        "--data-dir",
        dir,
        "--port",
        "0",
        "--runtime",
        "sim",
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    const [stderr, code] = [await new Response(up.stderr).text(), await up.exited];
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(`error: ${err.message}`);
    // Refused, not rewritten: the version is still the newer one, and the lock was released.
    const check = new Database(join(dir, "kube.db"));
    expect(check.query("SELECT value FROM meta WHERE name = 'schema_version'").get()).toEqual({ value: 99 });
    check.close();
    await (await openStore({ dataDir: dir }).catch(() => ({ close: async () => {} }))).close();
    rmSync(dir, { recursive: true, force: true });
  });
});
