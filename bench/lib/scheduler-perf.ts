// Workloads shaped like upstream's scheduler_perf (test/integration/scheduler_perf): nodes, pods
// created first (init), then the measured pods; pods/s from the first measured create to the
// last measured pod seen bound. Each runs on its own fresh store and API server with the real
// scheduler; no kubelet (victims have a 0 s grace period so deletion needs none).
import { rmSync } from "node:fs";
import { createClient, inProcessTransport, type Client } from "../../src/client/index.ts";
import { createApiServer } from "../../src/components/apiserver/index.ts";
import { SchedulerLoop } from "../../src/components/scheduler/index.ts";
import { nodeWith } from "../../test/helpers/scheduler.ts";
import { openStore } from "../../src/store/index.ts";
import { round, tempDir } from "./stats.ts";

const CONCURRENCY = 64;
type Obj = Record<string, unknown>;

export interface Workload {
  name: string;
  /** Upstream's CI floor (pods/s) for this shape, from its performance-config.yaml. */
  threshold: number;
  nodes: number;
  zones?: string[];
  namespaces?: string[];
  priorityClasses?: Record<string, number>;
  init: { count: number; namespace: string; pod: (i: number) => Obj };
  measure: { count: number; namespace: string; pod: (i: number) => Obj };
}

const container = (cpu: string, memory: string) => ({
  name: "pause",
  image: "registry.k8s.io/pause:3.10",
  resources: { requests: { cpu, memory }, limits: { cpu, memory } },
});
const pod = (name: string, labels: Obj, spec: Obj, cpu = "100m", memory = "500Mi"): Obj => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, labels },
  spec: { containers: [container(cpu, memory)], ...spec },
});

async function inParallel(n: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

/** Resolves once `total` pods of the namespace were seen bound. */
function allBound(client: Client, ns: string, total: number): Promise<void> {
  return (async () => {
    const bound = new Set<string>();
    const w = client.resource("pods", ns).watch({ resourceVersion: "0" });
    for await (const ev of w) {
      const o = ev.object as { metadata: { name: string }; spec?: { nodeName?: string } };
      if (ev.type !== "DELETED" && o.spec?.nodeName) bound.add(o.metadata.name);
      if (bound.size >= total) break;
    }
    w.close();
  })();
}

export async function runWorkload(w: Workload): Promise<number> {
  const dir = tempDir(`sched-${w.name}`);
  const store = await openStore({ dataDir: dir });
  const api = createApiServer({ store, token: "t" });
  await api.ready;
  const client = createClient(inProcessTransport(api.fetch, "t"));
  try {
    for (const ns of w.namespaces ?? [])
      await client.resource("namespaces").create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    for (const [name, value] of Object.entries(w.priorityClasses ?? {}))
      await client
        .resource("priorityclasses")
        .create({ apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name }, value });
    await inParallel(w.nodes, (i) => {
      const zone = w.zones?.[i % w.zones.length];
      const node = nodeWith(`node-${i}`, {
        cpu: "4",
        memory: "32Gi",
        pods: 110,
        labels: zone ? { "topology.kubernetes.io/zone": zone } : {},
      });
      return client.resource("nodes").create({ apiVersion: "v1", kind: "Node", ...node });
    });
    const scheduler = new SchedulerLoop(client);
    await scheduler.start();
    try {
      const initDone = allBound(client, w.init.namespace, w.init.count);
      await inParallel(w.init.count, (i) => client.resource("pods", w.init.namespace).create(w.init.pod(i)));
      await initDone;
      const done = allBound(client, w.measure.namespace, w.measure.count);
      const t0 = performance.now();
      await inParallel(w.measure.count, (i) => client.resource("pods", w.measure.namespace).create(w.measure.pod(i)));
      await done;
      return w.measure.count / ((performance.now() - t0) / 1000);
    } finally {
      await scheduler.stop();
    }
  } finally {
    api.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const HOST = "kubernetes.io/hostname";
const ZONE = "topology.kubernetes.io/zone";

/** The shapes, with upstream's thresholds (SchedulingBasic 5000Nodes_10000Pods 680, TopologySpreading 85,
 *  SchedulingPodAffinity 5000Nodes_5000Pods 35, SchedulingPodAntiAffinity 5000Nodes_2000Pods 60, PreemptionBasic 18). */
export function workloads(scale = 1): Workload[] {
  const n = (x: number) => Math.max(1, Math.round(x * scale));
  const plain = (i: number) => pod(`p-${i}`, {}, {});
  const antiAffinity = (i: number) =>
    pod(
      `anti-${i}`,
      { color: "green", name: "test" },
      {
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              {
                labelSelector: { matchLabels: { color: "green" } },
                topologyKey: HOST,
                namespaces: ["sched-0", "sched-1"],
              },
            ],
          },
        },
      },
    );
  const affinity = (i: number) =>
    pod(
      `aff-${i}`,
      { foo: "" },
      {
        affinity: {
          podAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { labelSelector: { matchLabels: { foo: "" } }, topologyKey: ZONE, namespaces: ["sched-0", "sched-1"] },
            ],
          },
        },
      },
    );
  const spreading = (i: number) =>
    pod(
      `spread-${i}`,
      { color: "blue" },
      {
        topologySpreadConstraints: [
          {
            maxSkew: 5,
            topologyKey: HOST,
            whenUnsatisfiable: "DoNotSchedule",
            labelSelector: { matchExpressions: [{ key: "color", operator: "Exists" }] },
          },
          {
            maxSkew: 5,
            topologyKey: ZONE,
            whenUnsatisfiable: "DoNotSchedule",
            labelSelector: { matchExpressions: [{ key: "color", operator: "Exists" }] },
          },
        ],
      },
    );
  return [
    {
      name: "SchedulingBasic",
      threshold: 680,
      nodes: n(5000),
      init: { count: n(1000), namespace: "default", pod: plain },
      measure: { count: n(10000), namespace: "default", pod: (i) => pod(`m-${i}`, {}, {}) },
    },
    {
      name: "TopologySpreading",
      threshold: 85,
      nodes: n(5000),
      zones: ["moon-1", "moon-2", "moon-3"],
      init: { count: n(5000), namespace: "default", pod: plain },
      measure: { count: n(2000), namespace: "default", pod: spreading },
    },
    {
      name: "SchedulingPodAffinity",
      threshold: 35,
      nodes: n(5000),
      zones: ["zone1"],
      namespaces: ["sched-0", "sched-1"],
      init: { count: n(5000), namespace: "sched-0", pod: affinity },
      measure: { count: n(5000), namespace: "sched-1", pod: affinity },
    },
    {
      name: "SchedulingPodAntiAffinity",
      threshold: 60,
      nodes: n(5000),
      namespaces: ["sched-0", "sched-1"],
      init: { count: n(1000), namespace: "sched-0", pod: antiAffinity },
      measure: { count: n(2000), namespace: "sched-1", pod: antiAffinity },
    },
    {
      name: "PreemptionBasic",
      threshold: 18,
      nodes: n(500),
      priorityClasses: { low: 1, high: 10 },
      // Four low pods fill 3.6 of a node's 4 cpus; each high pod needs 3 cpus, so preempts 3 of them.
      init: {
        count: n(2000),
        namespace: "default",
        pod: (i) => pod(`low-${i}`, {}, { priorityClassName: "low", terminationGracePeriodSeconds: 0 }, "900m"),
      },
      measure: {
        count: n(500),
        namespace: "default",
        pod: (i) => pod(`high-${i}`, {}, { priorityClassName: "high" }, "3"),
      },
    },
  ];
}

export function workloadLine(w: Workload, rate: number): string {
  const target = w.threshold * 3;
  return `${w.name}: nodes=${w.nodes} init=${w.init.count} pods=${w.measure.count} pods_per_s=${round(rate)} upstream_threshold=${w.threshold} target_3x=${target} met=${rate >= target ? "yes" : "no"}`;
}
