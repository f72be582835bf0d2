// DefaultPreemption (the PostFilter), as upstream: when a pod fits nowhere, find nodes where
// removing lower-priority pods would make it fit; on each, remove them all, then give back
// (reprieve) as many as still leaves room, most important first, PDB-protected pods before the
// rest; pick the node with the fewest PDB violations, then the lowest highest victim priority,
// the lowest priority sum, the fewest victims, the latest start among the most important victims.
import { matchesLabels, type Requirement } from "../../api/selectors.ts";
import { accountPod, cloneNodeInfo } from "./node-cache.ts";
import { cloneState, type Nominated, runFilters, unschedulableMessage, type Scheduler1 } from "./schedule-one.ts";
import type { CycleState, FilterResult, NodeInfo, Plugin, PodInfo } from "./types.ts";

export interface Budget {
  namespace: string;
  selector: Requirement[];
  disruptionsAllowed: number;
  /** Pods the disruption controller already counts as disrupted. */
  disrupted: Set<string>;
}

export type PreemptionResult = { node: string; victims: PodInfo[] } | { node?: undefined; message: string };

export const NOT_HELPFUL = "Preemption is not helpful for scheduling";
export const NO_VICTIMS = "No preemption victims found for incoming pod";

interface Candidate {
  node: NodeInfo;
  victims: PodInfo[];
  pdbViolations: number;
}

/** When a pod started (or was created), parsed once per pod: sorting victims compares it often. */
const starts = new WeakMap<PodInfo, number>();
function startOf(p: PodInfo): number {
  let t = starts.get(p);
  if (t === undefined) {
    t = Date.parse(p.pod.status?.startTime ?? p.pod.metadata?.creationTimestamp ?? "") || 0;
    starts.set(p, t);
  }
  return t;
}
/** Upstream's MoreImportantPod: higher priority, then the one that started earlier. */
const moreImportant = (a: PodInfo, b: PodInfo) => b.priority - a.priority || startOf(a) - startOf(b);

/** Splits pods into those whose eviction would break a PodDisruptionBudget and the rest. */
function byBudget(pods: PodInfo[], budgets: Budget[]): [PodInfo[], PodInfo[]] {
  const left = budgets.map((b) => b.disruptionsAllowed);
  const violating: PodInfo[] = [];
  const fine: PodInfo[] = [];
  for (const p of pods) {
    let breaks = false;
    budgets.forEach((b, i) => {
      if (b.namespace !== p.namespace || !b.selector.length || !matchesLabels(b.selector, p.labels)) return;
      if (b.disrupted.has(p.pod.metadata?.name ?? "")) return;
      left[i]!--;
      if (left[i]! < 0) breaks = true;
    });
    (breaks ? violating : fine).push(p);
  }
  return [violating, fine];
}

/** The plugins that keep state for this cycle and update it when a pod is imagined added or removed. */
interface WhatIf {
  plugins: Plugin[];
  filters: Plugin[];
  /** The filters a clean node needs (NodeInfo.clean; removing or adding pods leaves it clean). */
  onClean: Plugin[];
  hooks: Plugin[];
}

/** A copy of a node and of the cycle state that pods can be imagined onto and off. */
interface View {
  node: NodeInfo;
  state: CycleState;
}

function view(w: WhatIf, state: CycleState, original: NodeInfo): View {
  return { node: cloneNodeInfo(original), state: cloneState(w.plugins, state) };
}

function imagine(w: WhatIf, v: View, p: PodInfo, sign: 1 | -1): void {
  accountPod(v.node, p, sign);
  for (const h of w.hooks) sign > 0 ? h.addPod?.(v.state, p, v.node) : h.removePod?.(v.state, p, v.node);
}

/**
 * Upstream's SelectVictimsOnNode: all lower-priority pods removed, then given back most important
 * first while the pod still fits. The node's nominated pods at least as important as this one
 * count as upstream's RunFilterPluginsWithNominatedPods does (the pod must fit with them and
 * without them): a second copy holds them for the whole search, instead of copying the node
 * again at every check.
 */
function victimsOn(
  w: WhatIf,
  state: CycleState,
  original: NodeInfo,
  budgets: Budget[],
  nominated?: Nominated,
): Candidate | { reason: string } {
  const lower: PodInfo[] = [];
  for (const p of original.pods.values()) if (p.priority < state.priority) lower.push(p);
  if (!lower.length) return { reason: NO_VICTIMS };
  const views = [view(w, state, original)];
  const key = `${state.pod.metadata?.namespace ?? ""}/${state.pod.metadata?.name ?? ""}`;
  let withNominated: View | undefined;
  for (const p of nominated?.(original.name) ?? []) {
    if (p.priority < state.priority || p.key === key) continue;
    withNominated ??= view(w, state, original);
    imagine(w, withNominated, p, 1);
  }
  if (withNominated) views.unshift(withNominated);
  const all = (p: PodInfo, sign: 1 | -1) => {
    for (const v of views) imagine(w, v, p, sign);
  };
  const filter = (): FilterResult => {
    for (const v of views) {
      const r = runFilters(v.node.clean ? w.onClean : w.filters, v.state, v.node);
      if (r) return r;
    }
    return undefined;
  };
  for (const p of lower) all(p, -1);
  const failed = filter();
  if (failed) return { reason: failed.reason };
  lower.sort(moreImportant);
  const [violating, fine] = byBudget(lower, budgets);
  const victims: PodInfo[] = [];
  let pdbViolations = 0;
  const reprieve = (p: PodInfo, violates: boolean) => {
    all(p, 1);
    if (!filter()) return;
    all(p, -1);
    victims.push(p);
    if (violates) pdbViolations++;
  };
  for (const p of violating) reprieve(p, true);
  for (const p of fine) reprieve(p, false);
  return { node: original, victims: victims.sort(moreImportant), pdbViolations };
}

/** Upstream's pickOneNodeForPreemption, criterion by criterion. */
function pick(cands: Candidate[]): Candidate {
  const criteria: ((c: Candidate) => number)[] = [
    (c) => c.pdbViolations,
    (c) => c.victims[0]?.priority ?? -Infinity,
    (c) => c.victims.reduce((sum, v) => sum + v.priority + 2147483648, 0),
    (c) => c.victims.length,
    (c) => {
      const top = c.victims[0]?.priority;
      const earliest = Math.min(...c.victims.filter((v) => v.priority === top).map(startOf));
      return -earliest; // the latest earliest start wins
    },
  ];
  let left = cands;
  for (const score of criteria) {
    if (left.length === 1) break;
    const best = Math.min(...left.map(score));
    left = left.filter((c) => score(c) === best);
  }
  return left[0]!;
}

/** Whether the pod may preempt at all; the message says why not. */
export function eligible(state: CycleState, getNode: (n: string) => NodeInfo | undefined): string | undefined {
  const pod = state.pod;
  if (pod.spec.preemptionPolicy === "Never") return "not eligible due to preemptionPolicy=Never.";
  const nominated = pod.status?.nominatedNodeName;
  for (const p of (nominated && getNode(nominated)?.pods.values()) || [])
    if (p.terminating && p.priority < state.priority)
      return "not eligible due to a terminating pod on the nominated node.";
  return undefined;
}

export function preempt(
  s: Scheduler1,
  state: CycleState,
  total: number,
  resolvable: NodeInfo[],
  budgets: Budget[],
  getNode: (n: string) => NodeInfo | undefined,
  nominated?: Nominated,
): PreemptionResult {
  const not = eligible(state, getNode);
  if (not) return { message: `preemption: ${not}` };
  const reasons = new Map<string, number>();
  const cands: Candidate[] = [];
  // Upstream stops after enough candidates: at least 100, or 10% of the nodes.
  const enough = Math.max(100, Math.floor(total / 10));
  const filters = state.filters ?? s.filters;
  const w: WhatIf = {
    plugins: s.plugins,
    filters,
    onClean: filters.filter((p) => !p.passesCleanNode),
    // Only plugins with state this cycle have anything to update.
    hooks: s.plugins.filter((p) => (p.addPod || p.removePod) && state.data.has(p.name)),
  };
  // From a random node on, as upstream's GetOffsetAndNumCandidates: candidates found first are not
  // always the same nodes (which later preemptors would otherwise have to dry-run past).
  const start = Math.floor(Math.random() * resolvable.length);
  for (let i = 0; i < resolvable.length; i++) {
    const node = resolvable[(start + i) % resolvable.length]!;
    const r = victimsOn(w, state, node, budgets, nominated);
    if ("reason" in r) reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
    else if (cands.push(r) >= enough) break;
  }
  if (!cands.length) {
    const unresolvable = total - resolvable.length;
    if (unresolvable > 0) reasons.set(NOT_HELPFUL, unresolvable);
    return { message: `preemption: ${unschedulableMessage(total, reasons)}` };
  }
  const best = pick(cands);
  return { node: best.node.name, victims: best.victims };
}
