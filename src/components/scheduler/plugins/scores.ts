// Score plugins: prefer emptier nodes (least allocated) and balanced cpu/memory use
// (spreading is PodTopologySpread's default constraints).
import type { NodeInfo, Plugin, CycleState } from "../types.ts";

const fraction = (used: number, total: number) => (total > 0 ? Math.min(1, used / total) : 1);

export const leastAllocated: Plugin = {
  name: "NodeResourcesLeastAllocated",
  score(state: CycleState, info: NodeInfo) {
    const cpu = 1 - fraction(info.requested.cpu + state.requests.cpu, info.allocatable.cpu);
    const mem = 1 - fraction(info.requested.memory + state.requests.memory, info.allocatable.memory);
    return ((cpu + mem) / 2) * 100;
  },
  weight: 1,
};

export const balancedAllocation: Plugin = {
  name: "NodeResourcesBalancedAllocation",
  score(state, info) {
    const cpu = fraction(info.requested.cpu + state.requests.cpu, info.allocatable.cpu);
    const mem = fraction(info.requested.memory + state.requests.memory, info.allocatable.memory);
    return (1 - Math.abs(cpu - mem)) * 100;
  },
  weight: 1,
};
