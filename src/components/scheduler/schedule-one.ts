// One scheduling cycle: filter nodes (from a rotating start, stopping once enough feasible
// nodes are found, as Kubernetes' percentageOfNodesToScore does), score the feasible ones,
// and pick the best; or explain, in Kubernetes' words, why no node fits.
import { hostPorts, podRequests } from "./resources.ts";
import type { CycleState, NodeInfo, Plugin, SchedPod } from "./types.ts";

export type ScheduleResult = { node: string } | { node?: undefined; message: string; reasons: Map<string, number> };

/** Kubernetes' adaptive percentage: 50% - nodes/125, at least 5%, and at least 100 nodes. */
export function numFeasibleNodesToFind(total: number, percentage?: number): number {
  if (total < 100) return total;
  const pct = percentage ?? Math.max(5, 50 - Math.floor(total / 125));
  if (pct >= 100) return total;
  return Math.max(100, Math.floor((total * pct) / 100));
}

export function cycleState(pod: SchedPod): CycleState {
  const labels = pod.metadata?.labels ?? {};
  const entries = Object.entries(labels).filter(
    ([k]) => k !== "pod-template-hash" && k !== "statefulset.kubernetes.io/pod-name",
  );
  const owned = (pod.metadata?.ownerReferences ?? []).some((r) => r.controller);
  return {
    pod,
    requests: podRequests(pod),
    hostPorts: hostPorts(pod),
    spreadSelector: owned && entries.length ? (l) => entries.every(([k, v]) => l[k] === v) : undefined,
  };
}

export function unschedulableMessage(total: number, reasons: Map<string, number>): string {
  const parts = [...reasons].map(([reason, n]) => `${n} ${reason}`).sort();
  return `0/${total} nodes are available: ${parts.join(", ")}.`;
}

export class Scheduler1 {
  private offset = 0;
  constructor(private readonly plugins: Plugin[]) {}

  schedule(pod: SchedPod, nodes: NodeInfo[], percentage?: number): ScheduleResult {
    const state = cycleState(pod);
    const filters = this.plugins.filter((p) => p.filter);
    const want = numFeasibleNodesToFind(nodes.length, percentage);
    const feasible: NodeInfo[] = [];
    const reasons = new Map<string, number>();
    const n = nodes.length;
    let checked = 0;
    for (; checked < n && feasible.length < want; checked++) {
      const info = nodes[(this.offset + checked) % n]!;
      let failed: string | undefined;
      for (const f of filters) {
        const r = f.filter!(state, info);
        if (r) {
          failed = r.reason;
          break;
        }
      }
      if (failed) reasons.set(failed, (reasons.get(failed) ?? 0) + 1);
      else feasible.push(info);
    }
    this.offset = n ? (this.offset + checked) % n : 0;
    if (feasible.length === 0) return { message: unschedulableMessage(n, reasons), reasons };
    if (feasible.length === 1) return { node: feasible[0]!.name };

    const totals = new Float64Array(feasible.length);
    for (const p of this.plugins) {
      if (!p.score) continue;
      const raw = feasible.map((info) => p.score!(state, info));
      const weight = p.weight ?? 1;
      if (p.normalize) {
        const max = Math.max(...raw);
        for (let i = 0; i < raw.length; i++) {
          const norm = max > 0 ? (raw[i]! * 100) / max : 0;
          totals[i]! += weight * (p.normalize === "reverse" ? 100 - norm : norm);
        }
      } else for (let i = 0; i < raw.length; i++) totals[i]! += weight * raw[i]!;
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
