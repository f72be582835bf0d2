// Pod start latency through the whole cluster (API, scheduler, kubelet, Podman): 20 busybox
// pods created one after another, each timed from create to Running as seen by a watch.
// Reference, same run: the same infra + app containers created and started directly through
// the Engine API. Also the kubelet's CPU use with 50 idle pods.
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { createClient, httpTransport } from "../src/client/index.ts";
import { connectEngine } from "../src/components/kubelet/runtime/index.ts";
import { startKube } from "./lib/kube-up.ts";
import { percentile, round } from "./lib/stats.ts";

const N = 20;
const IMAGE = "localhost/busybox:latest";

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks of 1/100 s
}

export default async function main(): Promise<void> {
  Bun.spawnSync(["bash", join(import.meta.dir, "../scripts/podman-setup.sh")]);
  const engine = await connectEngine({});
  await engine.ensurePauseImage();
  await engine.ensureImage(IMAGE, "IfNotPresent");

  const raw: number[] = [];
  for (let i = 0; i < N; i++) {
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

  const kube = await startKube(["--runtime", "engine", "--node-name", `bench-${process.pid}`, "--clean-on-exit"]);
  const client = createClient(httpTransport(kube.url, kube.token, { ca: kube.ca }));
  const pods = client.resource("pods", "default");
  const running = new Map<string, number>();
  const w = pods.watch({});
  void (async () => {
    for await (const ev of w) {
      const p = ev.object as { metadata: { name: string }; status?: { phase?: string } };
      if (p.status?.phase === "Running" && !running.has(p.metadata.name))
        running.set(p.metadata.name, performance.now());
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
  for (let i = 0; i < N; i++) {
    const name = `p-${i}`;
    const t0 = performance.now();
    await pods.create(podOf(name));
    while (!running.has(name)) await Bun.sleep(2);
    times.push(running.get(name)! - t0);
  }
  // Idle CPU with 50 pods: 30 more, then 30 s of watching the process.
  for (let i = N; i < 50; i++) await pods.create(podOf(`p-${i}`));
  while (running.size < 50) await Bun.sleep(20);
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
  console.log(`podstart: pod_p50_ms=${p50} pod_p99_ms=${p99} raw_p50_ms=${rawP50} ratio=${round(p50 / rawP50, 2)}`);
}
