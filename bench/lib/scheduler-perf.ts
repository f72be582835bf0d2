// Workloads shaped like upstream's scheduler_perf (test/integration/scheduler_perf): nodes, pods
// created first (init), then the measured pods; pods/s from the first measured create to the
// last measured pod seen bound. Each runs on its own fresh store and API server with the real
// scheduler; no kubelet (victims have a 0 s grace period so deletion needs none).
// Besides the wall-clock rate (which the shared machine's load skews), each line has the process's
// CPU time per measured pod (API server, store and scheduler together), the main thread's part of it
// and how busy that thread was (its CPU over the wall time: the API server, the store and the creating
// client run there, so near 1 it alone sets the pace, well under 1 the machine's load or waiting does),
// the scheduler's thread's part (sched_cpu_ms_per_pod; 0 when it runs on the main thread, the default;
// KUBE_SCHEDULER_THREAD=1 gives it its own), and the time in the scheduler's decisions alone (filter and score; wall
// time of synchronous calls, so a loaded machine inflates it), per pod; and, when pods preempt, the
// time in preemption's victim search (also wall time) per measured pod and how many searches ran.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadavg } from "node:os";
import { createClient, inProcessTransport, ndjsonLines, type Client } from "../../src/client/index.ts";
import { createApiServer, serve } from "../../src/components/apiserver/index.ts";
import { createTlsMaterial } from "../../src/components/apiserver/tls.ts";
import { runScheduler } from "../../src/components/scheduler/index.ts";
import { nodeWith } from "../../test/helpers/scheduler.ts";
import { openStore } from "../../src/store/index.ts";
import { round, tempDir, threadCpuMs, threadsCpuMs } from "./stats.ts";

const CONCURRENCY = 64;
type Obj = Record<string, unknown>;

export interface Workload {
  name: string;
  /** Upstream's CI floor (pods/s) for this shape, from its performance-config.yaml. */
  threshold: number;
  /** Our target (pods/s); 3x the threshold unless set. */
  target?: number;
  nodes: number;
  zones?: string[];
  namespaces?: string[];
  /** Labels of the namespaces created (upstream's namespace-with-labels.yaml for the NS selector cases). */
  namespaceLabels?: Record<string, string>;
  /** More init pods, in other namespaces (upstream's createPodSets). */
  initSets?: { namespaces: string[]; perNamespace: number; pod: (i: number) => Obj };
  priorityClasses?: Record<string, number>;
  init: PodSet;
  /** More init pods after `init`, one set after the other (upstream's successive createPods ops). */
  moreInit?: PodSet[];
  /** Pods created every `everyMs` while the measured pods are (upstream's churn op, mode create). */
  churn?: PodSet & { everyMs: number };
  measure: PodSet;
}

interface PodSet {
  count: number;
  namespace: string;
  pod: (i: number) => Obj;
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

export async function inParallel(n: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

/** How long a wait for bound pods may go without one more bound before it fails (BENCH_STALL_S). */
const STALL_MS = Number(process.env.BENCH_STALL_S ?? 120) * 1000;

/**
 * Resolves once every named pod of the namespace was seen bound; fails with what is missing once
 * STALL_MS pass without one more bound (a lost event or a stuck scheduler ends the run instead of
 * hanging it). The watch starts with the namespace's current pods (resourceVersion 0), or after
 * `resourceVersion` when the pods are all created later (the measured ones: a namespace holding
 * 20,000 init pods would otherwise send them all to this watch inside the measured time).
 */
export function waitBound(
  client: Client,
  namespace: string,
  names: Iterable<string>,
  resourceVersion = "0",
): Promise<void> {
  const want = new Set(names);
  const total = want.size;
  if (total === 0) return Promise.resolve();
  // Reads only: may share the scheduler informer's decoded events (in process, the same lines).
  const w = client.resource("pods", namespace).watch({ resourceVersion, shared: true });
  let progressAt = performance.now();
  let stalled: Error | undefined;
  const timer = setInterval(() => {
    if (performance.now() - progressAt < STALL_MS) return;
    const some = [...want].slice(0, 5).join(", ");
    stalled = new Error(
      `${want.size} of ${total} pods in ${namespace} not bound after ${STALL_MS / 1000} s without progress (${some}${want.size > 5 ? ", ..." : ""})`,
    );
    w.close();
  }, 1000);
  const done = (async () => {
    try {
      for await (const ev of w) {
        const o = ev.object as { metadata: { name: string }; spec?: { nodeName?: string } };
        if (ev.type !== "DELETED" && o.spec?.nodeName && want.delete(o.metadata.name)) progressAt = performance.now();
        if (want.size === 0) return;
      }
      throw stalled ?? new Error(`the watch of pods in ${namespace} ended with ${want.size} of ${total} not bound`);
    } finally {
      clearInterval(timer);
      w.close();
    }
  })();
  // Awaited later (after the creates): a failure before that is not an unhandled rejection.
  done.catch(() => {});
  return done;
}

/** Only the set's own names count: init pods already bound in the same namespace would end the measurement early. */
function allBound(client: Client, set: PodSet, resourceVersion?: string): Promise<void> {
  const names = Array.from({ length: set.count }, (_, i) => (set.pod(i).metadata as { name: string }).name);
  return waitBound(client, set.namespace, names, resourceVersion);
}

export interface WorkloadResult {
  rate: number;
  cpuMsPerPod: number;
  /** The main thread's share of it (API server, store and the creating client run there). */
  mainCpuMsPerPod: number;
  /** The scheduler's thread's share (0 when the scheduler runs on the main thread). */
  schedCpuMsPerPod: number;
  /** The main thread's CPU time over the wall time: near 1 when it alone sets the pace. */
  mainBusy: number;
  decideMsPerPod: number;
  /** Wall ms in preemption's victim search (not in decideMsPerPod) per measured pod, and how many searches ran. */
  preemptMsPerPod: number;
  preemptions: number;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * BENCH_CPU_PROFILE=DIR: a CPU profile (.cpuprofile, Chrome's format) of each workload's measured
 * phase only, through the inspector: bun's --cpu-prof covers the whole run, setup included.
 */
async function startProfile(): Promise<{ stop: (name: string) => Promise<void> } | undefined> {
  const dir = process.env.BENCH_CPU_PROFILE;
  if (!dir) return undefined;
  const { Session } = await import("node:inspector");
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))),
    );
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: Number(process.env.BENCH_CPU_PROFILE_US ?? 200) });
  await post("Profiler.start");
  return {
    async stop(name) {
      const { profile } = (await post("Profiler.stop")) as { profile: unknown };
      session.disconnect();
      const file = join(dir, `${name.replace(/\W+/g, "-")}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      console.log(`cpu profile of the measured phase: ${file}`);
    },
  };
}

/**
 * BENCH_CLIENT=process: the measured pods are created and watched bound by a client in another
 * process over HTTPS (scheduler-client.ts), as upstream's scheduler_perf client is not the API
 * server's own code; setup stays in process. Resolves `done` with the client's own elapsed ms.
 */
async function remoteClient(
  api: ReturnType<typeof createApiServer>,
  w: Workload,
  resourceVersion = "0",
): Promise<{ done: Promise<number> }> {
  const tls = await createTlsMaterial(["127.0.0.1"]);
  const served = await serve(api, { hostname: "127.0.0.1", port: 0, tls, adminToken: "t" });
  const arg = {
    server: `https://127.0.0.1:${served.port}`,
    token: "t",
    ca: tls.ca,
    workload: w.name,
    scale: Number(process.env.BENCH_SCALE ?? 1),
    resourceVersion,
  };
  const child = Bun.spawn(["bun", join(import.meta.dir, "scheduler-client.ts"), JSON.stringify(arg)], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  const lines = ndjsonLines(child.stdout.getReader());
  const next = async () => (await lines.next()).value as string | undefined;
  if ((await next()) !== "ready") throw new Error("the client process did not start");
  child.stdin.write("go\n");
  child.stdin.flush();
  const done = (async () => {
    try {
      const line = await next();
      if (!line?.startsWith("done ")) throw new Error(`the client process ended: ${line ?? "no answer"}`);
      return Number(line.slice(5));
    } finally {
      child.kill();
      await served.stop();
    }
  })();
  done.catch(() => {});
  return { done };
}

export async function runWorkload(w: Workload): Promise<WorkloadResult> {
  const dir = tempDir(`sched-${w.name.replace("/", "-")}`);
  const store = await openStore({ dataDir: dir });
  const api = createApiServer({ store, token: "t" });
  await api.ready;
  const client = createClient(inProcessTransport(api.fetch, "t"));
  try {
    for (const ns of [...(w.namespaces ?? []), ...(w.initSets?.namespaces ?? [])])
      await client
        .resource("namespaces")
        .create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels: w.namespaceLabels } });
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
    const scheduler = await runScheduler(client, (m) => console.log(`[scheduler] ${m}`));
    try {
      const initDone = allBound(client, w.init);
      await inParallel(w.init.count, (i) => client.resource("pods", w.init.namespace).create(w.init.pod(i)));
      await initDone;
      for (const set of w.moreInit ?? []) {
        const setDone = allBound(client, set);
        await inParallel(set.count, (i) => client.resource("pods", set.namespace).create(set.pod(i)));
        await setDone;
      }
      if (w.initSets) {
        const { namespaces, perNamespace, pod } = w.initSets;
        const setsDone = Promise.all(
          namespaces.map((namespace) => allBound(client, { namespace, count: perNamespace, pod })),
        );
        await inParallel(namespaces.length * perNamespace, (i) =>
          client.resource("pods", namespaces[i % namespaces.length]!).create(pod(Math.floor(i / namespaces.length))),
        );
        await setsDone;
      }
      // The measured pods do not exist yet: their watch starts now, not with the init pods of their namespace.
      const now = await client.resource("pods", w.measure.namespace).list({ limit: 1 });
      const remote =
        process.env.BENCH_CLIENT === "process" ? await remoteClient(api, w, now.metadata?.resourceVersion) : undefined;
      const done = remote ? remote.done : allBound(client, w.measure, now.metadata?.resourceVersion);
      const profile = await startProfile();
      const t0 = performance.now();
      const c0 = cpuMs();
      const m0 = threadCpuMs();
      const w0 = threadsCpuMs("Worker");
      const s0 = await scheduler.stats();
      const churn = w.churn;
      let churned = 0;
      const timer =
        churn &&
        setInterval(() => {
          if (churned < churn.count)
            void client
              .resource("pods", churn.namespace)
              .create(churn.pod(churned++))
              .catch(() => {});
        }, churn.everyMs);
      try {
        if (!remote)
          await inParallel(w.measure.count, (i) =>
            client.resource("pods", w.measure.namespace).create(w.measure.pod(i)),
          );
        await done;
      } finally {
        clearInterval(timer);
      }
      const elapsedMs = remote ? await remote.done : performance.now() - t0;
      const cpu = cpuMs() - c0;
      const mainCpu = threadCpuMs() - m0;
      const schedCpu = threadsCpuMs("Worker") - w0;
      const s1 = await scheduler.stats();
      await profile?.stop(w.name);
      return {
        rate: w.measure.count / (elapsedMs / 1000),
        cpuMsPerPod: cpu / w.measure.count,
        mainCpuMsPerPod: mainCpu / w.measure.count,
        schedCpuMsPerPod: schedCpu / w.measure.count,
        mainBusy: mainCpu / elapsedMs,
        decideMsPerPod: (s1.decisions.ms - s0.decisions.ms) / w.measure.count,
        preemptMsPerPod: (s1.preemption.ms - s0.preemption.ms) / w.measure.count,
        preemptions: s1.preemption.runs - s0.preemption.runs,
      };
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

type Term = Record<string, unknown>;
const required = (kind: "podAffinity" | "podAntiAffinity", terms: Term[]) => ({
  affinity: { [kind]: { requiredDuringSchedulingIgnoredDuringExecution: terms } },
});
const preferred = (kind: "podAffinity" | "podAntiAffinity", term: Term) => ({
  affinity: { [kind]: { preferredDuringSchedulingIgnoredDuringExecution: [{ podAffinityTerm: term, weight: 1 }] } },
});
const spreadOver = (keys: string[], when: string, selector: Term) => ({
  topologySpreadConstraints: keys.map((topologyKey) => ({
    maxSkew: 5,
    topologyKey,
    whenUnsatisfiable: when,
    labelSelector: selector,
  })),
});
/** upstream's createPodSets: 100 namespaces init-ns-0..99 (namespace-with-labels.yaml: team=devops). */
const initNamespaces = (n: number) => Array.from({ length: n }, (_, i) => `init-ns-${i}`);

/**
 * The shapes of the `performance` workloads of upstream's SchedulingBasic, TopologySpreading,
 * inter-pod affinity and PreemptionBasic families (test/integration/scheduler_perf; pod templates
 * copied field for field), with the `threshold` upstream's config/performance-config.yaml set for
 * that shape (kubernetes PR 126871; SchedulingBasic's from misc/performance-config.yaml). Upstream
 * names the shape as NODES_MEASUREDPods.
 */
export function workloads(scale = 1): Workload[] {
  const n = (x: number) => Math.max(1, Math.round(x * scale));
  const plain = (prefix: string) => (i: number) => pod(`${prefix}-${i}`, {}, {});
  const antiAffinity = (i: number) =>
    pod(
      `anti-${i}`,
      { color: "green", name: "test" },
      required("podAntiAffinity", [
        { labelSelector: { matchLabels: { color: "green" } }, topologyKey: HOST, namespaces: ["sched-0", "sched-1"] },
      ]),
    );
  const affinity = (i: number) =>
    pod(
      `aff-${i}`,
      { foo: "" },
      required("podAffinity", [
        { labelSelector: { matchLabels: { foo: "" } }, topologyKey: ZONE, namespaces: ["sched-0", "sched-1"] },
      ]),
    );
  // Upstream's preferred templates name namespaces the workload never creates (sched-test, sched-setup).
  const preferredAffinity = (i: number) =>
    pod(
      `pref-aff-${i}`,
      { color: "red" },
      preferred("podAffinity", {
        labelSelector: { matchLabels: { color: "red" } },
        topologyKey: HOST,
        namespaces: ["sched-test", "sched-setup"],
      }),
    );
  const preferredAnti = (i: number) =>
    pod(
      `pref-anti-${i}`,
      { color: "yellow" },
      preferred("podAntiAffinity", {
        labelSelector: { matchLabels: { color: "yellow" } },
        topologyKey: HOST,
        namespaces: ["sched-test", "sched-setup"],
      }),
    );
  const devops = { matchLabels: { team: "devops" } };
  const nsSelector = (
    kind: "podAffinity" | "podAntiAffinity",
    how: "required" | "preferred",
    color: string,
    key: string,
  ) => {
    const term = { labelSelector: { matchLabels: { color } }, topologyKey: key, namespaceSelector: devops };
    return (i: number) =>
      pod(`ns-${i}`, { color }, how === "required" ? required(kind, [term]) : preferred(kind, term));
  };
  const spreading = (i: number) =>
    pod(
      `spread-${i}`,
      { color: "blue" },
      spreadOver([HOST, ZONE], "DoNotSchedule", { matchExpressions: [{ key: "color", operator: "Exists" }] }),
    );
  const preferredSpreading = (i: number) =>
    pod(
      `pref-spread-${i}`,
      { color: "blue" },
      spreadOver([ZONE], "ScheduleAnyway", { matchLabels: { color: "blue" } }),
    );
  const moons = ["moon-1", "moon-2", "moon-3"];
  const nodeAffinity = (prefix: string) => (i: number) =>
    pod(
      `${prefix}-${i}`,
      {},
      {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE, operator: "In", values: ["zone1", "zone2"] }] }],
            },
          },
        },
      },
    );
  // pod-low-priority.yaml / pod-high-priority.yaml (priority by class: admission computes it).
  const low = (i: number) =>
    pod(`low-${i}`, {}, { priorityClassName: "low", terminationGracePeriodSeconds: 0 }, "900m");
  const high = (i: number) => pod(`high-${i}`, {}, { priorityClassName: "high" }, "3");
  const withNsSelector = (
    name: string,
    threshold: number,
    nodes: number,
    perNamespace: number,
    measured: number,
    make: (i: number) => Obj,
    zones?: string[],
  ): Workload => ({
    name,
    threshold,
    nodes: n(nodes),
    zones,
    namespaces: ["measure-ns-0"],
    namespaceLabels: { team: "devops" },
    init: { count: 0, namespace: "measure-ns-0", pod: make },
    initSets: { namespaces: initNamespaces(100), perNamespace: n(perNamespace), pod: make },
    measure: { count: n(measured), namespace: "measure-ns-0", pod: make },
  });
  return [
    {
      name: "SchedulingBasic/5000Nodes_10000Pods",
      threshold: 680,
      target: 5000,
      nodes: n(5000),
      init: { count: n(1000), namespace: "default", pod: plain("p") },
      measure: { count: n(10000), namespace: "default", pod: plain("m") },
    },
    {
      name: "TopologySpreading/5000Nodes_5000Pods",
      threshold: 85,
      nodes: n(5000),
      zones: moons,
      init: { count: n(5000), namespace: "default", pod: plain("p") },
      measure: { count: n(5000), namespace: "default", pod: spreading },
    },
    {
      name: "PreferredTopologySpreading/5000Nodes_5000Pods",
      threshold: 125,
      nodes: n(5000),
      zones: moons,
      init: { count: n(5000), namespace: "default", pod: plain("p") },
      measure: { count: n(5000), namespace: "default", pod: preferredSpreading },
    },
    {
      name: "SchedulingPodAffinity/5000Nodes_5000Pods",
      threshold: 35,
      nodes: n(5000),
      zones: ["zone1"],
      namespaces: ["sched-0", "sched-1"],
      init: { count: n(5000), namespace: "sched-0", pod: affinity },
      measure: { count: n(5000), namespace: "sched-1", pod: affinity },
    },
    {
      name: "SchedulingPodAntiAffinity/5000Nodes_2000Pods",
      threshold: 60,
      nodes: n(5000),
      namespaces: ["sched-0", "sched-1"],
      init: { count: n(1000), namespace: "sched-0", pod: antiAffinity },
      measure: { count: n(2000), namespace: "sched-1", pod: antiAffinity },
    },
    {
      name: "SchedulingPreferredPodAffinity/5000Nodes_5000Pods",
      threshold: 90,
      nodes: n(5000),
      namespaces: ["sched-0", "sched-1"],
      init: { count: n(5000), namespace: "sched-0", pod: preferredAffinity },
      measure: { count: n(5000), namespace: "sched-1", pod: preferredAffinity },
    },
    {
      name: "SchedulingPreferredPodAntiAffinity/5000Nodes_5000Pods",
      threshold: 90,
      nodes: n(5000),
      namespaces: ["sched-0", "sched-1"],
      init: { count: n(5000), namespace: "sched-0", pod: preferredAnti },
      measure: { count: n(5000), namespace: "sched-1", pod: preferredAnti },
    },
    withNsSelector(
      "SchedulingRequiredPodAntiAffinityWithNSSelector/5000Nodes_2000Pods",
      24,
      6000,
      40,
      2000,
      nsSelector("podAntiAffinity", "required", "green", HOST),
    ),
    withNsSelector(
      "SchedulingPreferredAntiAffinityWithNSSelector/5000Nodes_2000Pods",
      55,
      5000,
      40,
      2000,
      nsSelector("podAntiAffinity", "preferred", "green", HOST),
    ),
    withNsSelector(
      "SchedulingRequiredPodAffinityWithNSSelector/5000Nodes_2000Pods",
      35,
      5000,
      50,
      2000,
      nsSelector("podAffinity", "required", "blue", ZONE),
      ["zone1"],
    ),
    withNsSelector(
      "SchedulingPreferredAffinityWithNSSelector/5000Nodes_5000Pods",
      90,
      5000,
      50,
      5000,
      nsSelector("podAffinity", "preferred", "red", HOST),
    ),
    {
      name: "SchedulingPodMatchingAntiAffinity/5000Nodes_5000Pods",
      threshold: 595,
      nodes: n(5000),
      namespaces: ["sched-0", "sched-1"],
      init: { count: n(1000), namespace: "sched-0", pod: antiAffinity },
      // pod-with-pod-anti-affinity-label.yaml: no terms of its own, but the init pods' anti-affinity matches it.
      measure: { count: n(5000), namespace: "sched-1", pod: (i) => pod(`green-${i}`, { color: "green" }, {}) },
    },
    {
      name: "SchedulingNodeAffinity/5000Nodes_10000Pods",
      threshold: 220,
      nodes: n(5000),
      zones: ["zone1"],
      init: { count: n(5000), namespace: "default", pod: nodeAffinity("na-init") },
      measure: { count: n(10000), namespace: "default", pod: nodeAffinity("na") },
    },
    {
      // Upstream creates each init set in turn in sched-0, then the measured default pods.
      name: "MixedSchedulingBasePod/5000Nodes_5000Pods",
      threshold: 140,
      nodes: n(5000),
      zones: ["zone1"],
      namespaces: ["sched-0"],
      init: { count: n(2000), namespace: "sched-0", pod: plain("p") },
      moreInit: [affinity, antiAffinity, preferredAffinity, preferredAnti].map((make) => ({
        count: n(2000),
        namespace: "sched-0",
        pod: make,
      })),
      measure: { count: n(5000), namespace: "default", pod: plain("m") },
    },
    {
      name: "PreemptionBasic/500Nodes",
      threshold: 18,
      nodes: n(500),
      priorityClasses: { low: 1, high: 10 },
      // Four low pods fill 3.6 of a node's 4 cpus; each high pod needs 3 cpus, so preempts 3 of them.
      init: { count: n(2000), namespace: "default", pod: low },
      measure: { count: n(500), namespace: "default", pod: high },
    },
    {
      // Default pods measured while a high-priority pod that must preempt arrives every 200 ms.
      name: "PreemptionAsync/5000Nodes",
      threshold: 570,
      nodes: n(5000),
      namespaces: ["churn"],
      priorityClasses: { low: 1, high: 10 },
      init: { count: n(20000), namespace: "default", pod: low },
      churn: { everyMs: 200, count: 1_000_000, namespace: "churn", pod: high },
      measure: { count: n(5000), namespace: "default", pod: plain("m") },
    },
  ];
}

const initCount = (w: Workload) =>
  w.init.count +
  (w.moreInit ?? []).reduce((sum, set) => sum + set.count, 0) +
  (w.initSets ? w.initSets.namespaces.length * w.initSets.perNamespace : 0);

export function workloadLine(w: Workload, r: WorkloadResult): string {
  const target = w.target ?? w.threshold * 3;
  const load = loadavg()[0]!.toFixed(1);
  return `${w.name}: nodes=${w.nodes} init=${initCount(w)} pods=${w.measure.count} pods_per_s=${round(r.rate)} upstream_threshold=${w.threshold} target=${target} met=${r.rate >= target ? "yes" : "no"} cpu_ms_per_pod=${round(r.cpuMsPerPod, 2)} main_cpu_ms_per_pod=${round(r.mainCpuMsPerPod, 3)} main_busy=${round(r.mainBusy, 2)} sched_cpu_ms_per_pod=${round(r.schedCpuMsPerPod, 3)} decide_ms_per_pod=${round(r.decideMsPerPod, 3)}${r.preemptions ? ` preempt_ms_per_pod=${round(r.preemptMsPerPod, 3)} preemptions=${r.preemptions}` : ""} load1=${load}`;
}
