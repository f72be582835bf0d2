// Pod start latency through the whole cluster (API, scheduler, kubelet, Podman): 20 busybox
// pods created one after another, each timed from create to Running as seen by a watch.
// Reference, same run: the same infra + app containers created and started directly through
// the Engine API. Then a burst: 50 pods created at once, timed until all are Ready, against 50
// parallel raw pods on the engine's HTTP API (bench/lib/raw-burst.ts). Also the kubelet's CPU
// use with those 50 idle pods.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient, httpTransport } from "../src/client/index.ts";
import { connectEngine } from "../src/components/kubelet/runtime/index.ts";
import { startKube } from "./lib/kube-up.ts";
import { rawBurst } from "./lib/raw-burst.ts";
import { cpuSeconds, percentile, round } from "./lib/stats.ts";

const N = 20;
const BURST = 50;
const IMAGE = "localhost/busybox:latest";

type PodView = {
  metadata: { name: string };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
};
const isReady = (p: PodView) => !!p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");

/** `bun run bench podstart [burst]`: with "burst", only the burst and its reference. */
export default async function main(args: string[] = []): Promise<void> {
  const burstOnly = args.includes("burst");
  Bun.spawnSync(["bash", join(import.meta.dir, "../scripts/podman-setup.sh")]);
  const engine = await connectEngine({});
  await engine.ensurePauseImage();
  await engine.ensureImage(IMAGE, "IfNotPresent");

  const raw: number[] = [];
  for (let i = 0; i < (burstOnly ? 0 : N); i++) {
    const t0 = performance.now();
    const sb = await engine.createPodSandbox({
      podUid: `bench-${i}`,
      podName: `raw-${i}`,
      namespace: "bench",
      hostname: `raw-${i}`,
      labels: { "io.kube.node": "bench-raw" },
    });
    const id = await engine.createContainer(sb.id, {
      name: "c",
      image: IMAGE,
      command: ["sleep", "3600"],
      labels: { "io.kube.node": "bench-raw" },
    });
    await engine.startContainer(id);
    raw.push(performance.now() - t0);
  }
  for (const c of await engine.listContainers({ "io.kube.node": "bench-raw" }))
    if (c.kind === "app") await engine.removeContainer(c.id).catch(() => {});
  for (const c of await engine.listContainers({ "io.kube.node": "bench-raw" }))
    await engine.removeContainer(c.id).catch(() => {});

  // The reference burst: 50 raw pods (infra + app container) at once, straight on the socket.
  const engineCpu = engineCpuOf(engine.socketPath);
  const e0 = engineCpu?.();
  let rawEngineCpu = 0;
  const rawBurstMs = await rawBurst(engine.socketPath, BURST, IMAGE, "bench-raw-burst", () => {
    rawEngineCpu = (engineCpu?.() ?? 0) - (e0 ?? 0);
  });

  const kube = await startKube(["--runtime", "engine", "--node-name", `bench-${process.pid}`, "--clean-on-exit"]);
  const client = createClient(httpTransport(kube.url, kube.token, { ca: kube.ca }));
  const pods = client.resource("pods", "default");
  const running = new Map<string, number>();
  const ready = new Map<string, number>();
  const gone = new Set<string>();
  const w = pods.watch({});
  void (async () => {
    for await (const ev of w) {
      const p = ev.object as PodView;
      if (ev.type === "DELETED") gone.add(p.metadata.name);
      if (p.status?.phase === "Running" && !running.has(p.metadata.name))
        running.set(p.metadata.name, performance.now());
      if (isReady(p) && !ready.has(p.metadata.name)) ready.set(p.metadata.name, performance.now());
    }
  })();
  const times: number[] = [];
  const podOf = (name: string) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: "c", image: IMAGE, imagePullPolicy: "IfNotPresent", command: ["sleep", "3600"] }],
    },
  });
  for (let i = 0; i < (burstOnly ? 0 : N); i++) {
    const name = `p-${i}`;
    const t0 = performance.now();
    await pods.create(podOf(name));
    while (!running.has(name)) await Bun.sleep(2);
    times.push(running.get(name)! - t0);
  }
  // The burst starts from an empty node, as the raw one did.
  await Promise.all(times.map((_, i) => pods.delete(`p-${i}`, { gracePeriodSeconds: 0 })));
  while (gone.size < times.length) await Bun.sleep(20);
  while ((await engine.listContainers({ "io.kube.node": `bench-${process.pid}` })).length) await Bun.sleep(100);
  const b0 = performance.now();
  const be0 = engineCpu?.() ?? 0;
  const kc0 = cpuSeconds(kube.pid);
  await Promise.all(Array.from({ length: BURST }, (_, i) => pods.create(podOf(`b-${i}`))));
  const burst = Array.from({ length: BURST }, (_, i) => `b-${i}`);
  while (!burst.every((n) => ready.has(n))) await Bun.sleep(5);
  const burstMs = Math.max(...burst.map((n) => ready.get(n)!)) - b0;
  // The kube process's own CPU for the burst (API, scheduler, kubelet): on a busy machine it competes with the engine.
  const kubeCpu = ` kube_cpu_s=${round(cpuSeconds(kube.pid) - kc0, 2)}`;
  // The engine's CPU for the kubelet's burst against the raw one's: what wall time hides under load.
  const cpuPart = engineCpu
    ? ` engine_cpu_s=${round(engineCpu() - be0, 2)} raw_engine_cpu_s=${round(rawEngineCpu, 2)} ` +
      `engine_cpu_ratio=${round((engineCpu() - be0) / rawEngineCpu, 2)}`
    : "";
  if (burstOnly) {
    w.close();
    await kube.stop();
    console.log(
      `podstart: burst50_ms=${round(burstMs)} raw_burst50_ms=${round(rawBurstMs)} burst_ratio=${round(burstMs / rawBurstMs, 2)}${cpuPart}${kubeCpu}`,
    );
    return;
  }
  // Idle CPU with the burst's 50 pods: 30 s of watching the process.
  const c0 = cpuSeconds(kube.pid);
  const t0 = performance.now();
  await Bun.sleep(30_000);
  const idlePct = ((cpuSeconds(kube.pid) - c0) / ((performance.now() - t0) / 1000)) * 100;
  w.close();
  await kube.stop();
  const p50 = round(percentile(times, 50));
  const p99 = round(percentile(times, 99));
  const rawP50 = round(percentile(raw, 50));
  console.log(
    `pods: p50 ${p50} ms, p99 ${p99} ms; raw engine: p50 ${rawP50} ms; kubelet idle CPU with 50 pods: ${round(idlePct, 1)}% of a core`,
  );
  console.log(`burst of ${BURST}: all Ready in ${round(burstMs)} ms; raw engine: ${round(rawBurstMs)} ms`);
  console.log(
    `podstart: pod_p50_ms=${p50} pod_p99_ms=${p99} raw_p50_ms=${rawP50} ratio=${round(p50 / rawP50, 2)} ` +
      `burst50_ms=${round(burstMs)} raw_burst50_ms=${round(rawBurstMs)} burst_ratio=${round(burstMs / rawBurstMs, 2)}${cpuPart}${kubeCpu}`,
  );
}

/**
 * The CPU seconds (its own and its reaped children's: network setup) of the process serving the
 * engine's socket, found with `ss`; undefined when it cannot be read (another user's daemon).
 */
function engineCpuOf(socket: string): (() => number) | undefined {
  const out = Bun.spawnSync(["ss", "-xlpn", "src", socket]).stdout.toString();
  const pid = Number(/pid=(\d+)/.exec(out)?.[1]);
  if (!pid || !existsSync(`/proc/${pid}/stat`)) return undefined;
  return () => {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
  };
}
