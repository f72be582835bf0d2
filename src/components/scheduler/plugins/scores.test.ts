// NodeResourcesLeastAllocated and NodeResourcesBalancedAllocation, table-driven: a pod, a node with
// its pods, and the score upstream's noderesources plugins give (whole numbers, truncated).
import { describe, expect, test } from "bun:test";
import { cycleState } from "../schedule-one.ts";
import { infoOf, nodeWith, podWith } from "../../../../test/helpers/scheduler.ts";
import type { NodeInfo, Plugin, SchedPod } from "../types.ts";
import { balancedAllocation, leastAllocated } from "./scores.ts";

const cases: [string, Plugin, SchedPod, NodeInfo, number][] = [
  [
    // cpu (4000-100)*100/4000 = 97.5 -> 97; memory (16Gi-200Mi)*100/16Gi = 98.8 -> 98; (97+98)/2 -> 97
    "least allocated counts a pod without requests as 100m cpu and 200Mi memory",
    leastAllocated,
    podWith("p"),
    infoOf(nodeWith("n")),
    97,
  ],
  [
    "least allocated takes an explicit zero request as zero",
    leastAllocated,
    podWith("p", { cpu: "0", memory: "0" }),
    infoOf(nodeWith("n")),
    100,
  ],
  [
    // 5 + 1 pods without requests: cpu 3400/4000 -> 85; memory (16Gi-1200Mi)/16Gi -> 92; -> 88
    "least allocated sees the node's pods without requests by the same defaults",
    leastAllocated,
    podWith("p"),
    infoOf(
      nodeWith("n"),
      ["a", "b", "c", "d", "e"].map((n) => podWith(n)),
    ),
    88,
  ],
  [
    "least allocated: half the cpu and half the memory used scores 50",
    leastAllocated,
    podWith("p", { cpu: "1", memory: "4Gi" }),
    infoOf(nodeWith("n"), [podWith("a", { cpu: "1", memory: "4Gi" })]),
    50,
  ],
  [
    // cpu over capacity -> 0; memory 15/16 -> 93; (0+93)/2 -> 46
    "least allocated: a resource requested beyond capacity scores 0",
    leastAllocated,
    podWith("p", { cpu: "500m", memory: "1Gi" }),
    infoOf(nodeWith("n", { cpu: "1" }), [podWith("a", { cpu: "1" })]),
    46,
  ],
  [
    // fractions 0.5 and 0.25: std (0.5-0.25)/2 = 0.125 -> 87.5 -> 87
    "balanced allocation is 100 times one minus the standard deviation of the two fractions",
    balancedAllocation,
    podWith("p", { cpu: "2", memory: "4Gi" }),
    infoOf(nodeWith("n")),
    87,
  ],
  [
    // cpu 2/1 capped at 1, memory 8/16: std 0.25 -> 75
    "balanced allocation caps a fraction at 1",
    balancedAllocation,
    podWith("p", { cpu: "2", memory: "8Gi" }),
    infoOf(nodeWith("n", { cpu: "1" })),
    75,
  ],
  [
    "balanced allocation leaves out a resource the node has none of",
    balancedAllocation,
    podWith("p", { cpu: "1", memory: "4Gi" }),
    infoOf(nodeWith("n", { memory: "0" })),
    100,
  ],
  [
    "balanced allocation uses actual requests: the node's pods without requests count nothing",
    balancedAllocation,
    podWith("p", { cpu: "2", memory: "4Gi" }),
    infoOf(nodeWith("n"), [podWith("a"), podWith("b")]),
    87,
  ],
  [
    "balanced allocation does not score a pod that requests nothing",
    balancedAllocation,
    podWith("p"),
    infoOf(nodeWith("n")),
    0,
  ],
];

describe("resource scores", () => {
  for (const [name, plugin, pod, info, want] of cases)
    test(name, () => {
      const state = cycleState(pod);
      expect(plugin.score!(state, info)).toBe(want);
      const out = new Float64Array([-1, -1]);
      plugin.scoreAll!(state, [info, info], out);
      expect([...out]).toEqual([want, want]);
    });
});
