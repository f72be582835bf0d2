// Filter plugins: each says whether one node can take the pod, and if not, the reason
// Kubernetes prints in "0/N nodes are available: ...".
import { TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE } from "../../../api/well-known.ts";
import { termsMatcher, tolerates } from "../../../api/scheduling.ts";
import type { CycleState, FilterResult, NodeInfo, Plugin, SchedNode, SchedPod } from "../types.ts";

export const nodeUnschedulable: Plugin = {
  name: "NodeUnschedulable",
  passesCleanNode: true,
  filter(state, info): FilterResult {
    if (!info.node.spec?.unschedulable) return undefined;
    if (tolerates(state.pod.spec.tolerations, { key: TAINT_UNSCHEDULABLE, effect: "NoSchedule" })) return undefined;
    return { reason: "node(s) were unschedulable", unresolvable: true };
  },
};

/** Kubernetes expresses not-ready nodes as a taint; nodes without a Ready=True condition get it here. */
export const nodeReady: Plugin = {
  name: "NodeReady",
  passesCleanNode: true,
  filter(state, info): FilterResult {
    if (info.ready === "True") return undefined;
    const key = info.ready === "Unknown" ? TAINT_UNREACHABLE : TAINT_NOT_READY;
    if (tolerates(state.pod.spec.tolerations, { key, effect: "NoSchedule" })) return undefined;
    return { reason: `node(s) had untolerated taint {${key}: }`, unresolvable: true };
  },
};

export const nodeName: Plugin = {
  name: "NodeName",
  preFilter: (state) => !!state.pod.spec.nodeName,
  filter(state, info): FilterResult {
    const want = state.pod.spec.nodeName;
    return want && want !== info.name
      ? { reason: "node(s) didn't match the requested node name", unresolvable: true }
      : undefined;
  },
};

const NODE_AFFINITY = "NodeAffinity";

/**
 * The pod's nodeSelector and required node affinity, read once (upstream's GetRequiredNodeAffinity
 * in PreFilter): whether both accept a node. Filtering thousands of nodes, reading them again
 * from the pod for every node (its nodeSelector's entries, a closure per term) was most of a cycle.
 */
export function requiredNodeAffinity(pod: SchedPod): (node: SchedNode) => boolean {
  const selector = Object.entries(pod.spec.nodeSelector ?? {});
  const required = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const terms = required && termsMatcher(required.nodeSelectorTerms ?? []);
  return (node) => {
    if (selector.length) {
      const labels = node.metadata?.labels ?? {};
      for (let i = 0; i < selector.length; i++) if (labels[selector[i]![0]] !== selector[i]![1]) return false;
    }
    return !terms || terms(node);
  };
}

/** This cycle's requiredNodeAffinity of the pod, made once. */
export function nodeAffinityOf(state: CycleState): (node: SchedNode) => boolean {
  const known = state.data.get(NODE_AFFINITY) as ((node: SchedNode) => boolean) | undefined;
  if (known) return known;
  const match = requiredNodeAffinity(state.pod);
  state.data.set(NODE_AFFINITY, match);
  return match;
}

export const nodeAffinityFilter: Plugin = {
  name: NODE_AFFINITY,
  preFilter: (state) =>
    !!state.pod.spec.nodeSelector ||
    !!state.pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution,
  filter(state, info): FilterResult {
    if (nodeAffinityOf(state)(info.node)) return undefined;
    return { reason: "node(s) didn't match Pod's node affinity/selector", unresolvable: true };
  },
};

export const taintToleration: Plugin = {
  name: "TaintToleration",
  passesCleanNode: true,
  // Taints split once per node update (NodeInfo): most nodes have none, and this runs per node per pod.
  filter(state, info): FilterResult {
    const taints = info.hardTaints;
    for (let i = 0; i < taints.length; i++) {
      const t = taints[i]!;
      if (!tolerates(state.pod.spec.tolerations, t))
        return { reason: `node(s) had untolerated taint {${t.key}: ${t.value ?? ""}}`, unresolvable: true };
    }
    return undefined;
  },
  // Without a PreferNoSchedule taint on any feasible node every node scores the same (100 after
  // the reverse normalisation), which orders nothing: the pass over them is skipped.
  preScore: (_state, feasible) => feasible.some((n) => n.preferTaints.length > 0),
  score(state, info) {
    const taints = info.preferTaints;
    let n = 0;
    for (let i = 0; i < taints.length; i++) if (!tolerates(state.pod.spec.tolerations, taints[i]!)) n++;
    return n;
  },
  normalize: "reverse",
  weight: 3,
};

export const resourcesFit: Plugin = {
  name: "NodeResourcesFit",
  filter(state: CycleState, info: NodeInfo): FilterResult {
    if (info.requested.pods + 1 > info.allocatable.pods) return { reason: "Too many pods" };
    if (state.requests.cpu > 0 && info.requested.cpu + state.requests.cpu > info.allocatable.cpu)
      return { reason: "Insufficient cpu" };
    if (state.requests.memory > 0 && info.requested.memory + state.requests.memory > info.allocatable.memory)
      return { reason: "Insufficient memory" };
    return undefined;
  },
};

export const nodePorts: Plugin = {
  name: "NodePorts",
  preFilter: (state) => state.hostPorts.length > 0,
  filter(state, info): FilterResult {
    for (const p of state.hostPorts) {
      const [proto, ip, port] = p.split("/");
      const wildcard = `${proto}/0.0.0.0/${port}`;
      if (info.usedPorts.has(p) || info.usedPorts.has(wildcard))
        return { reason: "node(s) didn't have free ports for the requested pod ports" };
      if (ip === "0.0.0.0")
        for (const used of info.usedPorts)
          if (used.startsWith(`${proto}/`) && used.endsWith(`/${port}`))
            return { reason: "node(s) didn't have free ports for the requested pod ports" };
    }
    return undefined;
  },
};
