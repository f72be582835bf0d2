// The node cache's memo (plugins' per-node results kept while the node's pods stay the same)
// must never change a decision: after random adds, deletes, relabels, assumptions and namespace
// label changes and node relabels, spread and inter-pod affinity give the same verdicts and scores on the long-lived
// cache as on a cache built from scratch with the same pods.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { cacheWith, nodeWith, podAffinity, podWith } from "../../../test/helpers/scheduler.ts";
import { keyOf } from "../../client/index.ts";
import { cloneNodeInfo, memoized, NodeCache } from "./node-cache.ts";
import { interPodAffinity } from "./plugins/inter-pod-affinity.ts";
import { topologySpread } from "./plugins/topology-spread.ts";
import { cycleState } from "./schedule-one.ts";
import type { NodeInfo, SchedPod } from "./types.ts";

const ZONE = "topology.kubernetes.io/zone";
const HOST = "kubernetes.io/hostname";
const nodes = [
  nodeWith("a1", { labels: { [ZONE]: "a" } }),
  nodeWith("a2", { labels: { [ZONE]: "a" } }),
  nodeWith("b1", { labels: { [ZONE]: "b" } }),
  nodeWith("c1", { labels: { [ZONE]: "c" } }),
  nodeWith("nozone"),
];
const colors = ["red", "blue", "green"];

/** An existing pod: a color (or none), a namespace, maybe affinity terms of its own, maybe terminating. */
const existingPod = fc.record({
  color: fc.constantFrom(...colors, undefined),
  namespace: fc.constantFrom("a", "b"),
  terms: fc.constantFrom("none", "anti-host", "anti-zone", "affinity-zone", "preferred", "ns-selector"),
  deleting: fc.boolean(),
});
type Existing = typeof existingPod extends fc.Arbitrary<infer T> ? T : never;

function termsOf(kind: Existing["terms"], color: string): Record<string, unknown> | undefined {
  const sel = { color };
  if (kind === "anti-host") return podAffinity("podAntiAffinity", sel, HOST);
  if (kind === "anti-zone") return podAffinity("podAntiAffinity", sel, ZONE, { namespaces: ["a", "b"] });
  if (kind === "affinity-zone") return podAffinity("podAffinity", sel, ZONE);
  if (kind === "preferred") return podAffinity("podAffinity", sel, ZONE, { preferred: 5 });
  if (kind === "ns-selector")
    return podAffinity("podAntiAffinity", sel, HOST, { namespaceSelector: { matchLabels: { team: "x" } } });
  return undefined;
}

const build = (name: string, node: string, e: Existing): SchedPod =>
  podWith(name, {
    nodeName: node,
    namespace: e.namespace,
    labels: e.color ? { color: e.color } : {},
    affinity: termsOf(e.terms, e.color ?? "red"),
    deleting: e.deleting,
  });

const op = fc.oneof(
  fc.record({ kind: fc.constant("add" as const), node: fc.nat(nodes.length - 1), pod: existingPod }),
  fc.record({ kind: fc.constant("assume" as const), node: fc.nat(nodes.length - 1), pod: existingPod }),
  fc.record({ kind: fc.constant("remove" as const), which: fc.nat() }),
  fc.record({ kind: fc.constant("relabel" as const), which: fc.nat(), pod: existingPod }),
  fc.record({ kind: fc.constant("namespace" as const), team: fc.constantFrom("x", "y") }),
  fc.record({
    kind: fc.constant("zone" as const),
    node: fc.nat(nodes.length - 1),
    zone: fc.constantFrom("a", "b", "c", ""),
  }),
);

/** Incoming pods that exercise every memoised path. */
const spread = (when: "DoNotSchedule" | "ScheduleAnyway", key: string) => [
  { maxSkew: 1, topologyKey: key, whenUnsatisfiable: when, labelSelector: { matchLabels: { color: "red" } } },
];
const probes: SchedPod[] = [
  podWith("p1", { namespace: "a", labels: { color: "red" }, spread: spread("DoNotSchedule", ZONE) }),
  podWith("p2", { namespace: "b", labels: { color: "red" }, spread: spread("ScheduleAnyway", ZONE) }),
  podWith("p3", { namespace: "a", labels: { color: "blue" }, spread: spread("ScheduleAnyway", HOST) }),
  podWith("p4", { namespace: "a", labels: { color: "red" }, owned: true }),
  podWith("p5", {
    namespace: "a",
    labels: { color: "red" },
    affinity: podAffinity("podAffinity", { color: "red" }, ZONE),
  }),
  podWith("p6", {
    namespace: "b",
    labels: { color: "blue" },
    affinity: podAffinity("podAntiAffinity", { color: "green" }, HOST, { namespaces: ["a", "b"] }),
  }),
  podWith("p7", {
    namespace: "a",
    labels: { color: "green" },
    affinity: podAffinity("podAntiAffinity", { color: "blue" }, ZONE, { preferred: 3 }),
  }),
  podWith("p8", {
    namespace: "a",
    labels: { color: "red" },
    affinity: podAffinity("podAffinity", { color: "red" }, HOST, { namespaceSelector: { matchLabels: { team: "x" } } }),
  }),
  // Namespaces no term names: pods there are alike to the placed pods' terms when their labels are.
  podWith("p9", { namespace: "d", labels: { color: "green" } }),
  podWith("p10", { namespace: "e", labels: { color: "green" } }),
  podWith("p11", { namespace: "e", labels: { color: "red" }, spread: spread("ScheduleAnyway", ZONE) }),
];

/** Each probe's filter verdicts and scores on every node (all nodes feasible, for scoring). */
function decisions(
  all: NodeInfo[],
  nsLabels: Record<string, Record<string, string>>,
  version: number,
  nodesWithTerms?: NodeInfo[],
  some = probes,
) {
  return some.map((pod) => {
    const out: Record<string, unknown> = {};
    for (const p of [topologySpread, interPodAffinity]) {
      const state = cycleState(pod, (ns) => nsLabels[ns], version);
      state.nodesWithTerms = nodesWithTerms;
      const active = p.preFilter!(state, all) !== false;
      out[`${p.name} filter`] = all.map((n) => (active ? p.filter!(state, n)?.reason : "skipped"));
      // The counts behind the verdicts too, which the verdicts show only near a limit.
      // The counts, without the version stamp (a counter that differs between caches by design).
      out[`${p.name} state`] = JSON.stringify(state.data.get(p.name), (k, v) =>
        k === "version" || k === "cached"
          ? undefined
          : v instanceof Map
            ? [...v].sort(([a], [b]) => (a < b ? -1 : 1))
            : v,
      );
      const scoring = p.preScore!(state, all, all) !== false;
      out[`${p.name} score`] = all.map((n) => (scoring ? p.score!(state, n) : "skipped"));
    }
    return out;
  });
}

type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

/**
 * Applies the ops one by one to a long-lived cache and, after each, compares `some` probes'
 * decisions with those on a cache built afresh.
 */
function replay(ops: Op[], some = probes): void {
  const now = [...nodes];
  const cache = new NodeCache();
  for (const n of now) cache.upsertNode(n);
  const placed = new Map<string, SchedPod>();
  const nsLabels: Record<string, Record<string, string>> = {
    a: { team: "x" },
    b: { team: "y" },
    d: { team: "x" },
    e: { team: "x" },
  };
  let version = 0;
  let seq = 0;
  for (const o of ops) {
    const keys = [...placed.keys()];
    if (o.kind === "add" || o.kind === "assume") {
      const pod = build(`e${seq++}`, nodes[o.node]!.metadata!.name!, o.pod);
      placed.set(keyOf(pod), pod);
      if (o.kind === "add") cache.upsertPod(pod);
      else cache.assume({ ...pod, spec: { ...pod.spec, nodeName: undefined } }, pod.spec.nodeName!);
    } else if (o.kind === "remove" && keys.length) {
      const key = keys[o.which % keys.length]!;
      placed.delete(key);
      cache.removePod(key);
    } else if (o.kind === "relabel" && keys.length) {
      // The same pod (name, node, terms) seen again with other labels or now terminating.
      const old = placed.get(keys[o.which % keys.length]!)!;
      const pod: SchedPod = {
        ...old,
        metadata: {
          ...old.metadata,
          labels: o.pod.color ? { color: o.pod.color } : {},
          deletionTimestamp: o.pod.deleting ? "2026-01-01T00:00:00Z" : undefined,
        },
      };
      placed.set(keyOf(pod), pod);
      cache.upsertPod(pod);
    } else if (o.kind === "namespace") {
      nsLabels.b = { team: o.team };
      nsLabels.d = { team: o.team };
      version++;
    } else if (o.kind === "zone") {
      // A node moved to another zone, or lost its zone label.
      const name = now[o.node]!.metadata!.name!;
      now[o.node] = nodeWith(name, { labels: o.zone ? { [ZONE]: o.zone } : {} });
      cache.upsertNode(now[o.node]!);
    }
    // The long-lived cache's list of nodes with terms against a scan of every node, each probe on a
    // cache of its own (no results shared between probes: pods of namespaces alike share them).
    expect(decisions(cache.nodes(), nsLabels, version, cache.nodesWithTerms(), some)).toEqual(
      some.flatMap((p) => decisions(cacheWith(now, [...placed.values()]).nodes(), nsLabels, version, undefined, [p])),
    );
  }
}

describe("node cache memo", () => {
  test("verdicts and scores on a long-lived cache equal those on a cache built afresh", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => replay(ops)),
      { numRuns: 60 },
    );
  });

  test("one probe asked after every change (its verdicts cached on the nodes) decides as on a fresh cache", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), fc.constantFrom(...probes), (ops, probe) =>
        replay(ops, [probe]),
      ),
      { numRuns: 100 },
    );
  });

  test("counts kept across more node changes than the journal holds still equal fresh ones", () => {
    const pods = [
      build("e1", "a1", { color: "green", namespace: "a", terms: "anti-host", deleting: false }),
      build("e2", "b1", { color: "red", namespace: "a", terms: "none", deleting: false }),
    ];
    const cache = cacheWith(nodes, pods.slice(0, 1));
    const before = decisions(cache.nodes(), {}, 0, cache.nodesWithTerms());
    cache.upsertPod(pods[1]!);
    // Tens of thousands of changes elsewhere push the change above out of the journal.
    const elsewhere = cacheWith([nodeWith("elsewhere")]);
    for (let i = 0; i < 20_000; i++) {
      elsewhere.upsertPod(podWith("churn", { nodeName: "elsewhere" }));
      elsewhere.removePod("default/churn");
    }
    const after = decisions(cache.nodes(), {}, 0, cache.nodesWithTerms());
    expect(after).toEqual(decisions(cacheWith(nodes, pods).nodes(), {}, 0));
    expect(after).not.toEqual(before);
  });

  test("a node's generation changes with its pods, and a clone for preemption keeps its own memo", () => {
    const cache = cacheWith(nodes);
    const a1 = cache.get("a1")!;
    const g0 = a1.generation;
    cache.upsertPod(podWith("x", { nodeName: "a1", labels: { color: "red" } }));
    const g1 = a1.generation;
    expect(g1).not.toBe(g0);
    cache.upsertPod(podWith("x", { nodeName: "a1", labels: { color: "blue" } }));
    expect(a1.generation).not.toBe(g1);
    expect(cache.get("a2")!.generation).not.toBe(a1.generation);
    expect(memoized(a1, "k", () => 1)).toBe(1);
    expect(memoized(a1, "k", () => 2)).toBe(1);
    const clone = cloneNodeInfo(a1);
    expect(memoized(clone, "k", () => 3)).toBe(3);
    cache.removePod("default/x");
    expect(memoized(a1, "k", () => 4)).toBe(4);
  });
  test("the list of nodes with terms grows in place, and is rebuilt when a node goes or most of it has none", () => {
    const many = Array.from({ length: 100 }, (_, i) =>
      nodeWith(`n${i}`, { labels: { [ZONE]: ["a", "b", "c"][i % 3]! } }),
    );
    const termPod = (i: number) =>
      build(`t${i}`, `n${i}`, { color: "green", namespace: "a", terms: "anti-host", deleting: false });
    const cache = cacheWith(many);
    const list = cache.nodesWithTerms();
    for (let i = 0; i < 100; i++) cache.upsertPod(termPod(i));
    // The same array: counts kept for it stay valid while it only grows.
    expect(cache.nodesWithTerms()).toBe(list);
    expect(list.map((n) => n.name)).toEqual(many.map((n) => n.metadata!.name!));
    for (let i = 0; i < 50; i++) cache.removePod(`a/t${i}`);
    expect(cache.nodesWithTerms()).toBe(list); // half without terms: kept
    cache.removePod("a/t50");
    const rebuilt = cache.nodesWithTerms();
    expect(rebuilt).not.toBe(list);
    expect(rebuilt.map((n) => n.name)).toEqual(many.slice(51).map((n) => n.metadata!.name!));
    cache.upsertPod(termPod(3));
    expect(cache.nodesWithTerms()).toBe(rebuilt);
    cache.removeNode("n60");
    expect(cache.nodesWithTerms().map((n) => n.name)).not.toContain("n60");
    expect(cache.nodesWithTerms().map((n) => n.name)).toContain("n3");
    // Decisions on the long-lived cache equal those on a cache built afresh.
    const left = many.filter((n) => n.metadata!.name !== "n60");
    const pods = [3, ...Array.from({ length: 49 }, (_, i) => i + 51)].filter((i) => i !== 60).map(termPod);
    const fresh = cacheWith(left, pods);
    expect(decisions(cache.nodes(), {}, 0, cache.nodesWithTerms())).toEqual(decisions(fresh.nodes(), {}, 0));
  });
});
