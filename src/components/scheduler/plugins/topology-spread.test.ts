// PodTopologySpread called directly, table-driven: pods already spread over zones, an incoming
// pod with constraints, and each node's verdict in upstream's words; then the soft scores.
import { describe, expect, test } from "bun:test";
import { cycleState } from "../schedule-one.ts";
import { cacheWith, nodeWith, podWith } from "../../../../test/helpers/scheduler.ts";
import type { SchedPod, TopologySpreadConstraint } from "../types.ts";
import { ERR_CONSTRAINTS, ERR_MISSING_LABEL, topologySpread } from "./topology-spread.ts";

const ZONE = "topology.kubernetes.io/zone";
const nodes = [
  nodeWith("a1", { labels: { [ZONE]: "a" } }),
  nodeWith("a2", { labels: { [ZONE]: "a" } }),
  nodeWith("b1", { labels: { [ZONE]: "b" }, taints: [{ key: "gpu", effect: "NoSchedule" }] }),
  nodeWith("c1", { labels: { [ZONE]: "c", disk: "hdd" } }),
  nodeWith("nozone"),
];
const web = { app: "web" };
const on = (node: string, i: number, labels: Record<string, string> = web) =>
  podWith(`w${node}${i}`, { nodeName: node, labels });
const zone = (o: Partial<TopologySpreadConstraint> = {}): TopologySpreadConstraint => ({
  maxSkew: 1,
  topologyKey: ZONE,
  whenUnsatisfiable: "DoNotSchedule",
  labelSelector: { matchLabels: web },
  ...o,
});

function verdicts(pod: SchedPod, existing: SchedPod[]): Record<string, string | undefined> {
  const cache = cacheWith(nodes, existing);
  const state = cycleState(pod);
  topologySpread.preFilter!(state, cache.nodes());
  return Object.fromEntries(cache.nodes().map((n) => [n.name, topologySpread.filter!(state, n)?.reason]));
}

const cases: [string, SchedPod, SchedPod[], Record<string, string | undefined>][] = [
  [
    "maxSkew 1 over zones sends the pod to the emptiest zones; a node without the key is out for good",
    podWith("p", { labels: web, spread: [zone()] }),
    [on("a1", 1), on("b1", 1)],
    { a1: ERR_CONSTRAINTS, a2: ERR_CONSTRAINTS, b1: ERR_CONSTRAINTS, c1: undefined, nozone: ERR_MISSING_LABEL },
  ],
  [
    "a pod the selector does not match adds no skew of its own",
    podWith("p", { labels: { app: "other" }, spread: [zone()] }),
    [on("a1", 1), on("b1", 1)],
    { a1: undefined, a2: undefined, b1: undefined, c1: undefined, nozone: ERR_MISSING_LABEL },
  ],
  [
    "maxSkew 2 tolerates one more",
    podWith("p", { labels: web, spread: [zone({ maxSkew: 2 })] }),
    [on("a1", 1), on("a2", 2), on("b1", 1)],
    { a1: ERR_CONSTRAINTS, a2: ERR_CONSTRAINTS, b1: undefined, c1: undefined, nozone: ERR_MISSING_LABEL },
  ],
  [
    "nodeAffinityPolicy Honor: only zones the pod may go to count, so an empty zone elsewhere is no minimum",
    podWith("p", { labels: web, nodeSelector: { disk: "hdd" }, spread: [zone()] }),
    [on("c1", 1), on("c1", 2)],
    { a1: undefined, a2: undefined, b1: undefined, c1: undefined, nozone: ERR_MISSING_LABEL },
  ],
  [
    "nodeAffinityPolicy Ignore: every zone counts, the empty ones too",
    podWith("p", { labels: web, nodeSelector: { disk: "hdd" }, spread: [zone({ nodeAffinityPolicy: "Ignore" })] }),
    [on("c1", 1), on("c1", 2)],
    { a1: undefined, a2: undefined, b1: undefined, c1: ERR_CONSTRAINTS, nozone: ERR_MISSING_LABEL },
  ],
  [
    "nodeTaintsPolicy Ignore (the default): an empty tainted zone holds the minimum at 0",
    podWith("p", { labels: web, spread: [zone()] }),
    [on("a1", 1), on("c1", 1)],
    { a1: ERR_CONSTRAINTS, a2: ERR_CONSTRAINTS, b1: undefined, c1: ERR_CONSTRAINTS, nozone: ERR_MISSING_LABEL },
  ],
  [
    "nodeTaintsPolicy Honor: a zone whose taint the pod does not tolerate does not count",
    podWith("p", { labels: web, spread: [zone({ nodeTaintsPolicy: "Honor" })] }),
    [on("a1", 1), on("c1", 1)],
    { a1: undefined, a2: undefined, b1: undefined, c1: undefined, nozone: ERR_MISSING_LABEL },
  ],
  [
    "minDomains above the number of zones makes the minimum 0",
    podWith("p", { labels: web, spread: [zone({ minDomains: 5 })] }),
    [on("a1", 1), on("b1", 1), on("c1", 1)],
    { a1: ERR_CONSTRAINTS, a2: ERR_CONSTRAINTS, b1: ERR_CONSTRAINTS, c1: ERR_CONSTRAINTS, nozone: ERR_MISSING_LABEL },
  ],
  [
    "matchLabelKeys narrows the selector to pods with the same value (one revision)",
    podWith("p", {
      labels: { ...web, "pod-template-hash": "v2" },
      spread: [zone({ matchLabelKeys: ["pod-template-hash"] })],
    }),
    [on("a1", 1, { ...web, "pod-template-hash": "v1" }), on("b1", 1, { ...web, "pod-template-hash": "v2" })],
    { a1: undefined, a2: undefined, b1: ERR_CONSTRAINTS, c1: undefined, nozone: ERR_MISSING_LABEL },
  ],
  [
    "ScheduleAnyway constraints never filter",
    podWith("p", { labels: web, spread: [zone({ whenUnsatisfiable: "ScheduleAnyway" })] }),
    [on("a1", 1), on("a1", 2)],
    { a1: undefined, a2: undefined, b1: undefined, c1: undefined, nozone: undefined },
  ],
];

describe("topology spread filter", () => {
  for (const [name, pod, existing, want] of cases) test(name, () => expect(verdicts(pod, existing)).toEqual(want));
});

function scores(pod: SchedPod, existing: SchedPod[]): Record<string, number> {
  const cache = cacheWith(nodes, existing);
  const state = cycleState(pod);
  const all = cache.nodes();
  topologySpread.preScore!(state, all, all);
  const raw = new Float64Array(all.map((n) => topologySpread.score!(state, n)));
  (topologySpread.normalize as (s: typeof state, r: Float64Array, n: typeof all) => void)(state, raw, all);
  return Object.fromEntries(all.map((n, i) => [n.name, raw[i]!]));
}

test("a soft zone constraint scores emptier zones higher; nodes without the key score 0", () => {
  const s = scores(podWith("p", { labels: web, spread: [zone({ whenUnsatisfiable: "ScheduleAnyway" })] }), [
    on("a1", 1),
    on("a2", 2),
    on("b1", 1),
  ]);
  expect(s.nozone).toBe(0);
  expect(s.c1).toBe(100);
  expect(s.a1).toBe(s.a2);
  expect(s.b1!).toBeGreaterThan(s.a1!);
  expect(s.c1!).toBeGreaterThan(s.b1!);
});

test("a controller's pods without constraints spread by the defaults: hostname, and zone where nodes have one", () => {
  const owned = (node: string, i: number) => ({
    ...podWith(`o${node}${i}`, { nodeName: node, labels: web, owned: true }),
  });
  const s = scores(podWith("p", { labels: web, owned: true }), [owned("a1", 1), owned("a1", 2), owned("b1", 1)]);
  expect(s.nozone).toBe(100);
  expect(s.a1!).toBeLessThan(s.b1!);
  expect(s.b1!).toBeLessThan(s.c1!);
  expect(scores(podWith("p", { labels: web }), [owned("a1", 1)])).toEqual({ a1: 0, a2: 0, b1: 0, c1: 0, nozone: 0 });
});

test("soft counts: domains (and their weight) from the feasible nodes, pods from every node, kept as pods come", () => {
  const cache = cacheWith(nodes, [on("a1", 1), on("a1", 2), on("a1", 3), on("a2", 1), on("a2", 2), on("b1", 1)]);
  const pod = podWith("p", { labels: web, spread: [zone({ whenUnsatisfiable: "ScheduleAnyway" })] });
  const raw = () => {
    const state = cycleState(pod);
    const all = cache.nodes();
    const feasible = all.filter((n) => n.name === "a1" || n.name === "c1");
    topologySpread.preScore!(state, feasible, all);
    const out = new Float64Array(feasible.length);
    topologySpread.scoreAll!(state, feasible, out);
    return Object.fromEntries(feasible.map((n, i) => [n.name, out[i]!]));
  };
  // Zone a holds 5 matching pods (a2's too, though a2 is not feasible); 2 domains: weight log(2 + 2).
  expect(raw()).toEqual({ a1: Math.round(5 * Math.log(4)), c1: 0 });
  cache.assume(podWith("new", { labels: web }), "a2");
  cache.assume(podWith("new2", { labels: web }), "c1");
  expect(raw()).toEqual({ a1: Math.round(6 * Math.log(4)), c1: Math.round(Math.log(4)) });
  cache.removePod("default/new");
  expect(raw()).toEqual({ a1: Math.round(5 * Math.log(4)), c1: Math.round(Math.log(4)) });
});

test('the defaults count a feasible node without a zone as domain "" in the zone weight, as upstream', () => {
  const owned = (i: number) => podWith(`o${i}`, { nodeName: "a1", labels: web, owned: true });
  const cache = cacheWith(nodes, [1, 2, 3, 4, 5].map(owned));
  const state = cycleState(podWith("p", { labels: web, owned: true }));
  const all = cache.nodes();
  topologySpread.preScore!(state, all, all);
  const out = new Float64Array(all.length);
  topologySpread.scoreAll!(state, all, out);
  // Hostname: 5 feasible nodes, weight log(5 + 2), maxSkew 3; zone: a, b, c and "", weight log(4 + 2), maxSkew 5.
  const a1 = Math.round(5 * Math.log(7) + 2 + 5 * Math.log(6) + 4);
  expect(a1).not.toBe(Math.round(5 * Math.log(7) + 2 + 5 * Math.log(5) + 4));
  expect(out[all.findIndex((n) => n.name === "a1")]).toBe(a1);
  // No pods and no zone: only the hostname constraint's maxSkew - 1.
  expect(out[all.findIndex((n) => n.name === "nozone")]).toBe(2);
});

test("hard counts kept across cycles: the minimum and maximum follow pods placed and gone, as on a fresh cache", () => {
  // Hostname and zone constraints over 6 nodes; each cycle a pod goes to the first feasible node,
  // sometimes one leaves. The only empty node filled moves the minimum; the fullest one leaving the maximum.
  const many = Array.from({ length: 6 }, (_, i) => nodeWith(`n${i}`, { labels: { [ZONE]: ["a", "b", "c"][i % 3]! } }));
  const HOST = "kubernetes.io/hostname";
  const pod = (name: string) =>
    podWith(name, {
      labels: web,
      spread: [zone({ maxSkew: 2 }), zone({ topologyKey: HOST, maxSkew: 1 })],
    });
  const cache = cacheWith(many);
  const placed: SchedPod[] = [];
  const decide = (c: ReturnType<typeof cacheWith>, name: string) => {
    const state = cycleState(pod(name));
    topologySpread.preFilter!(state, c.nodes());
    return Object.fromEntries(c.nodes().map((n) => [n.name, topologySpread.filter!(state, n)?.reason]));
  };
  let refused = 0;
  for (let i = 0; i < 40; i++) {
    const got = decide(cache, `p${i}`);
    expect(got).toEqual(decide(cacheWith(many, placed), `p${i}`));
    const to = (i * 5) % 6;
    const fits = Object.entries(got).filter(([, r]) => r === undefined);
    refused += 6 - fits.length;
    const [node] = fits.find(([n]) => n === `n${to}`) ?? fits[0] ?? [];
    if (node) {
      const p = podWith(`p${i}`, { labels: web, nodeName: node });
      placed.push(p);
      cache.upsertPod(p);
    }
    if (i % 7 === 6) {
      const gone = placed.splice((i * 3) % placed.length, 1)[0]!;
      cache.removePod(`default/${gone.metadata!.name}`);
    }
  }
  expect(refused).toBeGreaterThan(0);
});
