// What the scheduler reads of pods and nodes, and the framework's small interfaces: a plugin
// filters and/or scores one node for one pod; results are values, never exceptions.
import type { KubeObject } from "../../api/types.ts";
import type { PodSpec } from "../../api/kinds/pod.ts";

export interface Taint {
  key: string;
  value?: string;
  effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}
export interface Toleration {
  key?: string;
  operator?: "Exists" | "Equal";
  value?: string;
  effect?: string;
}

export interface SchedPod extends KubeObject {
  spec: PodSpec & { tolerations?: Toleration[] };
  status?: { phase?: string; conditions?: { type: string; status: string; message?: string }[] };
}

export interface SchedNode extends KubeObject {
  spec?: { unschedulable?: boolean; taints?: Taint[] };
  status?: {
    allocatable?: Record<string, string>;
    capacity?: Record<string, string>;
    conditions?: { type: string; status: string }[];
  };
}

/** A node with what is placed on it (bound and assumed pods). */
export interface NodeInfo {
  name: string;
  node: SchedNode;
  allocatable: { cpu: number; memory: number; pods: number };
  requested: { cpu: number; memory: number; pods: number };
  /** "protocol/hostIP/port" of host ports in use. */
  usedPorts: Set<string>;
  /** Pods on the node, by key, with their labels (for spreading). */
  pods: Map<string, { labels: Record<string, string>; namespace: string }>;
}

/** Per-pod data computed once per scheduling cycle. */
export interface CycleState {
  pod: SchedPod;
  requests: { cpu: number; memory: number };
  hostPorts: string[];
  /** Labels selecting the pod's siblings (same owner/service), for spreading. */
  spreadSelector?: (labels: Record<string, string>) => boolean;
}

/** A filter's verdict: undefined = fits; otherwise the reason Kubernetes prints. */
export type FilterResult = undefined | { reason: string; unresolvable?: boolean };

export interface Plugin {
  name: string;
  filter?(state: CycleState, node: NodeInfo): FilterResult;
  /** Higher is better; raw scores are normalised to 0-100 per plugin when `normalize` is set. */
  score?(state: CycleState, node: NodeInfo): number;
  normalize?: "max" | "reverse";
  weight?: number;
}
