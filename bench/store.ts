// Store write throughput (single writes, one transaction each, through the Store) against raw
// bun:sqlite single-insert transactions on the same settings, and watch delivery latency
// from commit to 100 watchers.
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { rmSync } from "node:fs";
import { openStore } from "../src/store/index.ts";
import { percentile, round, tempDir } from "./lib/stats.ts";

const N = 20_000;
const VALUE = JSON.stringify({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "x", namespace: "default", labels: { app: "web" } },
  spec: { containers: [{ name: "c", image: "nginx" }] },
});

function rawSqlite(dir: string): number {
  const db = new Database(join(dir, "raw.db"), { create: true });
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
  db.exec(
    "CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT, create_rev INTEGER, mod_rev INTEGER) WITHOUT ROWID; " +
      "CREATE TABLE log (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT, type INTEGER, value TEXT, create_rev " +
      "INTEGER, prev_value TEXT, prev_mod_rev INTEGER)",
  );
  const insKv = db.prepare("INSERT INTO kv VALUES (?, ?, ?, ?)");
  const insLog = db.prepare("INSERT INTO log(id, key, type, value, create_rev) VALUES (?, ?, 0, ?, ?)");
  const write = db.transaction((i: number) => {
    insLog.run(i, `/registry/pods/default/p${i}`, VALUE, i);
    insKv.run(`/registry/pods/default/p${i}`, VALUE, i, i);
  });
  const t0 = performance.now();
  for (let i = 1; i <= N; i++) write(i);
  const rate = N / ((performance.now() - t0) / 1000);
  db.close();
  return rate;
}

export default async function main(): Promise<void> {
  const dir = tempDir("store");
  const sqliteRate = rawSqlite(dir);
  console.log(`raw bun:sqlite: ${round(sqliteRate)} single-write transactions/s`);

  const store = await openStore({ dataDir: join(dir, "store") });
  const t0 = performance.now();
  for (let i = 1; i <= N; i++) await store.create(`/registry/pods/default/p${i}`, VALUE);
  const storeRate = N / ((performance.now() - t0) / 1000);
  console.log(`store: ${round(storeRate)} creates/s`);

  const WATCHERS = 100;
  const EVENTS = 500;
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  const done = Array.from({ length: WATCHERS }, async () => {
    const w = store.watch("/registry/configmaps/");
    let n = 0;
    for await (const ev of w) {
      latencies.push(performance.now() - sentAt.get(ev.revision)!);
      if (++n === EVENTS) break;
    }
  });
  for (let i = 0; i < EVENTS; i++) {
    // This process is the only writer, so the next revision is known before the write.
    sentAt.set((await store.currentRevision()) + 1, performance.now());
    await store.create(`/registry/configmaps/default/c${i}`, VALUE);
    if (i % 10 === 0) await new Promise((r) => setTimeout(r, 1)); // let watchers drain like a real server would
  }
  await Promise.all(done);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  const p50 = round(percentile(latencies, 50), 3);
  const p99 = round(percentile(latencies, 99), 3);
  console.log(`watch: ${latencies.length} deliveries to ${WATCHERS} watchers, p50 ${p50} ms, p99 ${p99} ms`);
  console.log(
    [
      `store: writes_per_s=${round(storeRate)} sqlite_per_s=${round(sqliteRate)} ratio=${round(storeRate / sqliteRate, 2)}`,
      `watch_p50_ms=${p50} watch_p99_ms=${p99} watchers=${WATCHERS}`,
    ].join(" "),
  );
}
