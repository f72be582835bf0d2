// Tiny builders for scheduler tests: nodes and pods with just the fields that matter.
import type { NodeInfo, SchedNode, SchedPod, Taint, Toleration } from "./types.ts";
import { NodeCache } from "./node-cache.ts";

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
  } = {},
): SchedPod {
  const requests: Record<string, string> = {};
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  return {
    metadata: {
      name,
      namespace: "default",
      labels: o.labels,
      ownerReferences: o.owned
        ? [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "u1", controller: true }]
        : undefined,
    },
    spec: {
      nodeName: o.nodeName,
      nodeSelector: o.nodeSelector,
      tolerations: o.tolerations,
      affinity: o.affinity,
      containers: [
        {
          name: "c",
          image: "i",
          resources: { requests },
          ports: o.hostPort ? [{ containerPort: 80, hostPort: o.hostPort }] : undefined,
        },
      ],
    },
  };
}

export function infoOf(node: SchedNode, pods: SchedPod[] = []): NodeInfo {
  const cache = new NodeCache();
  cache.upsertNode(node);
  for (const p of pods) cache.upsertPod({ ...p, spec: { ...p.spec, nodeName: node.metadata!.name } });
  return cache.get(node.metadata!.name!)!;
}
