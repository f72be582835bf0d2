// Controllers at scale on 100 hollow nodes (the whole cluster in this process, sim runtime):
// one ReplicaSet scaled from 0 to 3000 replicas, timed until every pod is Running as seen by a
// watch; then a rolling update of a 1000-replica Deployment (maxSurge 25%) until it is complete.
import { rmSync } from "node:fs";
import { clusterComponents } from "../src/cli/components.ts";
import { createApiServer } from "../src/components/apiserver/index.ts";
import { createClient, inProcessTransport } from "../src/client/index.ts";
import type { Pod } from "../src/api/kinds/pod.ts";
import type { ComponentContext } from "../src/components/types.ts";
import { openStore } from "../src/store/index.ts";
import { peakRssMb, round, tempDir } from "./lib/stats.ts";
import { clusterConfig } from "../src/components/config.ts";

const NODES = Number(process.env.BENCH_NODES ?? 100);
const SCALE = Number(process.env.BENCH_SCALE ?? 3000);
const ROLL = Number(process.env.BENCH_ROLL ?? 1000);

export default async function main(): Promise<void> {
  const dir = tempDir("controllers");
  const store = await openStore({ dataDir: dir });
  const api = createApiServer({ store, token: "t" });
  await api.ready;
  const client = createClient(inProcessTransport(api.fetch, "t"));
  const ctx: ComponentContext = {
    client,
    nodeName: "hollow",
    runtime: "sim",
    simNodes: NODES,
    dataDir: dir,
    apiUrl: "in-process",
    log: () => {},
    config: clusterConfig(),
  };
  const running = [];
  for (const c of clusterComponents()) if (c.name !== "proxy") running.push(await c.start(ctx));
  const template = (app: string, image = "localhost/busybox:latest") => ({
    metadata: { labels: { app } },
    spec: { containers: [{ name: "c", image, resources: { requests: { cpu: "10m", memory: "8Mi" } } }] },
  });

  const runningPods = async (selector: string, want: number, image?: string) => {
    const seen = new Set<string>();
    const w = client.resource("pods", "default").watch({ labelSelector: selector, resourceVersion: "0" });
    for await (const ev of w) {
      const p = ev.object as Pod;
      const ok =
        p.status?.phase === "Running" &&
        !p.metadata?.deletionTimestamp &&
        (!image || p.spec.containers[0]!.image === image);
      if (ev.type === "DELETED" || !ok) seen.delete(p.metadata!.name!);
      else seen.add(p.metadata!.name!);
      if (seen.size >= want) break;
    }
    w.close();
  };

  await client.resource("replicasets", "default").create({
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name: "big" },
    spec: { replicas: 0, selector: { matchLabels: { app: "big" } }, template: template("big") },
  });
  const s0 = performance.now();
  const scaled = runningPods("app=big", SCALE);
  await client
    .resource("replicasets", "default")
    .patch("big", { spec: { replicas: SCALE } }, "merge", { subresource: "scale" });
  await scaled;
  const scaleS = (performance.now() - s0) / 1000;
  console.log(`scale 0 -> ${SCALE}: all Running after ${round(scaleS, 2)} s (${round(SCALE / scaleS)} pods/s)`);
  await client.resource("replicasets", "default").delete("big");

  const deploys = client.resource("deployments", "default");
  await deploys.create({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "roll" },
    spec: {
      replicas: ROLL,
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
      selector: { matchLabels: { app: "roll" } },
      template: template("roll"),
    },
  });
  const complete = async () => {
    for (;;) {
      const d = (await deploys.get("roll")) as {
        metadata: { generation: number };
        status?: {
          observedGeneration?: number;
          updatedReplicas?: number;
          replicas?: number;
          availableReplicas?: number;
        };
      };
      const s = d.status ?? {};
      if (
        d.metadata.generation <= (s.observedGeneration ?? 0) &&
        s.updatedReplicas === ROLL &&
        s.replicas === ROLL &&
        s.availableReplicas === ROLL
      )
        return;
      await Bun.sleep(50);
    }
  };
  await complete();
  const r0 = performance.now();
  await deploys.patch(
    "roll",
    { spec: { template: { spec: { containers: [{ name: "c", image: "localhost/busybox:v2" }] } } } },
    "strategic",
  );
  await complete();
  const rollS = (performance.now() - r0) / 1000;
  console.log(`rolling update of ${ROLL} replicas: ${round(rollS, 2)} s; peak rss ${peakRssMb()} MB`);
  for (const r of running.reverse()) await r.stop();
  api.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(
    `controllers: scale3000_s=${round(scaleS, 2)} pods_per_s=${round(SCALE / scaleS)} rollout1000_s=${round(rollS, 2)}`,
  );
}
