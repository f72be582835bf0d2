// Scheduling predicates the scheduler and the DaemonSet controller share, as upstream's
// k8s.io/component-helpers/scheduling/corev1: taints and tolerations, node selector terms; and the
// core/v1 scheduling types a PodSpec carries (affinity, topology spread constraints).
import type { LabelSelector } from "./selectors.ts";

export interface Taint {
  key: string;
  value?: string;
  effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
  timeAdded?: string;
}
export interface Toleration {
  key?: string;
  operator?: "Exists" | "Equal";
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

/** Toleration.ToleratesTaint over a list: an empty key with Exists tolerates everything. */
export function tolerates(tolerations: Toleration[] | undefined, taint: Taint): boolean {
  return (tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (!t.key) return t.operator === "Exists";
    if (t.key !== taint.key) return false;
    return t.operator === "Exists" || (t.value ?? "") === (taint.value ?? "");
  });
}

export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}
export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}
export interface NodeSelector {
  nodeSelectorTerms?: NodeSelectorTerm[];
}
export interface PreferredSchedulingTerm {
  weight: number;
  preference: NodeSelectorTerm;
}
export interface NodeAffinity {
  requiredDuringSchedulingIgnoredDuringExecution?: NodeSelector;
  preferredDuringSchedulingIgnoredDuringExecution?: PreferredSchedulingTerm[];
}
export interface PodAffinityTerm {
  labelSelector?: LabelSelector;
  namespaces?: string[];
  namespaceSelector?: LabelSelector;
  topologyKey: string;
  matchLabelKeys?: string[];
  mismatchLabelKeys?: string[];
}
export interface WeightedPodAffinityTerm {
  weight: number;
  podAffinityTerm: PodAffinityTerm;
}
export interface PodAffinity {
  requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTerm[];
  preferredDuringSchedulingIgnoredDuringExecution?: WeightedPodAffinityTerm[];
}
/** core/v1 Affinity: a pod's node affinity, pod affinity and pod anti-affinity. */
export interface Affinity {
  nodeAffinity?: NodeAffinity;
  podAffinity?: PodAffinity;
  podAntiAffinity?: PodAffinity;
}
export interface TopologySpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: "DoNotSchedule" | "ScheduleAnyway";
  labelSelector?: LabelSelector;
  minDomains?: number;
  nodeAffinityPolicy?: "Honor" | "Ignore";
  nodeTaintsPolicy?: "Honor" | "Ignore";
  matchLabelKeys?: string[];
}

/** What these predicates read of a Node. */
export interface LabelledNode {
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: { unschedulable?: boolean; taints?: Taint[] };
}

function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  switch (r.operator) {
    case "In":
      return value !== undefined && (r.values ?? []).includes(value);
    case "NotIn":
      return value === undefined || !(r.values ?? []).includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
      return value !== undefined && Number(value) > Number(r.values?.[0]);
    case "Lt":
      return value !== undefined && Number(value) < Number(r.values?.[0]);
    default:
      return false;
  }
}

/**
 * One term: In, NotIn, Exists, DoesNotExist, Gt, Lt on labels, and matchFields on metadata.name; all
 * must hold; an empty term matches nothing. Index loops: the scheduler asks this of thousands of nodes.
 */
export function termMatches(term: NodeSelectorTerm, node: LabelledNode): boolean {
  const exprs = term.matchExpressions;
  const fields = term.matchFields;
  if (!exprs?.length && !fields?.length) return false;
  if (exprs?.length) {
    const labels = node.metadata?.labels ?? {};
    for (let i = 0; i < exprs.length; i++) if (!requirementMatches(exprs[i]!, labels[exprs[i]!.key])) return false;
  }
  if (fields?.length)
    for (let i = 0; i < fields.length; i++) {
      const r = fields[i]!;
      if (!requirementMatches(r, r.key === "metadata.name" ? node.metadata?.name : undefined)) return false;
    }
  return true;
}

/** termMatches for a list of terms (ORed), read once: a test of one node for a scheduler cycle. */
export function termsMatcher(terms: NodeSelectorTerm[]): (node: LabelledNode) => boolean {
  return (node) => {
    for (let i = 0; i < terms.length; i++) if (termMatches(terms[i]!, node)) return true;
    return false;
  };
}

/** A NodeSelector: the terms are ORed. */
export function nodeSelectorMatches(selector: { nodeSelectorTerms?: NodeSelectorTerm[] }, node: LabelledNode): boolean {
  return (selector.nodeSelectorTerms ?? []).some((t) => termMatches(t, node));
}
