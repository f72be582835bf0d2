// One scheduling cycle: per-cycle state once (PreFilter), filter nodes (from a rotating start,
// stopping once enough feasible nodes are found, as Kubernetes' percentageOfNodesToScore does),
// score the feasible ones, and pick the best; or explain, in Kubernetes' words, why no node fits
// (and which nodes preemption may help on).
import { accountPod, cloneNodeInfo } from "./node-cache.ts";
import { podTerms } from "./pod-terms.ts";
import { hostPorts, podRequests } from "./resources.ts";
import type { CycleState, FilterResult, NodeInfo, PodInfo, Plugin, SchedPod } from "./types.ts";

/** Pods nominated to a node (preemptors waiting for their victims to go), by node name. */
export type Nominated = (node: string) => Iterable<PodInfo> | undefined;

export type ScheduleResult =
  | { node: string }
  | {
      node?: undefined;
      message: string;
      reasons: Map<string, number>;
      /** Nodes that failed for a reason preemption might remove (not UnschedulableAndUnresolvable). */
      resolvable: NodeInfo[];
      state: CycleState;
    };

/** Kubernetes' adaptive percentage: 50% - nodes/125, at least 5%, and at least 100 nodes. */
export function numFeasibleNodesToFind(total: number, percentage?: number): number {
  if (total < 100) return total;
  const pct = percentage ?? Math.max(5, 50 - Math.floor(total / 125));
  if (pct >= 100) return total;
  return Math.max(100, Math.floor((total * pct) / 100));
}

const noNamespaces = () => undefined;

/**
 * Upstream's DefaultNormalizeScore: each score scaled to 0-100 of the highest with integer division
 * (whole numbers, so near scores tie as upstream's do), reversed when asked; all zero stays 0 (100 reversed).
 */
export function defaultNormalizeScore(scores: Float64Array, reverse: boolean): void {
  let max = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i]! > max) max = scores[i]!;
  for (let i = 0; i < scores.length; i++) {
    const norm = max > 0 ? Math.floor((scores[i]! * 100) / max) : 0;
    scores[i] = reverse ? 100 - norm : norm;
  }
}

export function cycleState(
  pod: SchedPod,
  namespaceLabels: CycleState["namespaceLabels"] = noNamespaces,
  namespaceVersion = 0,
): CycleState {
  const labels = pod.metadata?.labels ?? {};
  const entries = Object.entries(labels).filter(
    ([k]) => k !== "pod-template-hash" && k !== "statefulset.kubernetes.io/pod-name",
  );
  const owned = (pod.metadata?.ownerReferences ?? []).some((r) => r.controller);
  return {
    pod,
    requests: podRequests(pod),
    hostPorts: hostPorts(pod),
    priority: pod.spec?.priority ?? 0,
    spreadSelector: owned && entries.length ? (l) => entries.every(([k, v]) => l[k] === v) : undefined,
    spreadSignature: owned && entries.length ? JSON.stringify(entries) : undefined,
    terms: podTerms(pod),
    namespaceLabels,
    namespaceVersion,
    data: new Map(),
  };
}

export function unschedulableMessage(total: number, reasons: Map<string, number>): string {
  const parts = [...reasons].map(([reason, n]) => `${n} ${reason}`).sort();
  return `0/${total} nodes are available: ${parts.join(", ")}.`;
}

/** The first failing filter's verdict for a node. */
export function runFilters(filters: Plugin[], state: CycleState, info: NodeInfo): FilterResult {
  for (const f of filters) {
    const r = f.filter!(state, info);
    if (r) return r;
  }
  return undefined;
}

/** A copy of the cycle state that what-ifs (nominated pods, preemption) may change. */
export function cloneState(plugins: Plugin[], state: CycleState): CycleState {
  const data = new Map(state.data);
  for (const p of plugins) if (p.cloneState && data.has(p.name)) data.set(p.name, p.cloneState(data.get(p.name)));
  return { ...state, data };
}

/** A node with pods nominated to it added, kept while the node and those pods stay the same. */
interface WithNominated {
  gen: number;
  pods: PodInfo[];
  node: NodeInfo;
}
const withNominated = new WeakMap<NodeInfo, WithNominated>();

/**
 * A copy of `info` with `pods` added, reused from cycle to cycle while the node's generation and
 * the pods are the same: while preemptors wait for their victims to go, every cycle checks their
 * nodes with them counted, and copying each such node every cycle cost more than the filters. The
 * copy is only read (filters), never changed.
 */
function nodeWithNominated(info: NodeInfo, pods: PodInfo[]): NodeInfo {
  const hit = withNominated.get(info);
  if (hit && hit.gen === info.generation && hit.pods.length === pods.length && hit.pods.every((p, i) => p === pods[i]))
    return hit.node;
  const node = cloneNodeInfo(info);
  for (const p of pods) accountPod(node, p, 1);
  withNominated.set(info, { gen: info.generation, pods, node });
  return node;
}

/**
 * Upstream's RunFilterPluginsWithNominatedPods: pods nominated to the node with at least this
 * pod's priority count as if placed there, so a pod does not take the room preemption freed for
 * a more important one. The node must pass with them and, when any were added, without them too
 * (a nominated pod may never arrive: affinity must not rely on it). Plugins with state this cycle
 * update a copy of it; the others read the node alone.
 */
export function runFiltersWithNominated(
  plugins: Plugin[],
  filters: Plugin[],
  state: CycleState,
  info: NodeInfo,
  nominated?: Nominated,
  key?: string,
  /** The filters to run on a clean node (those not marked passesCleanNode); `filters` when not given. */
  onClean = filters,
): FilterResult {
  let added: PodInfo[] | undefined;
  const on = nominated?.(info.name);
  if (on)
    for (const p of on) {
      if (p.priority < state.priority || p.key === key) continue;
      (added ??= []).push(p);
    }
  // Pods placed or imagined on a node do not change whether it is clean (its spec and conditions).
  const run = info.clean ? onClean : filters;
  if (added) {
    const node = nodeWithNominated(info, added);
    let st = state;
    for (const pl of plugins) {
      if (!pl.addPod || !state.data.has(pl.name)) continue;
      if (st === state) st = cloneState(plugins, state);
      for (const p of added) pl.addPod(st, p, node);
    }
    const r = runFilters(run, st, node);
    if (r) return r;
  }
  return runFilters(run, state, info);
}

export class Scheduler1 {
  private offset = 0;
  readonly filters: Plugin[];
  constructor(
    readonly plugins: Plugin[],
    private readonly namespaceLabels: CycleState["namespaceLabels"] = noNamespaces,
    private readonly namespaceVersion: () => number = () => 0,
    /** The nodes with pods that have affinity terms, when the caller keeps that list (see CycleState). */
    private readonly nodesWithTerms?: () => NodeInfo[],
  ) {
    this.filters = plugins.filter((p) => p.filter);
  }

  /** PreFilter: what every filter needs, computed once for this pod; and the filters that have work to do. */
  prepare(pod: SchedPod, nodes: NodeInfo[]): { state: CycleState; filters: Plugin[] } {
    const state = cycleState(pod, this.namespaceLabels, this.namespaceVersion());
    state.nodesWithTerms = this.nodesWithTerms?.();
    const filters = this.filters.filter((p) => p.preFilter?.(state, nodes) !== false);
    for (const p of this.plugins) if (!p.filter) p.preFilter?.(state, nodes);
    state.filters = filters;
    return { state, filters };
  }

  /**
   * `nominatedNode`: the node preemption freed for this pod, tried first as upstream's
   * evaluateNominatedNode does: when it passes the filters it is the answer, without looking at
   * (or scoring) the others; otherwise every node is looked at as usual.
   */
  schedule(
    pod: SchedPod,
    nodes: NodeInfo[],
    percentage?: number,
    nominated?: Nominated,
    nominatedNode?: NodeInfo,
  ): ScheduleResult {
    const { state, filters } = this.prepare(pod, nodes);
    const key = nominated && `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`;
    if (
      nominatedNode &&
      !(nominated
        ? runFiltersWithNominated(this.plugins, filters, state, nominatedNode, nominated, key)
        : runFilters(filters, state, nominatedNode))
    )
      return { node: nominatedNode.name };
    const want = numFeasibleNodesToFind(nodes.length, percentage);
    const onClean = filters.filter((p) => !p.passesCleanNode);
    const feasible: NodeInfo[] = [];
    const reasons = new Map<string, number>();
    const resolvable: NodeInfo[] = [];
    const n = nodes.length;
    let checked = 0;
    for (; checked < n && feasible.length < want; checked++) {
      const info = nodes[(this.offset + checked) % n]!;
      const failed = nominated
        ? runFiltersWithNominated(this.plugins, filters, state, info, nominated, key, onClean)
        : runFilters(info.clean ? onClean : filters, state, info);
      if (failed) {
        reasons.set(failed.reason, (reasons.get(failed.reason) ?? 0) + 1);
        if (!failed.unresolvable) resolvable.push(info);
      } else feasible.push(info);
    }
    this.offset = n ? (this.offset + checked) % n : 0;
    if (feasible.length === 0) return { message: unschedulableMessage(n, reasons), reasons, resolvable, state };
    if (feasible.length === 1) return { node: feasible[0]!.name };

    const totals = new Float64Array(feasible.length);
    const raw = new Float64Array(feasible.length);
    for (const p of this.plugins) {
      if (!p.score || p.preScore?.(state, feasible, nodes) === false) continue; // nothing to tell the nodes apart
      if (p.scoreAll) p.scoreAll(state, feasible, raw);
      else for (let i = 0; i < feasible.length; i++) raw[i] = p.score(state, feasible[i]!);
      const weight = p.weight ?? 1;
      if (typeof p.normalize === "function") p.normalize(state, raw, feasible);
      else if (p.normalize) defaultNormalizeScore(raw, p.normalize === "reverse");
      for (let i = 0; i < raw.length; i++) totals[i]! += weight * raw[i]!;
    }
    let best = -Infinity;
    let pick = 0;
    let ties = 0;
    for (let i = 0; i < totals.length; i++) {
      if (totals[i]! > best) {
        best = totals[i]!;
        pick = i;
        ties = 1;
      } else if (totals[i] === best && Math.random() * ++ties < 1) pick = i; // reservoir: a fair random tie-break
    }
    return { node: feasible[pick]!.name };
  }
}
