// `kube up --runtime sim` from launch to /readyz (the compiled binary when dist/kube exists,
// else bun src/main.ts), idle memory with no pods and with 1000 hollow pods on 10 nodes, and
// idle CPU with 10 pods over 30 s.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createClient, httpTransport } from "../src/client/index.ts";
import { testServiceCidr } from "./lib/kube-up.ts";
import { percentile, round, tempDir } from "./lib/stats.ts";

const BINARY = join(import.meta.dir, "../dist/kube");
const cmd = () => (existsSync(BINARY) ? [BINARY] : [process.execPath, join(import.meta.dir, "../src/main.ts")]);

const rssMb = (pid: number) => Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)![1]) / 1024;
const cpuSeconds = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
};

async function launch(port: number, dataDir: string): Promise<{ proc: ReturnType<typeof Bun.spawn>; readyMs: number }> {
  const t0 = performance.now();
  const proc = Bun.spawn(
    [
      ...cmd(),
      "up",
      "--runtime",
      "sim",
      "--sim-nodes",
      "10",
      "--node-name",
      "idle",
      "--data-dir",
      dataDir,
      "--port",
      String(port),
      "--service-cidr",
      testServiceCidr(),
    ],
    { stdout: "ignore", stderr: "inherit" },
  );
  for (;;) {
    try {
      const ca = readFileSync(join(dataDir, "pki", "ca.crt"), "utf8");
      if ((await fetch(`https://127.0.0.1:${port}/readyz`, { tls: { ca } } as RequestInit)).ok) break;
    } catch {}
    await Bun.sleep(2);
  }
  return { proc, readyMs: performance.now() - t0 };
}

export default async function main(): Promise<void> {
  console.log(`launching ${existsSync(BINARY) ? "dist/kube (compiled)" : "bun src/main.ts"}`);
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const dir = tempDir("startup");
    const { proc, readyMs } = await launch(21000 + i, dir);
    runs.push(readyMs);
    proc.kill("SIGTERM");
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
  }
  const ready = round(percentile(runs, 50));
  console.log(`ready: ${runs.map((r) => round(r)).join(", ")} ms (median ${ready})`);

  const dir = tempDir("startup");
  const port = 21100;
  const { proc } = await launch(port, dir);
  const client = createClient(
    httpTransport(`https://127.0.0.1:${port}`, readFileSync(join(dir, "token"), "utf8").trim(), {
      ca: readFileSync(join(dir, "pki", "ca.crt"), "utf8"),
    }),
  );
  await Bun.sleep(10_000);
  const idleRss = round(rssMb(proc.pid));
  const deploy = (replicas: number) => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "idle" },
    spec: {
      replicas,
      selector: { matchLabels: { app: "idle" } },
      template: {
        metadata: { labels: { app: "idle" } },
        spec: { containers: [{ name: "c", image: "localhost/busybox:latest" }] },
      },
    },
  });
  const runningCount = async () =>
    (await client.resource("pods", "default").list({ fieldSelector: "status.phase=Running" })).items.length;
  await client.resource("deployments", "default").create(deploy(10));
  while ((await runningCount()) < 10) await Bun.sleep(100);
  await Bun.sleep(2000);
  const c0 = cpuSeconds(proc.pid);
  const t0 = performance.now();
  await Bun.sleep(30_000);
  const idleCpu = round(((cpuSeconds(proc.pid) - c0) / ((performance.now() - t0) / 1000)) * 100, 2);
  await client
    .resource("deployments", "default")
    .patch("idle", { spec: { replicas: 1000 } }, "merge", { subresource: "scale" });
  while ((await runningCount()) < 1000) await Bun.sleep(250);
  await Bun.sleep(10_000);
  const rss1000 = round(rssMb(proc.pid));
  proc.kill("SIGTERM");
  await proc.exited;
  rmSync(dir, { recursive: true, force: true });
  const size = existsSync(BINARY) ? round(Bun.file(BINARY).size / 2 ** 20, 1) : 0;
  console.log(
    `idle RSS ${idleRss} MB; with 1000 hollow pods ${rss1000} MB; idle CPU with 10 pods ${idleCpu}% of a core; binary ${size} MiB`,
  );
  console.log(`startup: ready_ms=${ready} idle_rss_mb=${idleRss} rss_1000pods_mb=${rss1000} idle_cpu_pct=${idleCpu}`);
}
