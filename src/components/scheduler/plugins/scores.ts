// Score plugins: prefer emptier nodes (least allocated) and balanced cpu/memory use
// (spreading is PodTopologySpread's default constraints). Each scores all feasible nodes in one
// loop (scoreAll): at 5,000 nodes a cycle scores 500, and a call per node cost more than the sums.
// Upstream's arithmetic (noderesources: least_allocated.go, balanced_allocation.go): whole-number
// scores, so nodes that differ by less than a point tie and the tie-break decides as upstream's does.
import type { NodeInfo, Plugin, CycleState } from "../types.ts";

const MAX_NODE_SCORE = 100;

/** Unused capacity on 0-100, truncated; nothing left (or no capacity) is 0. */
function leastRequested(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.floor(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/** NodeResourcesFit's LeastAllocated strategy (cpu and memory, weight 1 each) on the non-zero requests. */
function leastAllocatedScore(state: CycleState, info: NodeInfo): number {
  const cpu = leastRequested(info.requested.nonZeroCpu + state.requests.nonZeroCpu, info.allocatable.cpu);
  const mem = leastRequested(info.requested.nonZeroMemory + state.requests.nonZeroMemory, info.allocatable.memory);
  return Math.floor((cpu + mem) / 2);
}

/**
 * (1 - std) * 100 over the requested fractions of cpu and memory (the pod's and the node's actual
 * requests; a resource the node has none of is left out, and with one resource std is 0).
 */
function balancedAllocationScore(state: CycleState, info: NodeInfo): number {
  const { cpu, memory } = info.allocatable;
  const cpuFraction = cpu > 0 ? Math.min(1, (info.requested.cpu + state.requests.cpu) / cpu) : -1;
  const memFraction = memory > 0 ? Math.min(1, (info.requested.memory + state.requests.memory) / memory) : -1;
  const std = cpuFraction >= 0 && memFraction >= 0 ? Math.abs((cpuFraction - memFraction) / 2) : 0;
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

/** A pod that requests neither cpu nor memory is not scored for balance (upstream's PreScore Skip, kubernetes#129138). */
const bestEffort = (state: CycleState) => state.requests.cpu === 0 && state.requests.memory === 0;

export const leastAllocated: Plugin = {
  name: "NodeResourcesLeastAllocated",
  score: leastAllocatedScore,
  scoreAll(state, nodes, out) {
    for (let i = 0; i < nodes.length; i++) out[i] = leastAllocatedScore(state, nodes[i]!);
  },
  weight: 1,
};

export const balancedAllocation: Plugin = {
  name: "NodeResourcesBalancedAllocation",
  score: (state, info) => (bestEffort(state) ? 0 : balancedAllocationScore(state, info)),
  scoreAll(state, nodes, out) {
    if (bestEffort(state)) out.fill(0, 0, nodes.length);
    else for (let i = 0; i < nodes.length; i++) out[i] = balancedAllocationScore(state, nodes[i]!);
  },
  weight: 1,
};
