// Scale: `kube up --runtime sim` with BENCH_NODES hollow nodes (default 5000), BENCH_PODS pods
// (default 100000) created through Deployments of 500 replicas, until every Deployment reports
// all replicas ready. Meanwhile a ConfigMap is updated every 200 ms (mutating API call latency,
// p99); at the end one cluster-wide LIST of all pods is timed. RSS is the kube process's peak.
// Last line: scale: nodes=N pods=P total_s=T rss_mb=M list_all_ms=L mutating_p99_ms=P
// A run whose ready count and pod count do not move for BENCH_STALL_S (default 600) ends with
// `scale: failed: ...` (how many pods exist, are bound, run) instead of waiting forever: a watch that
// lost events once left 6,000 pods unscheduled or unstarted while kube sat idle. Pods still being
// created count as progress: a ReplicaSet writes its status after a sync's 500 creates, so on a
// loaded machine no Deployment reported a ready pod for the first 10+ minutes.
import { readFileSync } from "node:fs";
import { createClient, httpTransport } from "../src/client/index.ts";
import { startKube } from "./lib/kube-up.ts";
import { percentile, round } from "./lib/stats.ts";

const NODES = Number(process.env.BENCH_NODES ?? 5000);
const PODS = Number(process.env.BENCH_PODS ?? 100000);
const PER_DEPLOYMENT = Math.min(500, PODS);
const STALL_MS = Number(process.env.BENCH_STALL_S ?? 600) * 1000;

const statusMb = (pid: number, field: "VmHWM" | "VmRSS") =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
const peakRss = (pid: number) => statusMb(pid, "VmHWM");
/** CPU seconds the process has used (user + system): the work done, whatever the machine's load. */
const cpuSeconds = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
};
const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

export default async function main(): Promise<void> {
  // BENCH_KUBE_ARGS: more `kube up` flags, space-separated (e.g. "--gc-interval 60s").
  const extra = (process.env.BENCH_KUBE_ARGS ?? "").split(" ").filter(Boolean);
  const kube = await startKube(["--runtime", "sim", "--sim-nodes", String(NODES), "--node-name", "hollow", ...extra]);
  const client = createClient(httpTransport(kube.url, kube.token, { ca: kube.ca }));
  try {
    const t0 = performance.now();
    for (;;) {
      const list = await client.resource("nodes").list();
      if (list.items.length >= NODES) break;
      await Bun.sleep(500);
    }
    console.log(`${NODES} hollow nodes registered after ${round(performance.now() - t0)} ms (load ${loadavg()})`);

    const latencies: number[] = [];
    const gets: number[] = [];
    // The prober's slowest patches, with the wall clock at their end (to find them in a
    // KUBE_BENCH_PROF_JSON profile): a p99 made of a few periodic stalls reads differently from a slow API.
    const slowest: { ms: number; endedAt: number; afterS: number }[] = [];
    const p0 = performance.now();
    let stop = false;
    const cms = client.resource("configmaps", "default");
    await cms.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "probe" }, data: { n: "0" } });
    const prober = (async () => {
      for (let i = 1; !stop; i++) {
        const s = performance.now();
        await cms.patch("probe", { data: { n: String(i) } }, "merge");
        const ms = performance.now() - s;
        latencies.push(ms);
        slowest.push({ ms, endedAt: Date.now(), afterS: (performance.now() - p0) / 1000 });
        if (slowest.length > 20) slowest.splice(slowest.indexOf(slowest.reduce((a, b) => (b.ms < a.ms ? b : a))), 1);
        const g = performance.now();
        await cms.get("probe");
        gets.push(performance.now() - g);
        await Bun.sleep(200);
      }
    })();

    const deployments = Math.ceil(PODS / PER_DEPLOYMENT);
    const d0 = performance.now();
    for (let i = 0; i < deployments; i++) {
      const replicas = Math.min(PER_DEPLOYMENT, PODS - i * PER_DEPLOYMENT);
      const s = performance.now();
      await client.resource("deployments", "default").create({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: `load-${i}` },
        spec: {
          replicas,
          selector: { matchLabels: { app: `load-${i}` } },
          template: {
            metadata: { labels: { app: `load-${i}` } },
            spec: { containers: [{ name: "c", image: "registry.k8s.io/pause:3.10" }] },
          },
        },
      });
      latencies.push(performance.now() - s);
    }
    let ready = 0;
    let exist = 0;
    let last = 0;
    let progressAt = performance.now();
    while (ready < PODS) {
      await Bun.sleep(1000);
      const list = await client.resource("deployments", "default").list();
      const now = list.items.reduce((n, d) => n + ((d.status as { readyReplicas?: number })?.readyReplicas ?? 0), 0);
      // How many pods exist, from a one-item page's remainingItemCount (the store counts keys, no objects read).
      const page = await client.resource("pods", "default").list({ limit: 1 });
      const existNow = page.items.length + (page.metadata.remainingItemCount ?? 0);
      if (now !== ready || existNow !== exist) progressAt = performance.now();
      ready = now;
      exist = existNow;
      if (performance.now() - progressAt > STALL_MS) {
        const pods = await client.resource("pods", "default").list();
        const bound = pods.items.filter((p) => (p.spec as { nodeName?: string })?.nodeName).length;
        const running = pods.items.filter((p) => (p.status as { phase?: string })?.phase === "Running").length;
        console.log(
          `scale: failed: no more ready pods for ${round(STALL_MS / 1000)} s: nodes=${NODES} pods=${PODS} ready=${ready} exist=${pods.items.length} bound=${bound} running=${running} after_s=${round((performance.now() - d0) / 1000)} rss_mb=${round(peakRss(kube.pid))} kube_cpu_s=${round(cpuSeconds(kube.pid))} load=${loadavg()}`,
        );
        throw new Error("scale: stalled");
      }
      if (performance.now() - last > 10_000) {
        last = performance.now();
        console.log(
          `${round((performance.now() - d0) / 1000)} s: ${ready}/${PODS} ready, ${exist} exist, rss ${round(peakRss(kube.pid))} MB (now ${round(statusMb(kube.pid, "VmRSS"))}), cpu ${round(cpuSeconds(kube.pid))} s, load ${loadavg()}`,
        );
      }
    }
    const total = (performance.now() - d0) / 1000;
    stop = true;
    await prober;
    // The peak before the LIST of every pod, which the server builds and sends at the end.
    console.log(`all ready: rss peak ${round(peakRss(kube.pid))} MB, now ${round(statusMb(kube.pid, "VmRSS"))} MB`);
    const l0 = performance.now();
    const c0 = cpuSeconds(kube.pid);
    const all = await client.resource("pods").list();
    const listMs = performance.now() - l0;
    const listCpu = cpuSeconds(kube.pid) - c0;
    // The same LIST again with its body only counted, not parsed: the server's part and the transfer
    // (list_all_ms also has the client's decoding and JSON.parse of every pod).
    const r0 = performance.now();
    const rc0 = cpuSeconds(kube.pid);
    const res = await fetch(`${kube.url}/api/v1/pods`, {
      headers: { authorization: `Bearer ${kube.token}` },
      tls: { ca: kube.ca },
    } as RequestInit);
    let bytes = 0;
    const reader = res.body!.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) bytes += r.value.byteLength;
    console.log(
      `listed ${all.items.length} pods in ${round(listMs)} ms (kube cpu ${round(listCpu * 1000)} ms); body only counted: ${round(bytes / 2 ** 20)} MB in ${round(performance.now() - r0)} ms (kube cpu ${round((cpuSeconds(kube.pid) - rc0) * 1000)} ms), load ${loadavg()}`,
    );
    const worst = slowest.sort((a, b) => b.ms - a.ms).slice(0, 10);
    console.log(
      `slowest patches: ${worst.map((w) => `${round(w.ms)} ms at ${round(w.afterS)} s (${w.endedAt})`).join(", ")}`,
    );
    console.log(
      `get_p99_ms=${round(percentile(gets, 99))} mutating_count=${latencies.length} kube_cpu_s=${round(cpuSeconds(kube.pid))} load=${loadavg()}`,
    );
    console.log(
      `scale: nodes=${NODES} pods=${PODS} total_s=${round(total, 1)} rss_mb=${round(peakRss(kube.pid))} list_all_ms=${round(listMs)} mutating_p99_ms=${round(percentile(latencies, 99))}`,
    );
  } finally {
    await kube.stop();
  }
}
