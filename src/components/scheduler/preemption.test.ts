// Victim selection cycles (DefaultPreemption) over a node cache: a pod that fits nowhere, the
// node and victims preemption picks, or upstream's message when it cannot help.
import { describe, expect, test } from "bun:test";
import { defaultPlugins } from "./plugins/index.ts";
import { type Budget, preempt } from "./preemption.ts";
import { Scheduler1 } from "./schedule-one.ts";
import { cacheWith, nodeWith, podAffinity, podWith } from "../../../test/helpers/scheduler.ts";
import type { SchedNode, SchedPod } from "./types.ts";

const on = (node: string, name: string, priority: number, o: Parameters<typeof podWith>[1] = {}) =>
  podWith(name, { cpu: "1", priority, nodeName: node, ...o });
const budget = (match: Record<string, string>, allowed: number): Budget => ({
  namespace: "default",
  selector: Object.entries(match).map(([key, v]) => ({ key, op: "=", values: [v] })),
  disruptionsAllowed: allowed,
  disrupted: new Set(),
});

function cycle(nodes: SchedNode[], existing: SchedPod[], pod: SchedPod, budgets: Budget[] = []) {
  const cache = cacheWith(nodes, existing);
  const s = new Scheduler1(defaultPlugins);
  const r = s.schedule(pod, cache.nodes());
  if (r.node !== undefined) return { scheduled: r.node };
  const p = preempt(s, r.state, cache.nodes().length, r.resolvable, budgets, (n) => cache.get(n));
  return p.node === undefined
    ? { message: `${r.message} ${p.message}.` }
    : { node: p.node, victims: p.victims.map((v) => v.pod.metadata!.name) };
}

const two = [nodeWith("n1", { cpu: "2" }), nodeWith("n2", { cpu: "2" })];
const cases: [string, SchedNode[], SchedPod[], SchedPod, Budget[], unknown][] = [
  [
    "a high-priority pod takes the place of the lowest-priority pods, as few as needed",
    two,
    [on("n1", "low", 1), on("n1", "mid", 5), on("n2", "mid2", 5), on("n2", "mid3", 5)],
    podWith("high", { cpu: "1", priority: 10 }),
    [],
    { node: "n1", victims: ["low"] },
  ],
  [
    "of two lower pods on a node, the more important one is given back when one is enough",
    [nodeWith("n1", { cpu: "2" })],
    [on("n1", "p3", 3), on("n1", "p1", 1)],
    podWith("high", { cpu: "1", priority: 10 }),
    [],
    { node: "n1", victims: ["p1"] },
  ],
  [
    "pods of equal or higher priority are never victims",
    two,
    [on("n1", "a", 10), on("n1", "b", 10), on("n2", "c", 20), on("n2", "d", 20)],
    podWith("high", { cpu: "1", priority: 10 }),
    [],
    {
      message:
        "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod..",
    },
  ],
  [
    "a node the pod cannot use anyway is not helped by preemption",
    [nodeWith("n1", { cpu: "2", labels: { disk: "hdd" } }), nodeWith("n2", { cpu: "2" })],
    [on("n1", "a", 1), on("n1", "b", 1), on("n2", "c", 20), on("n2", "d", 20)],
    podWith("high", { cpu: "1", priority: 10, nodeSelector: { disk: "ssd" } }),
    [],
    {
      message:
        "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..",
    },
  ],
  [
    "when removing every lower pod is still not enough, the filter's reason is told",
    [nodeWith("n1", { cpu: "2" })],
    [on("n1", "a", 1), on("n1", "b", 20)],
    podWith("high", { cpu: "2", priority: 10 }),
    [],
    {
      message: "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Insufficient cpu..",
    },
  ],
  [
    "a pod with preemptionPolicy Never does not preempt",
    two,
    [on("n1", "low", 1), on("n1", "low2", 1), on("n2", "low3", 1), on("n2", "low4", 1)],
    podWith("high", { cpu: "1", priority: 10, preemptionPolicy: "Never" }),
    [],
    {
      message: "0/2 nodes are available: 2 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never..",
    },
  ],
  [
    "a victim protected by a PodDisruptionBudget is avoided when another node has an unprotected one",
    two,
    [on("n1", "guarded", 1, { labels: { app: "db" } }), on("n1", "x", 20), on("n2", "free", 1), on("n2", "y", 20)],
    podWith("high", { cpu: "1", priority: 10 }),
    [budget({ app: "db" }, 0)],
    { node: "n2", victims: ["free"] },
  ],
  [
    "a budget with disruptions left does not protect",
    two,
    [on("n1", "guarded", 1, { labels: { app: "db" } }), on("n1", "x", 20), on("n2", "free", 3), on("n2", "y", 20)],
    podWith("high", { cpu: "1", priority: 10 }),
    [budget({ app: "db" }, 1)],
    { node: "n1", victims: ["guarded"] },
  ],
  [
    "a protected victim is still taken when no other node can help",
    [nodeWith("n1", { cpu: "2" })],
    [on("n1", "guarded", 1, { labels: { app: "db" } }), on("n1", "x", 20)],
    podWith("high", { cpu: "1", priority: 10 }),
    [budget({ app: "db" }, 0)],
    { node: "n1", victims: ["guarded"] },
  ],
  [
    "the node whose most important victim matters least wins, then fewer victims",
    [nodeWith("n1", { cpu: "3" }), nodeWith("n2", { cpu: "3" })],
    [
      on("n1", "a5", 5),
      on("n1", "b20", 20),
      on("n1", "c20", 20),
      on("n2", "d2", 2, { cpu: "500m" }),
      on("n2", "e2", 2, { cpu: "500m" }),
      on("n2", "f20", 20),
      on("n2", "g20", 20),
    ],
    podWith("high", { cpu: "1", priority: 10 }),
    [],
    { node: "n2", victims: ["d2", "e2"] },
  ],
  [
    "a lower-priority pod whose anti-affinity keeps the pod out is a victim too",
    [nodeWith("n1", { cpu: "4" })],
    [on("n1", "loner", 1, { affinity: podAffinity("podAntiAffinity", { app: "web" }, "kubernetes.io/hostname") })],
    podWith("high", { cpu: "1", priority: 10, labels: { app: "web" } }),
    [],
    { node: "n1", victims: ["loner"] },
  ],
];

describe("preemption", () => {
  for (const [name, nodes, existing, pod, budgets, want] of cases)
    test(name, () => expect(cycle(nodes, existing, pod, budgets)).toEqual(want as never));
});

describe("preemption with pods nominated to the node (they count while victims are given back)", () => {
  const full = [on("n1", "low1", 1), on("n1", "low2", 2), on("n1", "x", 20)];
  const cases: [string, [SchedPod, string][], unknown][] = [
    ["with none nominated, the more important victim is given back", [], { node: "n1", victims: ["low1"] }],
    [
      "a pod as important nominated there takes the room one victim would have left",
      [[podWith("other", { cpu: "1", priority: 10 }), "n1"]],
      { node: "n1", victims: ["low2", "low1"] },
    ],
    [
      "a less important nominated pod does not count",
      [[podWith("other", { cpu: "1", priority: 5 }), "n1"]],
      { node: "n1", victims: ["low1"] },
    ],
    [
      "with two nominated, even both victims are not room enough",
      [
        [podWith("other", { cpu: "1", priority: 10 }), "n1"],
        [podWith("another", { cpu: "1", priority: 10 }), "n1"],
      ],
      {
        message:
          "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Insufficient cpu..",
      },
    ],
  ];
  for (const [name, nominated, want] of cases)
    test(name, () => {
      const cache = cacheWith([nodeWith("n1", { cpu: "3" })], full);
      for (const [p, node] of nominated) cache.nominate(p, node);
      const s = new Scheduler1(defaultPlugins);
      const pod = podWith("high", { cpu: "1", priority: 10 });
      const r = s.schedule(pod, cache.nodes(), undefined, cache.nominatedOn);
      if (r.node !== undefined) throw new Error(`scheduled on ${r.node}`);
      const p = preempt(s, r.state, 1, r.resolvable, [], (n) => cache.get(n), cache.nominatedOn);
      expect(
        p.node === undefined
          ? { message: `${r.message} ${p.message}.` }
          : { node: p.node, victims: p.victims.map((v) => v.pod.metadata!.name) },
      ).toEqual(want as never);
    });
});
