// InterPodAffinity, as upstream: required pod affinity and anti-affinity of the incoming pod,
// required anti-affinity of the pods already placed (symmetry), all by topology domain
// (topologyKey=value pairs counted once per cycle), and the preferred terms as a score.
import { memoized } from "../node-cache.ts";
import { termMatches } from "../pod-terms.ts";
import type { AffinityTerm, CycleState, FilterResult, NodeInfo, Plugin, PodInfo, PodTerms } from "../types.ts";

const NAME = "InterPodAffinity";
export const ERR_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const ERR_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";
/** Upstream's default hardPodAffinityWeight: an existing pod's required affinity counts this much when scoring. */
const HARD_POD_AFFINITY_WEIGHT = 1;

/** Counts by "topologyKey\0value". */
type Counts = Map<string, number>;
// A type alias (not an interface): kept() takes it as a record of counts.
type State = {
  affinity: Counts;
  anti: Counts;
  existingAnti: Counts;
};

const pair = (key: string, value: string) => `${key}\0${value}`;
function bump(m: Counts, key: string, node: NodeInfo, by: number): void {
  const v = node.node.metadata?.labels?.[key];
  if (v === undefined) return;
  const k = pair(key, v);
  const n = (m.get(k) ?? 0) + by;
  if (n === 0) m.delete(k);
  else m.set(k, n);
}

const matchesAll = (terms: AffinityTerm[], p: PodInfo, state: CycleState) =>
  terms.length > 0 && terms.every((t) => termMatches(t, p, state.namespaceLabels));

/** One placed pod's share of the counts (by = 1 to add, -1 to remove). */
function update(s: State, state: CycleState, p: PodInfo, node: NodeInfo, by: number): void {
  const self = { namespace: state.pod.metadata?.namespace ?? "", labels: state.pod.metadata?.labels ?? {} };
  for (const t of p.terms?.antiAffinity ?? [])
    if (termMatches(t, self, state.namespaceLabels)) bump(s.existingAnti, t.topologyKey, node, by);
  const terms = state.terms;
  if (!terms) return;
  if (matchesAll(terms.affinity, p, state)) for (const t of terms.affinity) bump(s.affinity, t.topologyKey, node, by);
  for (const t of terms.antiAffinity)
    if (termMatches(t, p, state.namespaceLabels)) bump(s.anti, t.topologyKey, node, by);
}

/** One node's share of the counts for this pod, which depends only on the node's pods (memoised per node). */
interface NodeCounts {
  /** Existing pods' anti-affinity terms that select this pod, by topology key. */
  existingAnti: Map<string, number>;
  /** Pods matching all of this pod's required affinity terms. */
  affinity: number;
  /** Pods matching each of this pod's required anti-affinity terms. */
  anti: number[];
}

/** The pod's own namespace and labels, and its terms, as a string: what its per-node results depend on. */
function signature(state: CycleState, terms: PodTerms | undefined): string {
  const self = `${state.pod.metadata?.namespace ?? ""}\0${JSON.stringify(state.pod.metadata?.labels ?? {})}`;
  const t = terms ? JSON.stringify(terms, (_, v) => (v instanceof Set ? [...v] : v)) : "";
  return `${state.namespaceVersion}\0${self}\0${t}`;
}

function nodeCounts(state: CycleState, node: NodeInfo, required: boolean): NodeCounts {
  const self = { namespace: state.pod.metadata?.namespace ?? "", labels: state.pod.metadata?.labels ?? {} };
  const terms = required ? state.terms : undefined;
  const c: NodeCounts = { existingAnti: new Map(), affinity: 0, anti: terms?.antiAffinity.map(() => 0) ?? [] };
  for (const p of node.pods.values()) {
    for (const t of p.terms?.antiAffinity ?? [])
      if (termMatches(t, self, state.namespaceLabels))
        c.existingAnti.set(t.topologyKey, (c.existingAnti.get(t.topologyKey) ?? 0) + 1);
    if (!terms) continue;
    if (matchesAll(terms.affinity, p, state)) c.affinity++;
    terms.antiAffinity.forEach((t, i) => {
      if (termMatches(t, p, state.namespaceLabels)) c.anti[i]!++;
    });
  }
  return c;
}

/** Weights by topology key that one node's pods give this pod's score (memoised per node). */
function nodeScores(state: CycleState, node: NodeInfo, preferred: boolean): Map<string, number> {
  const out = new Map<string, number>();
  const add = (key: string, by: number) => out.set(key, (out.get(key) ?? 0) + by);
  const terms = state.terms;
  const self = { namespace: state.pod.metadata?.namespace ?? "", labels: state.pod.metadata?.labels ?? {} };
  const ns = state.namespaceLabels;
  for (const p of node.pods.values()) {
    if (preferred) {
      for (const t of terms!.preferredAffinity) if (termMatches(t, p, ns)) add(t.topologyKey, t.weight);
      for (const t of terms!.preferredAntiAffinity) if (termMatches(t, p, ns)) add(t.topologyKey, -t.weight);
    }
    const theirs = p.terms;
    if (!theirs) continue;
    for (const t of theirs.affinity) if (termMatches(t, self, ns)) add(t.topologyKey, HARD_POD_AFFINITY_WEIGHT);
    for (const t of theirs.preferredAffinity) if (termMatches(t, self, ns)) add(t.topologyKey, t.weight);
    for (const t of theirs.preferredAntiAffinity) if (termMatches(t, self, ns)) add(t.topologyKey, -t.weight);
  }
  return out;
}

function stateOf(state: CycleState): State | undefined {
  return state.data.get(NAME) as State | undefined;
}

/** One node's part of kept counts: what it added ([which map, topology pair, amount]), at a generation. */
interface Share {
  gen: number;
  parts: [string, string, number][];
}

/**
 * Counts over a node list (all nodes for a pod with required or preferred terms, else the nodes
 * with pods that have terms), kept from cycle to cycle per list and signature. Each cycle recounts
 * only the nodes whose generation changed (as PodTopologySpread's aggregate), instead of
 * rebuilding maps of every topology pair: with hostname terms over thousands of nodes that
 * rebuild was most of the cycle (upstream rebuilds them in parallel, 16 goroutines).
 */
interface Aggregate<S extends Record<string, Counts>> {
  shares: (Share | undefined)[];
  state: S;
}
const aggregates = new WeakMap<NodeInfo[], Map<string, Aggregate<Record<string, Counts>>>>();
const AGGREGATES_PER_LIST = 16;

function add(m: Counts, k: string, by: number): void {
  const n = (m.get(k) ?? 0) + by;
  if (n === 0) m.delete(k);
  else m.set(k, n);
}

/** The kept counts of `list` under `key`, brought up to date: only nodes whose generation changed are asked for their share. */
function kept<S extends Record<string, Counts>>(
  list: NodeInfo[],
  key: string,
  fresh: () => S,
  shareOf: (node: NodeInfo) => Share,
): S {
  const byKey = aggregates.get(list) ?? new Map();
  aggregates.set(list, byKey);
  let agg = byKey.get(key) as Aggregate<S> | undefined;
  if (!agg) {
    if (byKey.size >= AGGREGATES_PER_LIST) byKey.delete(byKey.keys().next().value!);
    agg = { shares: new Array(list.length), state: fresh() };
    byKey.set(key, agg);
  }
  const st: Record<string, Counts> = agg.state;
  for (let j = 0; j < list.length; j++) {
    const node = list[j]!;
    const old = agg.shares[j];
    if (old?.gen === node.generation) continue;
    const share = shareOf(node);
    if (old) for (const [m, k, n] of old.parts) add(st[m]!, k, -n);
    for (const [m, k, n] of share.parts) add(st[m]!, k, n);
    agg.shares[j] = share;
  }
  return agg.state;
}

/** What one node adds to the filter's counts for this pod (`terms` set when the pod has required terms). */
function shareOf(node: NodeInfo, c: NodeCounts, terms: PodTerms | undefined): Share {
  const parts: Share["parts"] = [];
  const labels = node.node.metadata?.labels ?? {};
  const part = (m: keyof State, key: string, n: number) => {
    const v = labels[key];
    if (v !== undefined) parts.push([m, pair(key, v), n]);
  };
  for (const [k, n] of c.existingAnti) part("existingAnti", k, n);
  if (terms) {
    if (c.affinity) for (const t of terms.affinity) part("affinity", t.topologyKey, c.affinity);
    for (let i = 0; i < terms.antiAffinity.length; i++)
      if (c.anti[i]) part("anti", terms.antiAffinity[i]!.topologyKey, c.anti[i]!);
  }
  return { gen: node.generation, parts };
}

/** What one node adds to the score's weights by topology pair. */
function scoreShareOf(node: NodeInfo, weights: Map<string, number>): Share {
  const parts: Share["parts"] = [];
  const labels = node.node.metadata?.labels ?? {};
  for (const [key, w] of weights) {
    const v = labels[key];
    if (v !== undefined && w !== 0) parts.push(["scores", pair(key, v), w]);
  }
  return { gen: node.generation, parts };
}

const freshState = (): State => ({ affinity: new Map(), anti: new Map(), existingAnti: new Map() });
const freshScores = () => ({ scores: new Map() as Counts });

export const interPodAffinity: Plugin = {
  name: NAME,
  preFilter(state, nodes) {
    const required = !!state.terms && (state.terms.affinity.length > 0 || state.terms.antiAffinity.length > 0);
    const key = `${NAME}\0${signature(state, required ? state.terms : undefined)}`;
    // Without required terms only existing pods' anti-affinity counts: the nodes with such pods suffice.
    const list = required ? nodes : (state.nodesWithTerms ?? nodes);
    const counts = kept(list, key, freshState, (node) =>
      !required && node.withTerms === 0
        ? { gen: node.generation, parts: [] }
        : shareOf(
            node,
            memoized(node, key, () => nodeCounts(state, node, required)),
            required ? state.terms : undefined,
          ),
    );
    if (!required && !counts.existingAnti.size) return false;
    // Shared with later cycles: only a clone of this state (cloneState) may change it.
    state.data.set(NAME, counts);
  },
  filter(state, node): FilterResult {
    const s = stateOf(state);
    if (!s) return undefined;
    const labels = node.node.metadata?.labels ?? {};
    const terms = state.terms;
    if (terms?.affinity.length) {
      let podsExist = true;
      for (const t of terms.affinity) {
        const v = labels[t.topologyKey];
        if (v === undefined) return { reason: ERR_AFFINITY, unresolvable: true };
        if (!(s.affinity.get(pair(t.topologyKey, v)) ?? 0)) podsExist = false;
      }
      // The first of a group of pods with affinity to each other: no pod matches anywhere, and it matches itself.
      const self = { namespace: state.pod.metadata?.namespace ?? "", labels: state.pod.metadata?.labels ?? {} };
      if (!podsExist && !(s.affinity.size === 0 && matchesAll(terms.affinity, self as PodInfo, state)))
        return { reason: ERR_AFFINITY, unresolvable: true };
    }
    for (const t of terms?.antiAffinity ?? []) {
      const v = labels[t.topologyKey];
      if (v !== undefined && (s.anti.get(pair(t.topologyKey, v)) ?? 0) > 0) return { reason: ERR_ANTI_AFFINITY };
    }
    if (s.existingAnti.size)
      for (const k in labels)
        if ((s.existingAnti.get(pair(k, labels[k]!)) ?? 0) > 0) return { reason: ERR_EXISTING_ANTI_AFFINITY };
    return undefined;
  },
  addPod(state, p, node) {
    const s = stateOf(state);
    if (s) update(s, state, p, node, 1);
  },
  removePod(state, p, node) {
    const s = stateOf(state);
    if (s) update(s, state, p, node, -1);
  },
  cloneState(data) {
    const s = data as State;
    return { affinity: new Map(s.affinity), anti: new Map(s.anti), existingAnti: new Map(s.existingAnti) };
  },
  preScore(state, _feasible, all) {
    const terms = state.terms;
    const preferred = !!terms && (terms.preferredAffinity.length > 0 || terms.preferredAntiAffinity.length > 0);
    const key = `${NAME}/score\0${signature(state, preferred ? terms : undefined)}`;
    const list = preferred ? all : (state.nodesWithTerms ?? all);
    // Shared with later cycles: score only reads it.
    const { scores } = kept(list, key, freshScores, (node) =>
      !preferred && node.withTerms === 0
        ? { gen: node.generation, parts: [] }
        : scoreShareOf(
            node,
            memoized(node, key, () => nodeScores(state, node, preferred)),
          ),
    );
    state.data.set(`${NAME}/score`, scores);
    return scores.size > 0;
  },
  score(state, node) {
    const scores = state.data.get(`${NAME}/score`) as Counts | undefined;
    if (!scores?.size) return 0;
    let total = 0;
    for (const [k, v] of Object.entries(node.node.metadata?.labels ?? {})) total += scores.get(pair(k, v)) ?? 0;
    return total;
  },
  normalize(_state, scores) {
    let min = Infinity;
    let max = -Infinity;
    for (const s of scores) {
      if (s < min) min = s;
      if (s > max) max = s;
    }
    const diff = max - min;
    for (let i = 0; i < scores.length; i++) scores[i] = diff > 0 ? (100 * (scores[i]! - min)) / diff : 0;
  },
  weight: 2,
};
