// Each filter plugin called directly, table-driven: a pod, a node, and the verdict.
import { describe, expect, test } from "bun:test";
import { cycleState } from "../schedule-one.ts";
import { infoOf, nodeWith, podWith } from "../../../../test/helpers/scheduler.ts";
import type { NodeInfo, Plugin, SchedPod } from "../types.ts";
import {
  nodeAffinityFilter,
  nodeName,
  nodePorts,
  nodeReady,
  nodeUnschedulable,
  resourcesFit,
  taintToleration,
} from "./filters.ts";
import { nodeAffinityScore } from "./affinity.ts";

const cases: [string, Plugin, SchedPod, NodeInfo, string | undefined][] = [
  [
    "a pod that asks for less cpu than is free fits",
    resourcesFit,
    podWith("p", { cpu: "500m" }),
    infoOf(nodeWith("n", { cpu: "1" }), [podWith("a", { cpu: "500m" })]),
    undefined,
  ],
  [
    "a pod that asks for more cpu than is free does not fit",
    resourcesFit,
    podWith("p", { cpu: "600m" }),
    infoOf(nodeWith("n", { cpu: "1" }), [podWith("a", { cpu: "500m" })]),
    "Insufficient cpu",
  ],
  [
    "a pod that asks for more memory than is free does not fit",
    resourcesFit,
    podWith("p", { memory: "2Gi" }),
    infoOf(nodeWith("n", { memory: "1Gi" })),
    "Insufficient memory",
  ],
  [
    "a node at its pod limit takes no more pods",
    resourcesFit,
    podWith("p"),
    infoOf(nodeWith("n", { pods: 1 }), [podWith("a")]),
    "Too many pods",
  ],
  [
    "a cordoned node takes no pods",
    nodeUnschedulable,
    podWith("p"),
    infoOf(nodeWith("n", { unschedulable: true })),
    "node(s) were unschedulable",
  ],
  [
    "a pod tolerating unschedulable may land on a cordoned node",
    nodeUnschedulable,
    podWith("p", {
      tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" }],
    }),
    infoOf(nodeWith("n", { unschedulable: true })),
    undefined,
  ],
  [
    "a node that is not ready takes no pods",
    nodeReady,
    podWith("p"),
    infoOf(nodeWith("n", { ready: "False" })),
    "node(s) had untolerated taint {node.kubernetes.io/not-ready: }",
  ],
  [
    "a pod with no tolerations cannot land on a node with a NoSchedule taint",
    taintToleration,
    podWith("p"),
    infoOf(nodeWith("n", { taints: [{ key: "gpu", value: "yes", effect: "NoSchedule" }] })),
    "node(s) had untolerated taint {gpu: yes}",
  ],
  [
    "a pod tolerating the taint's key and value lands",
    taintToleration,
    podWith("p", { tolerations: [{ key: "gpu", operator: "Equal", value: "yes", effect: "NoSchedule" }] }),
    infoOf(nodeWith("n", { taints: [{ key: "gpu", value: "yes", effect: "NoSchedule" }] })),
    undefined,
  ],
  [
    "a PreferNoSchedule taint does not filter",
    taintToleration,
    podWith("p"),
    infoOf(nodeWith("n", { taints: [{ key: "x", effect: "PreferNoSchedule" }] })),
    undefined,
  ],
  [
    "a nodeSelector the node's labels do not match filters the node",
    nodeAffinityFilter,
    podWith("p", { nodeSelector: { disk: "ssd" } }),
    infoOf(nodeWith("n", { labels: { disk: "hdd" } })),
    "node(s) didn't match Pod's node affinity/selector",
  ],
  [
    "a matching nodeSelector passes",
    nodeAffinityFilter,
    podWith("p", { nodeSelector: { disk: "ssd" } }),
    infoOf(nodeWith("n", { labels: { disk: "ssd" } })),
    undefined,
  ],
  [
    "required affinity Gt compares numbers",
    nodeAffinityFilter,
    podWith("p", {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: "cores", operator: "Gt", values: ["8"] }] }],
          },
        },
      },
    }),
    infoOf(nodeWith("n", { labels: { cores: "16" } })),
    undefined,
  ],
  [
    "required affinity NotIn excludes a node",
    nodeAffinityFilter,
    podWith("p", {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "NotIn", values: ["a"] }] }],
          },
        },
      },
    }),
    infoOf(nodeWith("n", { labels: { zone: "a" } })),
    "node(s) didn't match Pod's node affinity/selector",
  ],
  [
    "required affinity DoesNotExist passes a node without the label",
    nodeAffinityFilter,
    podWith("p", {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: "gpu", operator: "DoesNotExist" }] }],
          },
        },
      },
    }),
    infoOf(nodeWith("n")),
    undefined,
  ],
  [
    "required affinity terms are ORed: a node matching the second term passes",
    nodeAffinityFilter,
    podWith("p", {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] },
              { matchExpressions: [{ key: "zone", operator: "In", values: ["b", "c"] }] },
            ],
          },
        },
      },
    }),
    infoOf(nodeWith("n", { labels: { zone: "c" } })),
    undefined,
  ],
  [
    "a nodeSelector that matches does not excuse required affinity that does not",
    nodeAffinityFilter,
    podWith("p", {
      nodeSelector: { disk: "ssd" },
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] }],
          },
        },
      },
    }),
    infoOf(nodeWith("n", { labels: { disk: "ssd", zone: "b" } })),
    "node(s) didn't match Pod's node affinity/selector",
  ],
  [
    "required affinity with no terms matches no node",
    nodeAffinityFilter,
    podWith("p", { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: {} } } }),
    infoOf(nodeWith("n", { labels: { zone: "a" } })),
    "node(s) didn't match Pod's node affinity/selector",
  ],
  [
    "a host port in use on the node filters it",
    nodePorts,
    podWith("p", { hostPort: 8080 }),
    infoOf(nodeWith("n"), [podWith("a", { hostPort: 8080 })]),
    "node(s) didn't have free ports for the requested pod ports",
  ],
  [
    "a different host port fits",
    nodePorts,
    podWith("p", { hostPort: 8081 }),
    infoOf(nodeWith("n"), [podWith("a", { hostPort: 8080 })]),
    undefined,
  ],
  [
    "a pod naming another node does not fit this one",
    nodeName,
    podWith("p", { nodeName: "other" }),
    infoOf(nodeWith("n")),
    "node(s) didn't match the requested node name",
  ],
];

describe("filters", () => {
  for (const [name, plugin, pod, info, want] of cases)
    test(name, () => expect(plugin.filter!(cycleState(pod), info)?.reason).toBe(want));
});

test("preferred node affinity scores matching nodes by weight", () => {
  const pod = podWith("p", {
    affinity: {
      nodeAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 5, preference: { matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] } },
        ],
      },
    },
  });
  expect(nodeAffinityScore.score!(cycleState(pod), infoOf(nodeWith("a", { labels: { zone: "a" } })))).toBe(5);
  expect(nodeAffinityScore.score!(cycleState(pod), infoOf(nodeWith("b", { labels: { zone: "b" } })))).toBe(0);
});

test("TaintToleration scores only when a feasible node has a PreferNoSchedule taint (else all nodes score alike)", () => {
  const state = cycleState(podWith("p"));
  const plain = [infoOf(nodeWith("a")), infoOf(nodeWith("b", { taints: [{ key: "x", effect: "NoSchedule" }] }))];
  const preferred = infoOf(nodeWith("c", { taints: [{ key: "x", effect: "PreferNoSchedule" }] }));
  expect(taintToleration.preScore!(state, plain, plain)).toBe(false);
  expect(taintToleration.preScore!(state, [...plain, preferred], [...plain, preferred])).toBe(true);
  expect(taintToleration.score!(state, preferred)).toBe(1);
});
