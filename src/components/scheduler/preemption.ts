// DefaultPreemption (the PostFilter), as upstream: when a pod fits nowhere, find nodes where
// removing lower-priority pods would make it fit; on each, remove them all, then give back
// (reprieve) as many as still leaves room, most important first, PDB-protected pods before the
// rest; pick the node with the fewest PDB violations, then the lowest highest victim priority,
// the lowest priority sum, the fewest victims, the latest start among the most important victims.
import { matchesLabels, type Requirement } from "../../api/selectors.ts";
import { accountPod, cloneNodeInfo } from "./node-cache.ts";
import {
  cloneState,
  type Nominated,
  runFiltersWithNominated,
  unschedulableMessage,
  type Scheduler1,
} from "./schedule-one.ts";
import type { CycleState, NodeInfo, PodInfo } from "./types.ts";

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

const startOf = (p: PodInfo) => Date.parse(p.pod.status?.startTime ?? p.pod.metadata?.creationTimestamp ?? "") || 0;
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

function victimsOn(
  s: Scheduler1,
  state: CycleState,
  original: NodeInfo,
  budgets: Budget[],
  nominated?: Nominated,
): Candidate | { reason: string } {
  const lower = [...original.pods.values()].filter((p) => p.priority < state.priority);
  if (!lower.length) return { reason: NO_VICTIMS };
  const node = cloneNodeInfo(original);
  const st = cloneState(s.plugins, state);
  const remove = (p: PodInfo) => {
    accountPod(node, p, -1);
    for (const pl of s.plugins) pl.removePod?.(st, p, node);
  };
  const add = (p: PodInfo) => {
    accountPod(node, p, 1);
    for (const pl of s.plugins) pl.addPod?.(st, p, node);
  };
  for (const p of lower) remove(p);
  // Victims are chosen with the node's nominated pods counted, as upstream's SelectVictimsOnNode.
  const key = `${state.pod.metadata?.namespace ?? ""}/${state.pod.metadata?.name ?? ""}`;
  const filter = () => runFiltersWithNominated(s.plugins, s.filters, st, node, nominated, key);
  const fits = () => !filter();
  const failed = filter();
  if (failed) return { reason: failed.reason };
  lower.sort(moreImportant);
  const [violating, fine] = byBudget(lower, budgets);
  const victims: PodInfo[] = [];
  let pdbViolations = 0;
  const reprieve = (p: PodInfo, violates: boolean) => {
    add(p);
    if (fits()) return;
    remove(p);
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
  for (const node of resolvable) {
    const r = victimsOn(s, state, node, budgets, nominated);
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
