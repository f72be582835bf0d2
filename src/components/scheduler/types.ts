// What the scheduler reads of pods and nodes, and the framework's small interfaces: a plugin
// computes its per-cycle state once (preFilter/preScore), filters and/or scores one node for one
// pod, and can update its state when preemption imagines pods gone; results are values, never
// exceptions.
import type { Pod } from "../../api/kinds/pod.ts";
import type { Node } from "../../api/kinds/core.ts";
import type { Requirement } from "../../api/selectors.ts";

import type { Taint } from "../../api/scheduling.ts";

export type { Taint, Toleration, TopologySpreadConstraint } from "../../api/scheduling.ts";

/** The pods and nodes the scheduler reads: the API's own types. */
export type SchedPod = Pod;
export type SchedNode = Node;

/** A pod affinity term, parsed once: whose pods (namespaces, labels) and over which topology. */
export interface AffinityTerm {
  topologyKey: string;
  selector: Requirement[];
  /** Namespaces named (or the owner's own); `selector` picks more by their labels; "all" for an empty selector. */
  namespaces: Set<string>;
  namespaceSelector?: Requirement[] | "all";
  weight: number;
}

/** A pod's inter-pod affinity, parsed once per pod. */
export interface PodTerms {
  affinity: AffinityTerm[];
  antiAffinity: AffinityTerm[];
  preferredAffinity: AffinityTerm[];
  preferredAntiAffinity: AffinityTerm[];
}

/** A pod placed on a node (bound or assumed), with what plugins read of it. */
export interface PodInfo {
  key: string;
  pod: SchedPod;
  labels: Record<string, string>;
  namespace: string;
  priority: number;
  cpu: number;
  memory: number;
  /** Requests with upstream's defaults for containers that name none (scoring's view). */
  nonZeroCpu: number;
  nonZeroMemory: number;
  ports: string[];
  terminating: boolean;
  /** Set when the pod has inter-pod affinity or anti-affinity terms. */
  terms?: PodTerms;
}

/** A node with what is placed on it (bound and assumed pods). */
export interface NodeInfo {
  name: string;
  node: SchedNode;
  allocatable: { cpu: number; memory: number; pods: number };
  /** The node's Ready condition status ("True", "False", "Unknown"), read once per node update. */
  ready: string | undefined;
  /** The node's NoSchedule/NoExecute taints and its PreferNoSchedule ones, split once per node update. */
  hardTaints: Taint[];
  preferTaints: Taint[];
  /** Schedulable, Ready and without NoSchedule/NoExecute taints: the filters marked passesCleanNode pass it. */
  clean: boolean;
  /** Sums of the pods' requests (PodInfo's fields of the same names) and their count. */
  requested: { cpu: number; memory: number; nonZeroCpu: number; nonZeroMemory: number; pods: number };
  /** "protocol/hostIP/port" of host ports in use. */
  usedPorts: Set<string>;
  pods: Map<string, PodInfo>;
  /** How many of `pods` have inter-pod affinity terms (nodes without any are skipped quickly). */
  withTerms: number;
  /** A stamp, unique across nodes, renewed whenever a pod is added, removed or changed here. */
  generation: number;
  /**
   * InterPodAffinity's last verdict here (the filter that most often has work on every node), valid
   * while its state's version is `verdictVersion` and the node's generation `verdictGen`.
   */
  verdictVersion: number;
  verdictGen: number;
  verdict: FilterResult;
  /** Plugins' per-node results (e.g. matching pods for a selector), by what they depend on; valid while `gen` is `generation`. */
  memo: Map<string, { gen: number; value: unknown }>;
}

/** A pod's requests; the nonZero pair counts a missing (not an explicit zero) request as upstream's defaults (resources.ts). */
export interface PodRequests {
  cpu: number;
  memory: number;
  nonZeroCpu: number;
  nonZeroMemory: number;
}

/** Per-pod data computed once per scheduling cycle; plugins keep their own part under their name. */
export interface CycleState {
  pod: SchedPod;
  requests: PodRequests;
  hostPorts: string[];
  priority: number;
  /** Labels selecting the pod's siblings (same owner), for default spreading. */
  spreadSelector?: (labels: Record<string, string>) => boolean;
  /** What spreadSelector matches, as a string (a memo key). */
  spreadSignature?: string;
  terms?: PodTerms;
  /** A namespace's labels (for namespaceSelector); undefined when unknown. */
  namespaceLabels: (ns: string) => Record<string, string> | undefined;
  /** Changes whenever any namespace's labels may have: part of memo keys that read them. */
  namespaceVersion: number;
  /**
   * The nodes with a pod that has inter-pod affinity terms (upstream's HavePodsWithAffinityNodeInfoList),
   * when the caller tracks them: a pod without terms of its own then looks at these only. Undefined: all nodes.
   */
  nodesWithTerms?: NodeInfo[];
  /** Plugin state computed in preFilter/preScore, by plugin name. */
  data: Map<string, unknown>;
  /** The filters with work to do this cycle (those whose preFilter did not skip), set by PreFilter; what-ifs run only these. */
  filters?: Plugin[];
}

/** A filter's verdict: undefined = fits; otherwise the reason Kubernetes prints. */
export type FilterResult = undefined | { reason: string; unresolvable?: boolean };

export interface Plugin {
  name: string;
  /** Once per cycle, over all nodes: computes what filter needs (into state.data); false skips filter this cycle. */
  preFilter?(state: CycleState, nodes: NodeInfo[]): boolean | undefined;
  filter?(state: CycleState, node: NodeInfo): FilterResult;
  /**
   * The filter passes every clean node (NodeInfo.clean) whatever the pod, so a cycle skips it there:
   * most nodes are clean, and a call per filter per node was much of a cycle at 5,000 nodes.
   */
  passesCleanNode?: boolean;
  /** Preemption's what-if: a pod is imagined added to or removed from a node; keep preFilter's state true. */
  addPod?(state: CycleState, pod: PodInfo, node: NodeInfo): void;
  removePod?(state: CycleState, pod: PodInfo, node: NodeInfo): void;
  /** Copies this plugin's preFilter state (preemption works on copies). */
  cloneState?(data: unknown): unknown;
  /** Once per cycle, over the feasible nodes: computes what score needs; false: nothing to score this cycle. */
  preScore?(state: CycleState, feasible: NodeInfo[], all: NodeInfo[]): boolean | undefined;
  /** Higher is better; raw scores are normalised to 0-100 per plugin when `normalize` is set. */
  score?(state: CycleState, node: NodeInfo): number;
  /** score() of every node into `out` at once, where one loop in the plugin beats a call per node. */
  scoreAll?(state: CycleState, nodes: NodeInfo[], out: Float64Array): void;
  normalize?: "max" | "reverse" | ((state: CycleState, scores: Float64Array, nodes: NodeInfo[]) => void);
  weight?: number;
}
