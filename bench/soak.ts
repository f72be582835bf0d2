// `bun run bench soak`: deployment churn on hollow nodes for SOAK_MINUTES (default 5): workers
// create a Deployment, scale it up, then delete it, over and over. Every 10 s the `kube up`
// process's RSS and the store's size are sampled; the slopes are fitted over the samples after the
// first minute (warm-up). Events live for --event-ttl (1m here, so that the run reaches its steady
// state; with the default 1h the store grows for the first hour).
//
// db is what the store takes on disk: kube.db plus its WAL, file sizes as they are. It includes
// the free pages (compaction returns them with incremental_vacuum) and the WAL (cut back to 16 MiB
// when the writer starts it over, its checkpoints bounding it meanwhile), so neither can grow unseen; the
// WAL makes it a sawtooth of a few MB around the trend. live is the data alone, (page_count -
// freelist_count) * page_size read through a read-only connection: printed to tell a growing data
// set from a growing file, not used for the target. The load average is printed because the run's
// speed (cycles) depends on it and the store's steady size depends on the speed.
import { Database } from "bun:sqlite";
import { loadavg } from "node:os";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createClient, httpTransport } from "../src/client/index.ts";
import { startKube } from "./lib/kube-up.ts";
import { round } from "./lib/stats.ts";

const MINUTES = Number(process.env.SOAK_MINUTES ?? 5);
const WORKERS = 4;

const rssMb = (pid: number) => Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)![1]) / 1024;
const dbMb = (dir: string) =>
  ["kube.db", "kube.db-wal"].reduce(
    (s, f) =>
      s +
      (() => {
        try {
          return statSync(join(dir, f)).size;
        } catch {
          return 0;
        }
      })(),
    0,
  ) /
  2 ** 20;

/** The database's pages in use (not free), in MB; undefined if it cannot be read right now. */
function liveMb(dir: string): number | undefined {
  let db: Database | undefined;
  try {
    db = new Database(join(dir, "kube.db"), { readonly: true });
    const q = (sql: string) => Object.values(db!.query(sql).get() as Record<string, number>)[0]!;
    return ((q("PRAGMA page_count") - q("PRAGMA freelist_count")) * q("PRAGMA page_size")) / 2 ** 20;
  } catch {
    return undefined;
  } finally {
    db?.close();
  }
}

/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const num = points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0);
  const den = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  return den ? num / den : 0;
}

export default async function main(): Promise<void> {
  const kube = await startKube([
    "--runtime",
    "sim",
    "--sim-nodes",
    "10",
    "--node-name",
    "soak",
    "--event-ttl",
    "1m",
    "--disable",
    "ingress",
  ]);
  const client = createClient(httpTransport(kube.url, kube.token, { ca: kube.ca }));
  const deployments = client.resource("deployments", "default");
  const end = performance.now() + MINUTES * 60_000;
  let cycles = 0;
  const deployment = (name: string, replicas: number) => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "c", image: "localhost/busybox:latest" }] },
      },
    },
  });
  const available = async (name: string, n: number) => {
    const deadline = performance.now() + 30_000;
    while (performance.now() < deadline) {
      const d = (await deployments.get(name)) as { status?: { availableReplicas?: number } };
      if ((d.status?.availableReplicas ?? 0) >= n) return;
      await Bun.sleep(100);
    }
  };
  const worker = async (w: number) => {
    for (let i = 0; performance.now() < end; i++) {
      const name = `churn-${w}-${i}`;
      await deployments.create(deployment(name, 5));
      await available(name, 5);
      await deployments.patch(name, { spec: { replicas: 10 } }, "merge", { subresource: "scale" });
      await available(name, 10);
      await deployments.delete(name);
      cycles++;
    }
  };
  const samples: { t: number; rss: number; db: number; live?: number }[] = [];
  const t0 = performance.now();
  const sample = () =>
    samples.push({
      t: (performance.now() - t0) / 60_000,
      rss: rssMb(kube.pid),
      db: dbMb(kube.dataDir),
      live: liveMb(kube.dataDir),
    });
  sample();
  const timer = setInterval(sample, 10_000);
  await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
  clearInterval(timer);
  sample();
  await kube.stop();
  const steady = samples.filter((s) => s.t >= 1);
  for (const s of samples)
    console.log(
      `t=${round(s.t, 2)}min rss=${round(s.rss)}MB db=${round(s.db, 1)}MB live=${s.live === undefined ? "?" : round(s.live, 1)}MB`,
    );
  console.log(
    `cycles=${cycles} (each: a deployment of 5, scaled to 10, deleted); load average ${loadavg()
      .map((l) => round(l, 1))
      .join(" ")}`,
  );
  const rssSlope = round(slope(steady.map((s) => [s.t, s.rss])), 2);
  const dbSlope = round(slope(steady.map((s) => [s.t, s.db])), 2);
  const liveSlope = round(slope(steady.filter((s) => s.live !== undefined).map((s) => [s.t, s.live!])), 2);
  console.log(
    `soak: minutes=${MINUTES} rss_slope_mb_min=${rssSlope} db_slope_mb_min=${dbSlope} live_slope_mb_min=${liveSlope} cycles=${cycles}`,
  );
}
