// InterPodAffinity, as upstream: required pod affinity and anti-affinity of the incoming pod,
// required anti-affinity of the pods already placed (symmetry), all by topology domain
// (topologyKey=value pairs counted once per cycle), and the preferred terms as a score.
import { changedSince, journalCursor, type JournalCursor, memoized } from "../node-cache.ts";
import { namespaceClass, termMatches } from "../pod-terms.ts";
import type { AffinityTerm, CycleState, FilterResult, NodeInfo, Plugin, PodInfo, PodTerms } from "../types.ts";

const NAME = "InterPodAffinity";
export const ERR_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const ERR_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";
/** Upstream's default hardPodAffinityWeight: an existing pod's required affinity counts this much when scoring. */
const HARD_POD_AFFINITY_WEIGHT = 1;

/**
 * Counts by topology key, then value. Nested rather than keyed by "key\0value": a filter then
 * looks up the few keys counted instead of building a string per node label (that was most of a
 * cycle for pods that only existing pods' anti-affinity selects). Empty maps are removed.
 */
type Counts = Map<string, Map<string, number>>;
/**
 * A state's stamp (from one counter, so no two states share one): a node's cached verdict holds
 * while the state's version and the node's generation are unchanged. The kept counts renew it only
 * when every verdict may change (the affinity counts become empty or stop being); when a topology
 * pair appears or goes, only the verdicts of the nodes in that domain are dropped (see kept).
 * States changed by what-ifs (clones) renew it on every change.
 */
let versions = 0;
type State = {
  affinity: Counts;
  anti: Counts;
  existingAnti: Counts;
  version: number;
  /** Whether some node holds a verdict under this version (else nothing to drop when counts change). */
  cached: boolean;
};

function add(m: Counts, key: string, value: string, by: number): void {
  let byValue = m.get(key);
  if (!byValue) m.set(key, (byValue = new Map()));
  const n = (byValue.get(value) ?? 0) + by;
  if (n !== 0) byValue.set(value, n);
  else if (byValue.delete(value) && byValue.size === 0) m.delete(key);
}
const countOf = (m: Counts, key: string, value: string) => m.get(key)?.get(value) ?? 0;
const cloneCounts = (m: Counts): Counts => new Map([...m].map(([k, v]) => [k, new Map(v)]));

function bump(m: Counts, key: string, node: NodeInfo, by: number): void {
  const v = node.node.metadata?.labels?.[key];
  if (v !== undefined) add(m, key, v, by);
}

const matchesAll = (terms: AffinityTerm[], p: PodInfo, state: CycleState) =>
  terms.length > 0 && terms.every((t) => termMatches(t, p, state.namespaceLabels));

/** One placed pod's share of the counts (by = 1 to add, -1 to remove). */
function update(s: State, state: CycleState, p: PodInfo, node: NodeInfo, by: number): void {
  s.version = ++versions;
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

/**
 * The pod's own namespace (what the placed pods' terms see of it: namespaceClass) and labels, and
 * its terms, as a string: what its per-node results depend on.
 */
function signature(state: CycleState, terms: PodTerms | undefined): string {
  const ns = state.pod.metadata?.namespace ?? "";
  const self = `${namespaceClass(ns, state.namespaceLabels(ns))}\0${JSON.stringify(state.pod.metadata?.labels ?? {})}`;
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

/** One node's part of kept counts: what it added ([which map, topology key, value, amount]), at a generation. */
interface Share {
  gen: number;
  parts: [string, string, string, number][];
}

/**
 * Counts over a node list (all nodes for a pod with required or preferred terms, else the nodes
 * with pods that have terms), kept from cycle to cycle per list and signature. Each cycle recounts
 * only the nodes whose generation changed (as PodTopologySpread's aggregate), found in the node
 * cache's journal, instead of rebuilding maps of every topology pair: with hostname terms over
 * thousands of nodes that rebuild was most of the cycle (upstream rebuilds them in parallel, 16
 * goroutines), and comparing every node's generation still cost O(nodes) a cycle.
 */
interface Aggregate<S extends { version: number }> {
  shares: (Share | undefined)[];
  state: S;
  cursor: JournalCursor;
  /** Per topology key (built when first needed): the list's positions by label value, and each position's value. */
  domains: Map<string, { byValue: Map<string, number[]>; at: (string | undefined)[] }>;
}

/** Topology pairs ([which map, key, value]) whose presence (a count above 0) a batch of node changes flipped. */
type Flipped = [string, string, string][];
const aggregates = new WeakMap<NodeInfo[], Map<string, Aggregate<{ version: number }>>>();
const AGGREGATES_PER_LIST = 16;

/**
 * The kept counts of `list` under `key`, brought up to date: only nodes changed since (the journal)
 * are asked for their share. With `flipped`, the pairs whose presence changed are handed to its
 * `drop` when `watch` returned something (undefined: nobody cares) before the batch, with that.
 */
function kept<S extends { version: number }>(
  list: NodeInfo[],
  key: string,
  fresh: () => S,
  shareOf: (node: NodeInfo) => Share,
  flipped?: { watch: (state: S) => unknown; drop: (agg: Aggregate<S>, pairs: Flipped, watched: unknown) => void },
): S {
  const byKey = aggregates.get(list) ?? new Map();
  aggregates.set(list, byKey);
  let agg = byKey.get(key) as Aggregate<S> | undefined;
  if (!agg) {
    if (byKey.size >= AGGREGATES_PER_LIST) byKey.delete(byKey.keys().next().value!);
    agg = { shares: new Array(list.length), state: fresh(), cursor: journalCursor(), domains: new Map() };
    byKey.set(key, agg);
  }
  const st = agg.state as unknown as Record<string, Counts>;
  const shares = agg.shares;
  const state = agg.state;
  const domains = agg.domains;
  // Each touched pair's presence before this batch, when some verdict may depend on it.
  const watched = flipped?.watch(state);
  const before = watched !== undefined ? new Map<string, [string, string, string, boolean]>() : undefined;
  const touch = (parts: Share["parts"]) => {
    for (const [m, k, v] of parts) {
      const id = `${m}\0${k}\0${v}`;
      if (!before!.has(id)) before!.set(id, [m, k, v, countOf(st[m]!, k, v) > 0]);
    }
  };
  changedSince(list, agg.cursor, (j) => {
    const node = list[j]!;
    const old = shares[j];
    if (old?.gen === node.generation) return;
    // A node's labels change only with its generation: keep the domains' positions current.
    if (domains.size) {
      const labels = node.node.metadata?.labels;
      for (const [k, d] of domains) {
        const was = d.at[j];
        const now = labels?.[k];
        if (was === now) continue;
        if (was !== undefined) {
          const at = d.byValue.get(was)!;
          at.splice(at.indexOf(j), 1);
          if (!at.length) d.byValue.delete(was);
        }
        if (now !== undefined) (d.byValue.get(now) ?? d.byValue.set(now, []).get(now)!).push(j);
        d.at[j] = now;
      }
    }
    const share = shareOf(node);
    if (before) {
      if (old) touch(old.parts);
      touch(share.parts);
    } else if (!flipped && (old?.parts.length || share.parts.length)) state.version = ++versions;
    if (old) for (const [m, k, v, n] of old.parts) add(st[m]!, k, v, -n);
    for (const [m, k, v, n] of share.parts) add(st[m]!, k, v, n);
    shares[j] = share;
  });
  if (before) {
    const pairs: Flipped = [];
    for (const [m, k, v, was] of before.values()) if (countOf(st[m]!, k, v) > 0 !== was) pairs.push([m, k, v]);
    if (pairs.length) flipped!.drop(agg, pairs, watched);
  }
  return agg.state;
}

/** The positions in `list` of the nodes whose label `key` is `value` (the index built on first use). */
function domainOf<S extends { version: number }>(
  agg: Aggregate<S>,
  list: NodeInfo[],
  key: string,
  value: string,
): number[] {
  let d = agg.domains.get(key);
  if (!d) {
    d = { byValue: new Map(), at: new Array(list.length) };
    for (let j = 0; j < list.length; j++) {
      const v = list[j]!.node.metadata?.labels?.[key];
      d.at[j] = v;
      if (v !== undefined) (d.byValue.get(v) ?? d.byValue.set(v, []).get(v)!).push(j);
    }
    agg.domains.set(key, d);
  }
  return d.byValue.get(value) ?? [];
}

/**
 * The filter's counts changed which pairs exist: a verdict reads only whether a pair of the node's
 * own labels exists (and, for affinity, whether any does), so only the nodes in a flipped pair's
 * domain lose their cached verdict; when the affinity counts became empty or stopped being, all do.
 */
function dropVerdicts(list: NodeInfo[]) {
  return {
    // Only when some node holds a verdict under this version; then whether the affinity counts were empty.
    watch: (s: State) => (s.cached ? s.affinity.size === 0 : undefined),
    drop: (agg: Aggregate<State>, pairs: Flipped, affinityWasEmpty: unknown) => {
      const s = agg.state;
      if ((s.affinity.size === 0) !== affinityWasEmpty) {
        s.version = ++versions;
        s.cached = false;
        return;
      }
      for (const [, k, v] of pairs)
        for (const j of domainOf(agg, list, k, v)) {
          const node = list[j]!;
          if (node.verdictVersion === s.version) node.verdictVersion = -1;
        }
    },
  };
}

/** What one node adds to the filter's counts for this pod (`terms` set when the pod has required terms). */
function shareOf(node: NodeInfo, c: NodeCounts, terms: PodTerms | undefined): Share {
  const parts: Share["parts"] = [];
  const labels = node.node.metadata?.labels ?? {};
  const part = (m: keyof State, key: string, n: number) => {
    const v = labels[key];
    if (v !== undefined) parts.push([m, key, v, n]);
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
    if (v !== undefined && w !== 0) parts.push(["scores", key, v, w]);
  }
  return { gen: node.generation, parts };
}

const freshState = (): State => ({
  affinity: new Map(),
  anti: new Map(),
  existingAnti: new Map(),
  version: ++versions,
  cached: false,
});
const freshScores = () => ({ scores: new Map() as Counts, version: ++versions });

/** The filter's verdict for a node from the counts (upstream's Filter). */
function verdictOf(state: CycleState, s: State, node: NodeInfo): FilterResult {
  const labels = node.node.metadata?.labels ?? {};
  const terms = state.terms;
  if (terms?.affinity.length) {
    let podsExist = true;
    for (const t of terms.affinity) {
      const v = labels[t.topologyKey];
      if (v === undefined) return { reason: ERR_AFFINITY, unresolvable: true };
      if (!countOf(s.affinity, t.topologyKey, v)) podsExist = false;
    }
    // The first of a group of pods with affinity to each other: no pod matches anywhere, and it matches itself.
    const self = { namespace: state.pod.metadata?.namespace ?? "", labels: state.pod.metadata?.labels ?? {} };
    if (!podsExist && !(s.affinity.size === 0 && matchesAll(terms.affinity, self as PodInfo, state)))
      return { reason: ERR_AFFINITY, unresolvable: true };
  }
  if (terms)
    for (const t of terms.antiAffinity) {
      const v = labels[t.topologyKey];
      if (v !== undefined && countOf(s.anti, t.topologyKey, v) > 0) return { reason: ERR_ANTI_AFFINITY };
    }
  // Upstream walks the node's labels; the counted keys are fewer (only counts above 0 are kept).
  if (s.existingAnti.size)
    for (const k of s.existingAnti.keys()) {
      const v = labels[k];
      if (v !== undefined && s.existingAnti.get(k)!.has(v)) return { reason: ERR_EXISTING_ANTI_AFFINITY };
    }
  return undefined;
}

/** This cycle's weights by topology pair, as parallel arrays: key i's weights by value. */
interface ScoreState {
  keys: string[];
  byValue: Map<string, number>[];
}

/** Upstream's Score: the weights of the pairs of the node's labels, summed. */
function scoreOf(s: ScoreState, node: NodeInfo): number {
  const labels = node.node.metadata?.labels;
  if (!labels) return 0;
  let total = 0;
  for (let i = 0; i < s.keys.length; i++) {
    const v = labels[s.keys[i]!];
    if (v !== undefined) total += s.byValue[i]!.get(v) ?? 0;
  }
  return total;
}

export const interPodAffinity: Plugin = {
  name: NAME,
  preFilter(state, nodes) {
    const required = !!state.terms && (state.terms.affinity.length > 0 || state.terms.antiAffinity.length > 0);
    // No terms of its own and no pod with terms anywhere: nothing to count (not even the signature).
    if (!required && state.nodesWithTerms?.length === 0) return false;
    const key = `${NAME}\0${signature(state, required ? state.terms : undefined)}`;
    // Without required terms only existing pods' anti-affinity counts: the nodes with such pods suffice.
    const list = required ? nodes : (state.nodesWithTerms ?? nodes);
    const counts = kept(
      list,
      key,
      freshState,
      (node) =>
        !required && node.withTerms === 0
          ? { gen: node.generation, parts: [] }
          : shareOf(
              node,
              memoized(node, key, () => nodeCounts(state, node, required)),
              required ? state.terms : undefined,
            ),
      // Verdicts are cached on every node, but domains are found in `list`: only when it is every node.
      list === nodes ? dropVerdicts(list) : undefined,
    );
    if (!required && !counts.existingAnti.size) return false;
    // Shared with later cycles: only a clone of this state (cloneState) may change it.
    state.data.set(NAME, counts);
  },
  filter(state, node): FilterResult {
    const s = stateOf(state);
    if (!s) return undefined;
    // Most cycles find the counts as the last one left them: the node's verdict is then the same.
    if (node.verdictVersion === s.version && node.verdictGen === node.generation) return node.verdict;
    const verdict = verdictOf(state, s, node);
    node.verdictVersion = s.version;
    node.verdictGen = node.generation;
    node.verdict = verdict;
    s.cached = true;
    return verdict;
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
    return {
      affinity: cloneCounts(s.affinity),
      anti: cloneCounts(s.anti),
      existingAnti: cloneCounts(s.existingAnti),
      version: ++versions,
      cached: false,
    };
  },
  preScore(state, _feasible, all) {
    const terms = state.terms;
    const preferred = !!terms && (terms.preferredAffinity.length > 0 || terms.preferredAntiAffinity.length > 0);
    if (!preferred && state.nodesWithTerms?.length === 0) return false;
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
    if (!scores.size) {
      state.data.delete(`${NAME}/score`);
      return false;
    }
    // Flattened for the per-node loop (an iterator and a pair per key per node were most of Score).
    const keys: string[] = [];
    const byValue: Map<string, number>[] = [];
    for (const [k, m] of scores) {
      keys.push(k);
      byValue.push(m);
    }
    state.data.set(`${NAME}/score`, { keys, byValue } satisfies ScoreState);
  },
  score(state, node) {
    const s = state.data.get(`${NAME}/score`) as ScoreState | undefined;
    return s ? scoreOf(s, node) : 0;
  },
  scoreAll(state, nodes, out) {
    const s = state.data.get(`${NAME}/score`) as ScoreState | undefined;
    for (let j = 0; j < nodes.length; j++) out[j] = s ? scoreOf(s, nodes[j]!) : 0;
  },
  normalize(_state, scores) {
    let min = Infinity;
    let max = -Infinity;
    for (const s of scores) {
      if (s < min) min = s;
      if (s > max) max = s;
    }
    const diff = max - min;
    // Truncated to a whole number as upstream's NormalizeScore (int64 of the scaled float).
    for (let i = 0; i < scores.length; i++) scores[i] = diff > 0 ? Math.floor((100 * (scores[i]! - min)) / diff) : 0;
  },
  weight: 2,
};
