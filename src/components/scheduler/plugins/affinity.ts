// Node selector terms (required and preferred node affinity): In, NotIn, Exists,
// DoesNotExist, Gt, Lt on labels, and matchFields on metadata.name.
import type { SchedNode, NodeInfo, Plugin } from "../types.ts";

interface Requirement {
  key: string;
  operator: string;
  values?: string[];
}
interface Term {
  matchExpressions?: Requirement[];
  matchFields?: Requirement[];
}

function requirementMatches(r: Requirement, value: string | undefined): boolean {
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

export function termMatches(term: Term, node: SchedNode): boolean {
  const labels = node.metadata?.labels ?? {};
  if (!term.matchExpressions?.length && !term.matchFields?.length) return false;
  for (const r of term.matchExpressions ?? []) if (!requirementMatches(r, labels[r.key])) return false;
  for (const r of term.matchFields ?? [])
    if (!requirementMatches(r, r.key === "metadata.name" ? node.metadata?.name : undefined)) return false;
  return true;
}

/** A NodeSelector: the terms are ORed. */
export function nodeSelectorMatches(selector: { nodeSelectorTerms?: Term[] }, node: SchedNode): boolean {
  return (selector.nodeSelectorTerms ?? []).some((t) => termMatches(t, node));
}

export const nodeAffinityScore: Plugin = {
  name: "NodeAffinityPreferred",
  preScore: (state) => !!state.pod.spec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length,
  score(state, info: NodeInfo) {
    const preferred = (state.pod.spec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ??
      []) as { weight: number; preference: Term }[];
    let total = 0;
    for (const p of preferred) if (termMatches(p.preference, info.node)) total += p.weight;
    return total;
  },
  normalize: "max",
  weight: 2,
};
