// Score plugins: prefer emptier nodes (least allocated) and balanced cpu/memory use
// (spreading is PodTopologySpread's default constraints). Each scores all feasible nodes in one
// loop (scoreAll): at 5,000 nodes a cycle scores 500, and a call per node cost more than the sums.
import type { NodeInfo, Plugin, CycleState } from "../types.ts";

const fraction = (used: number, total: number) => (total > 0 ? Math.min(1, used / total) : 1);

function leastAllocatedScore(state: CycleState, info: NodeInfo): number {
  const cpu = 1 - fraction(info.requested.cpu + state.requests.cpu, info.allocatable.cpu);
  const mem = 1 - fraction(info.requested.memory + state.requests.memory, info.allocatable.memory);
  return ((cpu + mem) / 2) * 100;
}

function balancedAllocationScore(state: CycleState, info: NodeInfo): number {
  const cpu = fraction(info.requested.cpu + state.requests.cpu, info.allocatable.cpu);
  const mem = fraction(info.requested.memory + state.requests.memory, info.allocatable.memory);
  return (1 - Math.abs(cpu - mem)) * 100;
}

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
  score: balancedAllocationScore,
  scoreAll(state, nodes, out) {
    for (let i = 0; i < nodes.length; i++) out[i] = balancedAllocationScore(state, nodes[i]!);
  },
  weight: 1,
};
