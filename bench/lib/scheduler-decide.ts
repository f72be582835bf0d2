// The scheduler's decisions alone for a workload's shape: the same nodes and pods, placed by the
// real plugins into a NodeCache (assumed where chosen), with no API server, store or watch. The
// process CPU time over the measured pods' decisions is a figure the machine's load barely moves
// (the wall-clock pods/s of the full runner varies 10x at load 20).
import { NodeCache } from "../../src/components/scheduler/node-cache.ts";
import { defaultPlugins } from "../../src/components/scheduler/plugins/index.ts";
import { Scheduler1 } from "../../src/components/scheduler/schedule-one.ts";
import type { SchedPod } from "../../src/components/scheduler/types.ts";
import { nodeWith } from "../../test/helpers/scheduler.ts";
import { loadavg } from "node:os";
import type { Workload } from "./scheduler-perf.ts";

type Obj = Record<string, unknown>;

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** CPU ms per measured pod of the decisions alone (pods that fit nowhere are left pending). */
export function decideOnly(w: Workload): { cpuMsPerPod: number; placed: number } {
  const cache = new NodeCache();
  for (let i = 0; i < w.nodes; i++) {
    const zone = w.zones?.[i % w.zones.length];
    cache.upsertNode(
      nodeWith(`node-${i}`, {
        cpu: "4",
        memory: "32Gi",
        pods: 110,
        labels: zone ? { "topology.kubernetes.io/zone": zone } : {},
      }),
    );
  }
  const nsLabels = new Map<string, Record<string, string>>();
  for (const ns of [...(w.namespaces ?? []), ...(w.initSets?.namespaces ?? [])])
    nsLabels.set(ns, w.namespaceLabels ?? {});
  const algo = new Scheduler1(
    defaultPlugins,
    (ns) => nsLabels.get(ns),
    () => 0,
    () => cache.nodesWithTerms(),
  );
  const asPod = (o: Obj, namespace: string): SchedPod => {
    const spec = o.spec as { priorityClassName?: string };
    const priority = spec.priorityClassName ? (w.priorityClasses?.[spec.priorityClassName] ?? 0) : 0;
    const meta = o.metadata as Obj;
    return {
      ...o,
      metadata: { ...meta, namespace, uid: `${namespace}/${meta.name}` },
      spec: { ...spec, priority },
    } as SchedPod;
  };
  let placed = 0;
  const place = (pod: SchedPod) => {
    const r = algo.schedule(pod, cache.nodes(), undefined, undefined);
    if (r.node === undefined) return;
    cache.assume(pod, r.node);
    placed++;
  };
  for (let i = 0; i < w.init.count; i++) place(asPod(w.init.pod(i), w.init.namespace));
  for (const set of w.moreInit ?? []) for (let i = 0; i < set.count; i++) place(asPod(set.pod(i), set.namespace));
  if (w.initSets) {
    const { namespaces, perNamespace, pod } = w.initSets;
    for (let i = 0; i < namespaces.length * perNamespace; i++)
      place(asPod(pod(Math.floor(i / namespaces.length)), namespaces[i % namespaces.length]!));
  }
  placed = 0;
  const c0 = cpuMs();
  for (let i = 0; i < w.measure.count; i++) place(asPod(w.measure.pod(i), w.measure.namespace));
  return { cpuMsPerPod: (cpuMs() - c0) / w.measure.count, placed };
}

export function decideLine(w: Workload): string {
  const r = decideOnly(w);
  const load = loadavg()[0]!.toFixed(1);
  return `${w.name}: decide_only nodes=${w.nodes} pods=${w.measure.count} placed=${r.placed} decide_cpu_ms_per_pod=${r.cpuMsPerPod.toFixed(3)} load1=${load}`;
}
