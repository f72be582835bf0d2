// Whole scheduling cycles over a node cache: Kubernetes' unschedulable message, spreading,
// least-allocated placement, assumptions counting at once, and the adaptive node count.
import { expect, test } from "bun:test";
import { NodeCache } from "./node-cache.ts";
import { defaultPlugins } from "./plugins/index.ts";
import { numFeasibleNodesToFind, Scheduler1 } from "./schedule-one.ts";
import { nodeWith, podWith } from "../../../test/helpers/scheduler.ts";

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

test("the number of nodes to score adapts to the cluster size like Kubernetes'", () => {
  expect(numFeasibleNodesToFind(50)).toBe(50);
  expect(numFeasibleNodesToFind(1000)).toBe(420);
  expect(numFeasibleNodesToFind(5000)).toBe(500);
  expect(numFeasibleNodesToFind(100_000)).toBe(5000);
});
