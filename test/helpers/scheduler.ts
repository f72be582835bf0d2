// Tiny builders for scheduler tests: nodes and pods with just the fields that matter.
import type {
  NodeInfo,
  SchedNode,
  SchedPod,
  Taint,
  Toleration,
  TopologySpreadConstraint,
} from "../../src/components/scheduler/types.ts";
import { NodeCache } from "../../src/components/scheduler/node-cache.ts";

export function nodeWith(
  name: string,
  o: {
    cpu?: string;
    memory?: string;
    pods?: number;
    labels?: Record<string, string>;
    taints?: Taint[];
    unschedulable?: boolean;
    ready?: "True" | "False" | "Unknown";
  } = {},
): SchedNode {
  return {
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...o.labels } },
    spec: { unschedulable: o.unschedulable, taints: o.taints },
    status: {
      allocatable: { cpu: o.cpu ?? "4", memory: o.memory ?? "16Gi", pods: String(o.pods ?? 110) },
      conditions: [{ type: "Ready", status: o.ready ?? "True" }],
    },
  };
}

export function podWith(
  name: string,
  o: {
    cpu?: string;
    memory?: string;
    nodeSelector?: Record<string, string>;
    tolerations?: Toleration[];
    hostPort?: number;
    nodeName?: string;
    labels?: Record<string, string>;
    owned?: boolean;
    affinity?: Record<string, unknown>;
    namespace?: string;
    priority?: number;
    preemptionPolicy?: "Never" | "PreemptLowerPriority";
    spread?: TopologySpreadConstraint[];
    startTime?: string;
    deleting?: boolean;
  } = {},
): SchedPod {
  const requests: Record<string, string> = {};
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  return {
    metadata: {
      name,
      namespace: o.namespace ?? "default",
      labels: o.labels,
      deletionTimestamp: o.deleting ? "2026-01-01T00:00:00Z" : undefined,
      ownerReferences: o.owned
        ? [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "u1", controller: true }]
        : undefined,
    },
    spec: {
      nodeName: o.nodeName,
      nodeSelector: o.nodeSelector,
      tolerations: o.tolerations,
      affinity: o.affinity,
      priority: o.priority,
      preemptionPolicy: o.preemptionPolicy,
      topologySpreadConstraints: o.spread,
      containers: [
        {
          name: "c",
          image: "i",
          resources: { requests },
          ports: o.hostPort ? [{ containerPort: 80, hostPort: o.hostPort }] : undefined,
        },
      ],
    },
    status: o.startTime ? { startTime: o.startTime } : undefined,
  };
}

export function infoOf(node: SchedNode, pods: SchedPod[] = []): NodeInfo {
  const cache = new NodeCache();
  cache.upsertNode(node);
  for (const p of pods) cache.upsertPod({ ...p, spec: { ...p.spec, nodeName: node.metadata!.name } });
  return cache.get(node.metadata!.name!)!;
}

/** A node cache holding these nodes, each with its pods (placed by `nodeName` on the pod). */
export function cacheWith(nodes: SchedNode[], pods: SchedPod[] = []): NodeCache {
  const cache = new NodeCache();
  for (const n of nodes) cache.upsertNode(n);
  for (const p of pods) cache.upsertPod(p);
  return cache;
}

/** Required pod (anti-)affinity on one label, by topology key. */
export function podAffinity(
  kind: "podAffinity" | "podAntiAffinity",
  match: Record<string, string>,
  topologyKey: string,
  o: { preferred?: number; namespaces?: string[]; namespaceSelector?: Record<string, unknown> } = {},
): Record<string, unknown> {
  const term = { labelSelector: { matchLabels: match }, topologyKey, ...o, preferred: undefined };
  return {
    [kind]: o.preferred
      ? { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: o.preferred, podAffinityTerm: term }] }
      : { requiredDuringSchedulingIgnoredDuringExecution: [term] },
  };
}
