// Score plugins: prefer emptier nodes (least allocated), balanced cpu/memory use, and
// spreading a controller's or service's pods across nodes.
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

/** Fewer siblings (same namespace, matching the owner's selector labels) on a node is better. */
export const selectorSpread: Plugin = {
  name: "SelectorSpread",
  score(state, info) {
    const match = state.spreadSelector;
    if (!match) return 0;
    let n = 0;
    const ns = state.pod.metadata?.namespace ?? "";
    for (const p of info.pods.values()) if (p.namespace === ns && match(p.labels)) n++;
    return n;
  },
  normalize: "reverse",
  weight: 2,
};
