// PodTopologySpread, as upstream: hard constraints (DoNotSchedule) filter by skew against the
// least loaded domain (minDomains counting missing domains as empty), soft ones (ScheduleAnyway,
// or the cluster defaults for a controller's pods: hostname maxSkew 3, zone maxSkew 5) score.
// Which nodes count follows nodeAffinityPolicy (Honor) and nodeTaintsPolicy (Ignore).
import { matchesLabels, requirementsOf, type LabelSelector, type Requirement } from "../../../api/selectors.ts";
import type {
  CycleState,
  FilterResult,
  NodeInfo,
  Plugin,
  PodInfo,
  SchedNode,
  TopologySpreadConstraint,
} from "../types.ts";
import { tolerates } from "../../../api/scheduling.ts";
import { nodeAffinityOf } from "./filters.ts";
import { changedSince, journalCursor, type JournalCursor, memoized } from "../node-cache.ts";

const NAME = "PodTopologySpread";
export const ERR_CONSTRAINTS = "node(s) didn't match pod topology spread constraints";
export const ERR_MISSING_LABEL = `${ERR_CONSTRAINTS} (missing required label)`;
const HOSTNAME = "kubernetes.io/hostname";
const ZONE = "topology.kubernetes.io/zone";
/** Upstream's system defaults (ScheduleAnyway): hostname skew 3, zone skew 5. */
export const DEFAULT_CONSTRAINTS = [
  { topologyKey: HOSTNAME, maxSkew: 3 },
  { topologyKey: ZONE, maxSkew: 5 },
];

interface Constraint {
  key: string;
  maxSkew: number;
  minDomains: number;
  matches: (labels: Record<string, string>) => boolean;
  /** What `matches` selects, with the pod's namespace: the key of per-node counts ("none": nothing). */
  sig: string;
  honorAffinity: boolean;
  honorTaints: boolean;
}

function constraintsOf(state: CycleState, when: TopologySpreadConstraint["whenUnsatisfiable"]): Constraint[] {
  const pod = state.pod;
  const labels = pod.metadata?.labels ?? {};
  const out: Constraint[] = [];
  for (const c of pod.spec.topologySpreadConstraints ?? []) {
    if (c.whenUnsatisfiable !== when) continue;
    let sel: Requirement[] = [];
    try {
      sel = c.labelSelector ? requirementsOf(c.labelSelector as LabelSelector) : [];
    } catch {}
    for (const k of c.matchLabelKeys ?? []) if (k in labels) sel.push({ key: k, op: "in", values: [labels[k]!] });
    const nothing = !c.labelSelector; // a nil selector matches no pods
    out.push({
      key: c.topologyKey,
      maxSkew: c.maxSkew,
      minDomains: c.minDomains ?? 1,
      matches: nothing ? () => false : (l) => matchesLabels(sel, l),
      sig: nothing ? "none" : `${NAME}\0${pod.metadata?.namespace ?? ""}\0${JSON.stringify(sel)}`,
      honorAffinity: (c.nodeAffinityPolicy ?? "Honor") === "Honor",
      honorTaints: c.nodeTaintsPolicy === "Honor",
    });
  }
  return out;
}

const hasNodeAffinity = (pod: CycleState["pod"]) =>
  !!pod.spec.nodeSelector || !!pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;

function counted(state: CycleState, c: Constraint, node: SchedNode): boolean {
  if (c.honorAffinity && hasNodeAffinity(state.pod) && !nodeAffinityOf(state)(node)) return false;
  if (c.honorTaints)
    for (const t of node.spec?.taints ?? [])
      if (t.effect !== "PreferNoSchedule" && !tolerates(state.pod.spec.tolerations, t)) return false;
  return true;
}

/** Whether the node has every constraint's key (a loop: PreScore asks it of every feasible node). */
function hasKeys(node: SchedNode, cs: { key: string }[]): boolean {
  const labels = node.metadata?.labels;
  for (let i = 0; i < cs.length; i++) if (labels?.[cs[i]!.key] === undefined) return false;
  return true;
}

/** Matching pods of the pod's namespace on a node, not terminating (memoised per node and selector). */
function countOn(state: CycleState, node: NodeInfo, c: Pick<Constraint, "matches" | "sig">): number {
  if (c.sig === "none") return 0;
  // The same key string each call: the engine hashes it once.
  return memoized(node, c.sig, () => {
    const ns = state.pod.metadata?.namespace ?? "";
    let n = 0;
    for (const p of node.pods.values()) if (p.namespace === ns && !p.terminating && c.matches(p.labels)) n++;
    return n;
  });
}

interface FilterState {
  constraints: Constraint[];
  /** Per constraint: matching pods by domain value (every eligible domain present, maybe 0). */
  counts: Map<string, number>[];
  /**
   * Per constraint, what does not depend on the node (upstream's Filter reads the critical paths'
   * minimum and the self-match for every node): the most matching pods a node's domain may have,
   * maxSkew + global minimum - self-match; Infinity when no domain has more (a node with the key
   * then passes without a lookup). Undefined: the counts changed since (what-ifs), found again.
   */
  limits: (number | undefined)[];
  /** Per constraint: whether the incoming pod itself matches (it adds 1 to the domain it goes to). */
  self: boolean[];
}

/** The lowest and highest count of a constraint's domains (Infinity and -Infinity when none). */
interface Extremes {
  min: number;
  max: number;
}

function scanExtremes(counts: Map<string, number>): Extremes {
  let min = Infinity;
  let max = -Infinity;
  for (const v of counts.values()) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/**
 * Upstream's judging criterion, count + selfMatch - minMatch <= maxSkew, as a bound on count;
 * minMatch is 0 while fewer domains than minDomains exist. A domain no node counts for has 0.
 */
function limitOf(c: Constraint, self: boolean, domains: number, e: Extremes): number {
  const min = domains < c.minDomains || e.min === Infinity ? 0 : e.min;
  const limit = c.maxSkew + min - (self ? 1 : 0);
  return Math.max(e.max, 0) <= limit ? Infinity : limit;
}

function limit(s: FilterState, i: number): number {
  let l = s.limits[i];
  if (l === undefined) {
    const counts = s.counts[i]!;
    l = s.limits[i] = limitOf(s.constraints[i]!, s.self[i]!, counts.size, scanExtremes(counts));
  }
  return l;
}

function update(state: CycleState, p: PodInfo, node: NodeInfo, by: number): void {
  const s = state.data.get(NAME) as FilterState | undefined;
  if (!s || p.namespace !== (state.pod.metadata?.namespace ?? "") || !hasKeys(node.node, s.constraints)) return;
  s.constraints.forEach((c, i) => {
    if (!c.matches(p.labels) || !counted(state, c, node.node)) return;
    const v = node.node.metadata!.labels![c.key]!;
    s.counts[i]!.set(v, (s.counts[i]!.get(v) ?? 0) + by);
    s.limits[i] = undefined;
  });
}

/** One node's share of a DoNotSchedule aggregate: per constraint, its domain (undefined: not counted) and matching pods. */
interface Share {
  gen: number;
  domains: (string | undefined)[];
  counts: number[];
}

/**
 * The per-domain counts of a set of hard constraints over one node list, kept from cycle to cycle:
 * each cycle only the nodes whose generation changed (a pod placed, gone or relabelled, the node
 * updated; the node cache's journal says which) are counted again, so consecutive pods with the
 * same constraints cost O(nodes changed) instead of rebuilding maps of every domain.
 */
interface Aggregate {
  shares: (Share | undefined)[];
  /** Where this aggregate is in the node cache's journal of changed nodes. */
  cursor: JournalCursor;
  counts: Map<string, number>[];
  /** Per constraint: how many counted nodes each domain has (a domain goes when none is left). */
  nodes: Map<string, number>[];
  /**
   * Per constraint: the lowest and highest count and how many domains have each, kept as counts
   * change (a hostname constraint has a domain per node: a scan of them per cycle was much of its
   * cost); stale when the last domain at either is gone, then scanned again.
   */
  extremes: { min: number; nMin: number; max: number; nMax: number; stale: boolean }[];
}

/** A domain's count went from `was` to `now` (undefined: the domain is absent). */
function track(e: Aggregate["extremes"][number], was: number | undefined, now: number | undefined): void {
  if (e.stale) return;
  if (was !== undefined) {
    if (was === e.min) e.nMin--;
    if (was === e.max) e.nMax--;
  }
  if (now !== undefined) {
    if (now < e.min) {
      e.min = now;
      e.nMin = 1;
    } else if (now === e.min) e.nMin++;
    if (now > e.max) {
      e.max = now;
      e.nMax = 1;
    } else if (now === e.max) e.nMax++;
  }
  if (e.nMin <= 0 || e.nMax <= 0) e.stale = true;
}

function extremesOf(agg: Aggregate, i: number): Extremes {
  const e = agg.extremes[i]!;
  if (e.stale) {
    const { min, max } = scanExtremes(agg.counts[i]!);
    let nMin = 0;
    let nMax = 0;
    for (const v of agg.counts[i]!.values()) {
      if (v === min) nMin++;
      if (v === max) nMax++;
    }
    Object.assign(e, { min, nMin, max, nMax, stale: nMin === 0 });
  }
  return e;
}

/** Aggregates by node list (a new list when nodes come or go), then by what the counts depend on. */
const aggregates = new WeakMap<NodeInfo[], Map<string, Aggregate>>();
const AGGREGATES_PER_LIST = 16;

function aggregateFor(nodes: NodeInfo[], key: string, size: number): Aggregate {
  const byKey = aggregates.get(nodes) ?? new Map<string, Aggregate>();
  aggregates.set(nodes, byKey);
  let agg = byKey.get(key);
  if (!agg) {
    if (byKey.size >= AGGREGATES_PER_LIST) byKey.delete(byKey.keys().next().value!);
    agg = {
      shares: new Array(nodes.length),
      cursor: journalCursor(),
      counts: Array.from({ length: size }, () => new Map()),
      nodes: Array.from({ length: size }, () => new Map()),
      extremes: Array.from({ length: size }, () => ({ min: Infinity, nMin: 0, max: -Infinity, nMax: 0, stale: true })),
    };
    byKey.set(key, agg);
  }
  return agg;
}

function applyShare(agg: Aggregate, share: Share, sign: 1 | -1): void {
  for (let i = 0; i < share.domains.length; i++) {
    const v = share.domains[i];
    if (v === undefined) continue;
    const counts = agg.counts[i]!;
    const nodes = agg.nodes[i]!;
    const left = (nodes.get(v) ?? 0) + sign;
    const was = counts.get(v);
    if (left === 0) {
      nodes.delete(v);
      counts.delete(v);
      track(agg.extremes[i]!, was, undefined);
    } else {
      nodes.set(v, left);
      const now = (was ?? 0) + sign * share.counts[i]!;
      counts.set(v, now);
      track(agg.extremes[i]!, was, now);
    }
  }
}

/** What the hard constraints' counts depend on besides the nodes: selectors, namespace, node affinity, tolerations. */
function aggregateKey(state: CycleState, constraints: Constraint[]): string {
  const pod = state.pod;
  const parts: unknown[] = constraints.map((c) => [c.key, c.sig, c.honorAffinity, c.honorTaints]);
  if (constraints.some((c) => c.honorAffinity) && hasNodeAffinity(pod))
    parts.push(pod.spec.nodeSelector ?? null, pod.spec.affinity?.nodeAffinity ?? null);
  if (constraints.some((c) => c.honorTaints)) parts.push(pod.spec.tolerations ?? null);
  return JSON.stringify(parts);
}

/**
 * The constraints' per-domain counts over `nodes`, brought up to date: only the nodes changed since
 * the last cycle with the same key (the node cache's journal) are counted again. For the filter
 * (`hard`) a node counts only with every key, and every constraint is counted; for the score a
 * hostname constraint is counted per node in Score instead (its domains are the nodes), and the
 * defaults (no constraints of the pod's own: `requireAll` false) count a node without a key under
 * the value "" as upstream's map lookup does.
 */
function keptCounts(state: CycleState, nodes: NodeInfo[], constraints: Constraint[], hard: boolean, requireAll = hard) {
  const key = `${hard ? "filter" : requireAll ? "score" : "defaults"}\0${aggregateKey(state, constraints)}`;
  const agg = aggregateFor(nodes, key, constraints.length);
  changedSince(nodes, agg.cursor, (j) => {
    const node = nodes[j]!;
    const old = agg.shares[j];
    if (old?.gen === node.generation) return;
    const share: Share = { gen: node.generation, domains: [], counts: [] };
    const labels = node.node.metadata?.labels ?? {};
    const eligible = !requireAll || hasKeys(node.node, constraints);
    for (let i = 0; i < constraints.length; i++) {
      const c = constraints[i]!;
      const counts = eligible && (hard || c.key !== HOSTNAME) && counted(state, c, node.node);
      share.domains.push(counts ? (labels[c.key] ?? "") : undefined);
      share.counts.push(counts ? countOn(state, node, c) : 0);
    }
    if (old) applyShare(agg, old, -1);
    applyShare(agg, share, 1);
    agg.shares[j] = share;
  });
  return agg;
}

interface ScoreState {
  constraints: (Constraint & { weight: number })[];
  ignored: Set<string>;
  /** Per constraint (except hostname, counted per node): matching pods by domain value. */
  counts: Map<string, number>[];
}

/** Upstream's Score: per constraint the matching pods of the node's domain (hostname: of the node), weighted. */
function scoreOf(state: CycleState, s: ScoreState, node: NodeInfo): number {
  if (s.ignored.size > 0 && s.ignored.has(node.name)) return 0;
  const labels = node.node.metadata?.labels;
  if (!labels) return 0;
  let score = 0;
  for (let i = 0; i < s.constraints.length; i++) {
    const c = s.constraints[i]!;
    const v = labels[c.key];
    if (v === undefined) continue;
    const cnt = c.key === HOSTNAME ? countOn(state, node, c) : (s.counts[i]!.get(v) ?? 0);
    score += cnt * c.weight + (c.maxSkew - 1);
  }
  return Math.round(score);
}

export const topologySpread: Plugin = {
  name: NAME,
  preFilter(state, nodes) {
    const constraints = constraintsOf(state, "DoNotSchedule");
    if (!constraints.length) return false;
    const own = state.pod.metadata?.labels ?? {};
    const agg = keptCounts(state, nodes, constraints, true);
    // The counts are shared with later cycles: only a clone of this state (cloneState) may change them.
    const self = constraints.map((c) => c.matches(own));
    const s: FilterState = {
      constraints,
      counts: agg.counts,
      limits: constraints.map((c, i) => limitOf(c, self[i]!, agg.counts[i]!.size, extremesOf(agg, i))),
      self,
    };
    state.data.set(NAME, s);
  },
  filter(state, node): FilterResult {
    const s = state.data.get(NAME) as FilterState | undefined;
    if (!s) return undefined;
    const labels = node.node.metadata?.labels ?? {};
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i]!;
      const v = labels[c.key];
      if (v === undefined) return { reason: ERR_MISSING_LABEL, unresolvable: true };
      const most = limit(s, i);
      if (most !== Infinity && (s.counts[i]!.get(v) ?? 0) > most) return { reason: ERR_CONSTRAINTS };
    }
    return undefined;
  },
  addPod: (state, p, node) => update(state, p, node, 1),
  removePod: (state, p, node) => update(state, p, node, -1),
  cloneState(data) {
    const s = data as FilterState;
    return { ...s, counts: s.counts.map((m) => new Map(m)), limits: [...s.limits] };
  },
  preScore(state, feasible, all) {
    let constraints: Constraint[];
    const explicit = !!state.pod.spec.topologySpreadConstraints?.length;
    if (explicit) constraints = constraintsOf(state, "ScheduleAnyway");
    else {
      const sel = state.spreadSelector;
      constraints = sel
        ? DEFAULT_CONSTRAINTS.map((d) => ({
            key: d.topologyKey,
            maxSkew: d.maxSkew,
            minDomains: 1,
            matches: sel,
            sig: `${NAME}\0${state.pod.metadata?.namespace ?? ""}\0${state.spreadSignature}`,
            honorAffinity: true,
            honorTaints: false,
          }))
        : [];
    }
    if (!constraints.length) {
      state.data.delete(`${NAME}/score`);
      return false;
    }
    // The defaults do not need every key on a node: nodes without a zone still spread by hostname.
    const ignored = new Set<string>();
    const counts = constraints.map(() => new Map<string, number>());
    let seeded = false;
    for (let j = 0; j < feasible.length; j++) {
      const node = feasible[j]!;
      if (explicit && !hasKeys(node.node, constraints)) {
        ignored.add(node.name);
        continue;
      }
      // Upstream's map lookup: a feasible node without a key (the defaults allow one) is in domain
      // "", which counts towards the weight, though Score gives such a node no count for that key.
      const labels = node.node.metadata?.labels;
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i]!;
        const v = labels?.[c.key] ?? "";
        if (c.key === HOSTNAME || counts[i]!.has(v)) continue;
        counts[i]!.set(v, 0);
        seeded = true;
      }
    }
    const size = feasible.length - ignored.size;
    const weighted = constraints.map((c, i) => ({
      ...c,
      weight: Math.log((c.key === HOSTNAME ? size : counts[i]!.size) + 2),
    }));
    // Upstream counts every node's matching pods into the domains the feasible nodes are in; the
    // counts over all nodes are kept from cycle to cycle instead (only changed nodes recounted),
    // and this cycle's domains read from them.
    if (seeded) {
      const kept = keptCounts(state, all, constraints, false, explicit).counts;
      for (let i = 0; i < constraints.length; i++)
        for (const v of counts[i]!.keys()) counts[i]!.set(v, kept[i]!.get(v) ?? 0);
    }
    state.data.set(`${NAME}/score`, { constraints: weighted, ignored, counts } satisfies ScoreState);
  },
  score(state, node) {
    const s = state.data.get(`${NAME}/score`) as ScoreState | undefined;
    return s ? scoreOf(state, s, node) : 0;
  },
  scoreAll(state, nodes, out) {
    const s = state.data.get(`${NAME}/score`) as ScoreState | undefined;
    for (let j = 0; j < nodes.length; j++) out[j] = s ? scoreOf(state, s, nodes[j]!) : 0;
  },
  normalize(state, scores, nodes) {
    const s = state.data.get(`${NAME}/score`) as ScoreState | undefined;
    if (!s) {
      scores.fill(0);
      return;
    }
    const ignored = s.ignored.size > 0 ? s.ignored : undefined;
    let min = Infinity;
    let max = 0;
    for (let i = 0; i < scores.length; i++) {
      if (ignored?.has(nodes[i]!.name)) continue;
      min = Math.min(min, scores[i]!);
      max = Math.max(max, scores[i]!);
    }
    for (let i = 0; i < scores.length; i++) {
      if (ignored?.has(nodes[i]!.name)) scores[i] = 0;
      else scores[i] = max === 0 ? 100 : Math.floor((100 * (max + min - scores[i]!)) / max);
    }
  },
  weight: 2,
};
