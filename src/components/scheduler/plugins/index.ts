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
import { interPodAffinity } from "./inter-pod-affinity.ts";
import { balancedAllocation, leastAllocated } from "./scores.ts";
import { topologySpread } from "./topology-spread.ts";

export const defaultPlugins: Plugin[] = [
  nodeName,
  nodeUnschedulable,
  nodeReady,
  nodeAffinityFilter,
  taintToleration,
  nodePorts,
  resourcesFit,
  topologySpread,
  interPodAffinity,
  leastAllocated,
  balancedAllocation,
  nodeAffinityScore,
];
