// Inter-pod affinity terms parsed once per pod: label selectors with matchLabelKeys and
// mismatchLabelKeys folded in (as the API server does at admission), and the namespaces a term
// looks at (its own list and selector, else the owner's namespace).
import { matchesLabels, requirementsOf, type Requirement } from "../../api/selectors.ts";
import type { PodAffinityTerm, WeightedPodAffinityTerm } from "../../api/scheduling.ts";
import type { AffinityTerm, PodInfo, PodTerms, SchedPod } from "./types.ts";

/**
 * Every namespace a parsed term has named (its list, or its owner's by default); only grows. A
 * term matches a pod of a namespace it does not name by that namespace's labels alone, so two such
 * namespaces with the same labels are alike to every term: see namespaceClass.
 */
const named = new Set<string>();

/**
 * What a pod's namespace is to the terms of the pods placed so far: itself when some term names it,
 * else only its labels. Per-node results keyed by this instead of the name are shared by pods of
 * many namespaces with the same labels (upstream's createPodSets: 100 namespaces alike).
 */
export function namespaceClass(ns: string, labels: Record<string, string> | undefined): string {
  return named.has(ns) ? `=${ns}` : `~${JSON.stringify(labels ?? {})}`;
}

function parse(t: PodAffinityTerm, owner: SchedPod, weight: number): AffinityTerm | undefined {
  if (!t.labelSelector) return undefined; // a nil selector matches no pods
  const labels = owner.metadata?.labels ?? {};
  let selector: Requirement[];
  try {
    selector = requirementsOf(t.labelSelector);
  } catch {
    return undefined;
  }
  for (const k of t.matchLabelKeys ?? []) if (k in labels) selector.push({ key: k, op: "in", values: [labels[k]!] });
  for (const k of t.mismatchLabelKeys ?? [])
    if (k in labels) selector.push({ key: k, op: "notin", values: [labels[k]!] });
  const ns = t.namespaceSelector;
  const empty = ns && !Object.keys(ns.matchLabels ?? {}).length && !ns.matchExpressions?.length;
  const namespaces = new Set(t.namespaces?.length || ns ? (t.namespaces ?? []) : [owner.metadata?.namespace ?? ""]);
  for (const n of namespaces) named.add(n);
  return {
    topologyKey: t.topologyKey,
    selector,
    namespaces,
    namespaceSelector: ns ? (empty ? "all" : requirementsOf(ns)) : undefined,
    weight,
  };
}

/** The pod's affinity terms, or undefined when it has none. */
export function podTerms(pod: SchedPod): PodTerms | undefined {
  const aff = pod.spec?.affinity?.podAffinity;
  const anti = pod.spec?.affinity?.podAntiAffinity;
  if (!aff && !anti) return undefined;
  const req = (list: PodAffinityTerm[] | undefined) => list?.flatMap((t) => parse(t, pod, 1) ?? []) ?? [];
  const pref = (list: WeightedPodAffinityTerm[] | undefined) =>
    list?.flatMap((w) => parse(w.podAffinityTerm, pod, w.weight) ?? []) ?? [];
  const terms: PodTerms = {
    affinity: req(aff?.requiredDuringSchedulingIgnoredDuringExecution),
    antiAffinity: req(anti?.requiredDuringSchedulingIgnoredDuringExecution),
    preferredAffinity: pref(aff?.preferredDuringSchedulingIgnoredDuringExecution),
    preferredAntiAffinity: pref(anti?.preferredDuringSchedulingIgnoredDuringExecution),
  };
  const any =
    terms.affinity.length ||
    terms.antiAffinity.length ||
    terms.preferredAffinity.length ||
    terms.preferredAntiAffinity.length;
  return any ? terms : undefined;
}

/** Whether a term selects this pod: its namespace is one the term looks at, and its labels match. */
export function termMatches(
  term: AffinityTerm,
  pod: Pick<PodInfo, "namespace" | "labels">,
  namespaceLabels: (ns: string) => Record<string, string> | undefined,
): boolean {
  if (!term.namespaces.has(pod.namespace)) {
    const sel = term.namespaceSelector;
    if (!sel) return false;
    if (sel !== "all" && !matchesLabels(sel, namespaceLabels(pod.namespace) ?? {})) return false;
  }
  return matchesLabels(term.selector, pod.labels);
}
