// Whole scheduling cycles over a node cache: Kubernetes' unschedulable message, spreading,
// least-allocated placement, assumptions counting at once, and the adaptive node count.
import { describe, expect, test } from "bun:test";
import { NodeCache } from "./node-cache.ts";
import { defaultPlugins } from "./plugins/index.ts";
import { defaultNormalizeScore, numFeasibleNodesToFind, Scheduler1 } from "./schedule-one.ts";
import { preempt } from "./preemption.ts";
import type { SchedNode, SchedPod } from "./types.ts";
import { cacheWith, nodeWith, podAffinity, podWith } from "../../../test/helpers/scheduler.ts";

function cacheOf(...nodes: ReturnType<typeof nodeWith>[]): NodeCache {
  const c = new NodeCache();
  for (const n of nodes) c.upsertNode(n);
  return c;
}

test("a pod that fits nowhere gets Kubernetes' message counting each reason", () => {
  const cache = cacheOf(
    nodeWith("a", { cpu: "1" }),
    nodeWith("b", { cpu: "1", labels: { disk: "hdd" } }),
    nodeWith("c", { cpu: "1", labels: { disk: "hdd" } }),
  );
  const r = new Scheduler1(defaultPlugins).schedule(
    podWith("p", { cpu: "2", nodeSelector: { disk: "hdd" } }),
    cache.nodes(),
  );
  expect(r.node).toBeUndefined();
  expect((r as { message: string }).message).toBe(
    "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu.",
  );
});

test("replicas of one controller spread across nodes", () => {
  const cache = cacheOf(nodeWith("a"), nodeWith("b"), nodeWith("c"));
  const s = new Scheduler1(defaultPlugins);
  const placed: string[] = [];
  for (let i = 0; i < 6; i++) {
    const pod = podWith(`web-${i}`, { labels: { app: "web" }, owned: true, cpu: "100m" });
    const r = s.schedule(pod, cache.nodes());
    cache.assume(pod, r.node!);
    placed.push(r.node!);
  }
  expect(placed.filter((n) => n === "a").length).toBe(2);
  expect(placed.filter((n) => n === "b").length).toBe(2);
  expect(placed.filter((n) => n === "c").length).toBe(2);
});

test("an assumed pod's requests count for the next decision", () => {
  const cache = cacheOf(nodeWith("a", { cpu: "1" }));
  const s = new Scheduler1(defaultPlugins);
  const first = podWith("p1", { cpu: "800m" });
  cache.assume(first, s.schedule(first, cache.nodes()).node!);
  expect(s.schedule(podWith("p2", { cpu: "800m" }), cache.nodes()).node).toBeUndefined();
  cache.forget("default/p1");
  expect(s.schedule(podWith("p2", { cpu: "800m" }), cache.nodes()).node).toBe("a");
});

test("the emptier node wins", () => {
  const cache = cacheOf(nodeWith("busy"), nodeWith("idle"));
  cache.upsertPod({
    ...podWith("x", { cpu: "3", memory: "12Gi" }),
    spec: { ...podWith("x", { cpu: "3", memory: "12Gi" }).spec, nodeName: "busy" },
  });
  expect(new Scheduler1(defaultPlugins).schedule(podWith("p", { cpu: "100m" }), cache.nodes()).node).toBe("idle");
});

test("a pod without requests goes to the node with fewer such pods (they count as 100m and 200Mi)", () => {
  const cache = cacheOf(nodeWith("busy"), nodeWith("idle"));
  for (const name of ["a", "b", "c"])
    cache.upsertPod({ ...podWith(name), spec: { ...podWith(name).spec, nodeName: "busy" } });
  expect(new Scheduler1(defaultPlugins).schedule(podWith("p"), cache.nodes()).node).toBe("idle");
});

test("scores are normalized as upstream's DefaultNormalizeScore: integer division, reversed on request", () => {
  const scores = new Float64Array([1, 2, 3, 0]);
  defaultNormalizeScore(scores, false);
  expect([...scores]).toEqual([33, 66, 100, 0]);
  const reversed = new Float64Array([1, 2, 3, 0]);
  defaultNormalizeScore(reversed, true);
  expect([...reversed]).toEqual([67, 34, 0, 100]);
  const none = new Float64Array([0, 0]);
  defaultNormalizeScore(none, true);
  expect([...none]).toEqual([100, 100]);
});

test("the number of nodes to score adapts to the cluster size like Kubernetes'", () => {
  expect(numFeasibleNodesToFind(50)).toBe(50);
  expect(numFeasibleNodesToFind(1000)).toBe(420);
  expect(numFeasibleNodesToFind(5000)).toBe(500);
  expect(numFeasibleNodesToFind(100_000)).toBe(5000);
});

describe("pods nominated to a node count in its filters (upstream's RunFilterPluginsWithNominatedPods)", () => {
  const HOST = "kubernetes.io/hostname";
  const waiting = (name: string, priority: number, o: Parameters<typeof podWith>[1] = {}) =>
    podWith(name, { cpu: "1500m", priority, ...o });
  const cases: {
    name: string;
    nodes: SchedNode[];
    bound?: SchedPod[];
    nominated: [SchedPod, string][];
    pod: SchedPod;
    want: string;
  }[] = [
    {
      name: "a higher-priority pod nominated to the only node keeps the room preemption freed for it",
      nodes: [nodeWith("a", { cpu: "2" })],
      nominated: [[waiting("high", 10), "a"]],
      pod: podWith("low", { cpu: "1", priority: 1 }),
      want: "0/1 nodes are available: 1 Insufficient cpu.",
    },
    {
      name: "a nominated pod of equal priority keeps its room too",
      nodes: [nodeWith("a", { cpu: "2" })],
      nominated: [[waiting("same", 1), "a"]],
      pod: podWith("p", { cpu: "1", priority: 1 }),
      want: "0/1 nodes are available: 1 Insufficient cpu.",
    },
    {
      name: "a nominated pod of lower priority does not count",
      nodes: [nodeWith("a", { cpu: "2" })],
      nominated: [[waiting("lower", 0), "a"]],
      pod: podWith("p", { cpu: "1", priority: 1 }),
      want: "a",
    },
    {
      name: "a pod's own nomination does not stand in its way",
      nodes: [nodeWith("a", { cpu: "2" })],
      nominated: [[waiting("me", 5, { cpu: "1" }), "a"]],
      pod: podWith("me", { cpu: "1", priority: 5 }),
      want: "a",
    },
    {
      name: "only the node the pod is nominated to is affected: the other takes the lower pod",
      nodes: [nodeWith("a", { cpu: "2" }), nodeWith("b", { cpu: "2" })],
      bound: [podWith("filler", { cpu: "1", nodeName: "b" })],
      nominated: [[waiting("high", 10), "a"]],
      pod: podWith("low", { cpu: "1", priority: 1 }),
      want: "b",
    },
    {
      name: "required anti-affinity counts a nominated pod as if it were there",
      nodes: [nodeWith("a"), nodeWith("b")],
      nominated: [[waiting("db", 10, { labels: { app: "db" } }), "a"]],
      pod: podWith("p", { cpu: "100m", priority: 1, affinity: podAffinity("podAntiAffinity", { app: "db" }, HOST) }),
      want: "b",
    },
    {
      name: "required affinity never relies on a nominated pod, which may not come (the node must pass without it too)",
      nodes: [nodeWith("a"), nodeWith("b")],
      nominated: [[waiting("db", 10, { labels: { app: "db" } }), "a"]],
      pod: podWith("p", { cpu: "100m", priority: 1, affinity: podAffinity("podAffinity", { app: "db" }, HOST) }),
      want: "0/2 nodes are available: 2 node(s) didn't match pod affinity rules.",
    },
    {
      name: "with pods nominated anywhere, a node that is not clean (tainted) still goes through every filter",
      nodes: [nodeWith("a", { cpu: "2" }), nodeWith("b", { taints: [{ key: "gpu", effect: "NoSchedule" }] })],
      nominated: [[waiting("high", 10), "a"]],
      pod: podWith("low", { cpu: "1", priority: 1 }),
      want: "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {gpu: }.",
    },
    {
      name: "a tainted node with a nominated pod on it is checked by every filter too",
      nodes: [nodeWith("a", { taints: [{ key: "gpu", effect: "NoSchedule" }] })],
      nominated: [[waiting("other", 0, { cpu: "100m" }), "a"]],
      pod: podWith("p", { cpu: "100m", priority: 1 }),
      want: "0/1 nodes are available: 1 node(s) had untolerated taint {gpu: }.",
    },
  ];
  test.each(cases.map((c) => [c.name, c] as const))("%s", (_, c) => {
    const cache = cacheWith(c.nodes, c.bound);
    for (const [p, node] of c.nominated) cache.nominate(p, node);
    const r = new Scheduler1(defaultPlugins).schedule(c.pod, cache.nodes(), undefined, cache.nominatedOn);
    expect(r.node ?? (r as { message: string }).message).toBe(c.want);
  });

  test("a node checked cycle after cycle sees nominations and its own pods as they are now", () => {
    // The node with its nominated pods added is kept between cycles: each step must still decide
    // as a fresh cycle would.
    const cache = cacheWith([nodeWith("a", { cpu: "2" })]);
    const s = new Scheduler1(defaultPlugins);
    const low = (n: number) => podWith(`low${n}`, { cpu: "1", priority: 1 });
    const decide = (n: number) => {
      const r = s.schedule(low(n), cache.nodes(), undefined, cache.nominatedOn);
      return r.node ?? (r as { message: string }).message;
    };
    const full = "0/1 nodes are available: 1 Insufficient cpu.";
    expect(decide(1)).toBe("a");
    cache.nominate(waiting("high", 10), "a");
    expect(decide(2)).toBe(full);
    expect(decide(3)).toBe(full);
    cache.nominate(waiting("high", 10, { cpu: "500m" }), "a"); // the same pod, asking for less now
    expect(decide(4)).toBe("a");
    cache.upsertPod(podWith("bound", { cpu: "1", nodeName: "a" })); // the node's own pods change
    expect(decide(5)).toBe(full);
    cache.removePod("default/bound");
    expect(decide(6)).toBe("a");
    cache.unnominate("default/high");
    cache.nominate(waiting("other", 10, { cpu: "2" }), "a");
    expect(decide(7)).toBe(full);
    cache.unnominate("default/other");
    expect(decide(8)).toBe("a");
  });

  test("the node a pod is nominated to is tried first (upstream's evaluateNominatedNode)", () => {
    // "busy" scores lower than "idle" (less room left), so only the nomination sends the pod there.
    const cache = cacheWith(
      [nodeWith("busy", { cpu: "4" }), nodeWith("idle", { cpu: "4" })],
      [podWith("x", { cpu: "2", nodeName: "busy" })],
    );
    const s = new Scheduler1(defaultPlugins);
    const pod = podWith("p", { cpu: "1", priority: 10 });
    cache.nominate(pod, "busy");
    const decide = (nominatedNode?: string) =>
      s.schedule(pod, cache.nodes(), undefined, cache.nominatedOn, nominatedNode ? cache.get(nominatedNode) : undefined)
        .node;
    expect(decide()).toBe("idle");
    expect(decide("busy")).toBe("busy"); // its own nomination does not count against it
    // A nominated node that no longer fits: every node is looked at as usual.
    cache.upsertPod(podWith("y", { cpu: "2", nodeName: "busy" }));
    expect(decide("busy")).toBe("idle");
  });

  test("preemption chooses victims with the nominated pods counted", () => {
    // Without the nomination, n1 would win (its victim has the lower priority); with an
    // equal-priority pod nominated there, evicting n1's pod is not enough.
    const cache = cacheWith(
      [nodeWith("n1", { cpu: "2" }), nodeWith("n2", { cpu: "2" })],
      [
        podWith("low1", { cpu: "2", priority: 1, nodeName: "n1" }),
        podWith("low2", { cpu: "2", priority: 2, nodeName: "n2" }),
      ],
    );
    const s = new Scheduler1(defaultPlugins);
    const high = podWith("high", { cpu: "1", priority: 10 });
    const run = () => {
      const r = s.schedule(high, cache.nodes(), undefined, cache.nominatedOn);
      if (r.node !== undefined) throw new Error(`scheduled on ${r.node}`);
      const p = preempt(s, r.state, 2, r.resolvable, [], (n) => cache.get(n), cache.nominatedOn);
      return p.node === undefined ? p.message : `${p.node}: ${p.victims.map((v) => v.pod.metadata!.name).join(",")}`;
    };
    expect(run()).toBe("n1: low1");
    cache.nominate(podWith("other", { cpu: "2", priority: 10 }), "n1");
    expect(run()).toBe("n2: low2");
    cache.unnominate("default/other");
    expect(run()).toBe("n1: low1");
  });
});

test("a node with a PreferNoSchedule taint the pod does not tolerate is chosen last", () => {
  const cache = cacheOf(nodeWith("a", { taints: [{ key: "x", effect: "PreferNoSchedule" }] }), nodeWith("b"));
  const s = new Scheduler1(defaultPlugins);
  for (let i = 0; i < 5; i++) expect(s.schedule(podWith(`p-${i}`), cache.nodes()).node).toBe("b");
  const tolerant = podWith("t", { tolerations: [{ key: "x", operator: "Exists", effect: "PreferNoSchedule" }] });
  const placed = new Set(Array.from({ length: 20 }, () => s.schedule(tolerant, cache.nodes()).node));
  expect(placed).toEqual(new Set(["a", "b"]));
});

test("unschedulable, unready and tainted nodes are still filtered with their reasons, and a node that changes is seen", () => {
  const cache = cacheOf(
    nodeWith("cordoned", { unschedulable: true }),
    nodeWith("unready", { ready: "False" }),
    nodeWith("tainted", { taints: [{ key: "x", effect: "NoSchedule" }] }),
    nodeWith("full", { cpu: "1" }),
  );
  const s = new Scheduler1(defaultPlugins);
  const r = s.schedule(podWith("p", { cpu: "2" }), cache.nodes());
  expect((r as { message: string }).message).toBe(
    "0/4 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) had untolerated taint {x: }, 1 node(s) were unschedulable.",
  );
  const tolerant = podWith("t", { cpu: "2", tolerations: [{ key: "x", operator: "Exists" }] });
  expect(s.schedule(tolerant, cache.nodes()).node).toBe("tainted");
  cache.upsertNode(nodeWith("full", { cpu: "1", unschedulable: true }));
  cache.upsertNode(nodeWith("cordoned", { cpu: "4" }));
  expect(s.schedule(podWith("q", { cpu: "2" }), cache.nodes()).node).toBe("cordoned");
  // "full" is cordoned now: unschedulable, no longer short of cpu.
  expect((s.schedule(podWith("r", { cpu: "8" }), cache.nodes()) as { message: string }).message).toBe(
    "0/4 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) had untolerated taint {x: }, 1 node(s) were unschedulable.",
  );
});
