// The default plugin set, in the order filters run (cheap and decisive first).
import type { Plugin } from "../types.ts";
import { nodeAffinityScore } from "./affinity.ts";
import {
  nodeAffinityFilter,
  nodeName,
  nodePorts,
  nodeReady,
  nodeUnschedulable,
  resourcesFit,
  taintToleration,
} from "./filters.ts";
import { balancedAllocation, leastAllocated, selectorSpread } from "./scores.ts";

export const defaultPlugins: Plugin[] = [
  nodeName,
  nodeUnschedulable,
  nodeReady,
  nodeAffinityFilter,
  taintToleration,
  nodePorts,
  resourcesFit,
  leastAllocated,
  balancedAllocation,
  selectorSpread,
  nodeAffinityScore,
];

export { tolerates } from "./filters.ts";
export { nodeSelectorMatches } from "./affinity.ts";
