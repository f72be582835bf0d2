// InterPodAffinity called directly, table-driven: existing pods on nodes in zones, an incoming
// pod, and each node's verdict (undefined = fits) in upstream's words.
import { describe, expect, test } from "bun:test";
import { cycleState } from "../schedule-one.ts";
import { cacheWith, nodeWith, podAffinity, podWith } from "../../../../test/helpers/scheduler.ts";
import type { SchedPod } from "../types.ts";
import { ERR_AFFINITY, ERR_ANTI_AFFINITY, ERR_EXISTING_ANTI_AFFINITY, interPodAffinity } from "./inter-pod-affinity.ts";

const ZONE = "topology.kubernetes.io/zone";
const HOST = "kubernetes.io/hostname";
const nodes = [
  nodeWith("a1", { labels: { [ZONE]: "a" } }),
  nodeWith("a2", { labels: { [ZONE]: "a" } }),
  nodeWith("b1", { labels: { [ZONE]: "b" } }),
  nodeWith("nozone"),
];
const on = (node: string, name: string, o: Parameters<typeof podWith>[1] = {}) =>
  podWith(name, { ...o, nodeName: node });
const nsLabels: Record<string, Record<string, string>> = { default: { team: "x" }, other: { team: "y" } };

function verdicts(pod: SchedPod, existing: SchedPod[]): Record<string, string | undefined> {
  const cache = cacheWith(nodes, existing);
  const state = cycleState(pod, (ns) => nsLabels[ns]);
  interPodAffinity.preFilter!(state, cache.nodes());
  return Object.fromEntries(cache.nodes().map((n) => [n.name, interPodAffinity.filter!(state, n)?.reason]));
}

const cases: [string, SchedPod, SchedPod[], Record<string, string | undefined>][] = [
  [
    "required affinity to a zone's pods allows every node of that zone and no other",
    podWith("p", { affinity: podAffinity("podAffinity", { app: "db" }, ZONE) }),
    [on("a1", "db", { labels: { app: "db" } })],
    { a1: undefined, a2: undefined, b1: ERR_AFFINITY, nozone: ERR_AFFINITY },
  ],
  [
    "the first pod of a group with affinity to itself may go anywhere with the topology label",
    podWith("p", { labels: { app: "web" }, affinity: podAffinity("podAffinity", { app: "web" }, ZONE) }),
    [],
    { a1: undefined, a2: undefined, b1: undefined, nozone: ERR_AFFINITY },
  ],
  [
    "affinity with no matching pod anywhere, and not matching itself, fits nowhere",
    podWith("p", { affinity: podAffinity("podAffinity", { app: "db" }, ZONE) }),
    [],
    { a1: ERR_AFFINITY, a2: ERR_AFFINITY, b1: ERR_AFFINITY, nozone: ERR_AFFINITY },
  ],
  [
    "affinity only counts pods of the pod's own namespace by default",
    podWith("p", { affinity: podAffinity("podAffinity", { app: "db" }, ZONE) }),
    [on("a1", "db", { labels: { app: "db" }, namespace: "other" })],
    { a1: ERR_AFFINITY, a2: ERR_AFFINITY, b1: ERR_AFFINITY, nozone: ERR_AFFINITY },
  ],
  [
    "a namespaceSelector reaches pods of namespaces with matching labels",
    podWith("p", {
      affinity: podAffinity("podAffinity", { app: "db" }, ZONE, { namespaceSelector: { matchLabels: { team: "y" } } }),
    }),
    [on("b1", "db", { labels: { app: "db" }, namespace: "other" })],
    { a1: ERR_AFFINITY, a2: ERR_AFFINITY, b1: undefined, nozone: ERR_AFFINITY },
  ],
  [
    "required anti-affinity by hostname keeps replicas off nodes that have one",
    podWith("p", { labels: { app: "web" }, affinity: podAffinity("podAntiAffinity", { app: "web" }, HOST) }),
    [on("a1", "w1", { labels: { app: "web" } })],
    { a1: ERR_ANTI_AFFINITY, a2: undefined, b1: undefined, nozone: undefined },
  ],
  [
    "required anti-affinity by zone keeps the pod out of the whole zone",
    podWith("p", { affinity: podAffinity("podAntiAffinity", { app: "web" }, ZONE) }),
    [on("a2", "w1", { labels: { app: "web" } })],
    { a1: ERR_ANTI_AFFINITY, a2: ERR_ANTI_AFFINITY, b1: undefined, nozone: undefined },
  ],
  [
    "an existing pod's anti-affinity keeps a matching newcomer out of its zone (symmetry)",
    podWith("p", { labels: { app: "noisy" } }),
    [on("b1", "quiet", { affinity: podAffinity("podAntiAffinity", { app: "noisy" }, ZONE) })],
    { a1: undefined, a2: undefined, b1: ERR_EXISTING_ANTI_AFFINITY, nozone: undefined },
  ],
  [
    "an existing pod's anti-affinity ignores pods it does not select",
    podWith("p", { labels: { app: "calm" } }),
    [on("b1", "quiet", { affinity: podAffinity("podAntiAffinity", { app: "noisy" }, ZONE) })],
    { a1: undefined, a2: undefined, b1: undefined, nozone: undefined },
  ],
];

describe("inter-pod affinity filter", () => {
  for (const [name, pod, existing, want] of cases) test(name, () => expect(verdicts(pod, existing)).toEqual(want));
});

test("preferred affinity and anti-affinity score nodes by their topology domain", () => {
  const cache = cacheWith(nodes, [
    on("a1", "db", { labels: { app: "db" } }),
    on("b1", "cache", { labels: { app: "cache" } }),
  ]);
  const pod = podWith("p", {
    affinity: {
      ...podAffinity("podAffinity", { app: "db" }, ZONE, { preferred: 10 }),
      ...podAffinity("podAntiAffinity", { app: "cache" }, HOST, { preferred: 5 }),
    },
  });
  const state = cycleState(pod);
  const all = cache.nodes();
  interPodAffinity.preScore!(state, all, all);
  const raw = new Float64Array(all.map((n) => interPodAffinity.score!(state, n)));
  expect([...raw]).toEqual([10, 10, -5, 0]);
  const all1 = new Float64Array(all.length);
  interPodAffinity.scoreAll!(state, all, all1);
  expect([...all1]).toEqual([10, 10, -5, 0]);
  (interPodAffinity.normalize as (s: typeof state, r: Float64Array, n: typeof all) => void)(state, raw, all);
  // 100 * 5 / 15 = 33.3, truncated as upstream's NormalizeScore.
  expect([...raw]).toEqual([100, 100, 0, 33]);
});

describe("verdicts kept on the nodes from cycle to cycle", () => {
  // Each cycle is a new pod with the same terms (so the same kept counts); the nodes keep their verdicts.
  const cycle = (cache: ReturnType<typeof cacheWith>, pod: SchedPod) => {
    const state = cycleState(pod, (ns) => nsLabels[ns]);
    state.nodesWithTerms = cache.nodesWithTerms();
    if (interPodAffinity.preFilter!(state, cache.nodes()) === false) return "skipped";
    return Object.fromEntries(cache.nodes().map((n) => [n.name, interPodAffinity.filter!(state, n)?.reason]));
  };
  /** The verdicts on a1, a2 (zone a), b1 (zone b) and nozone. */
  const v = (a1?: string, a2?: string, b1?: string, nozone?: string) => ({ a1, a2, b1, nozone });
  const web = (name: string, key: string) =>
    podWith(name, { labels: { app: "web" }, affinity: podAffinity("podAntiAffinity", { app: "web" }, key) });

  test("a pod placed in one domain changes the verdicts there and keeps the others", () => {
    const cache = cacheWith(nodes);
    expect(cycle(cache, web("p0", HOST))).toEqual(v(undefined, undefined, undefined, undefined));
    cache.upsertPod({ ...web("w1", HOST), spec: { ...web("w1", HOST).spec, nodeName: "a2" } });
    expect(cycle(cache, web("p1", HOST))).toEqual(v(undefined, ERR_ANTI_AFFINITY, undefined, undefined));
    // Seen again bound (the node's generation changes, its pairs stay): nothing else changes.
    cache.upsertPod({ ...web("w1", HOST), spec: { ...web("w1", HOST).spec, nodeName: "a2" } });
    expect(cycle(cache, web("p2", HOST))).toEqual(v(undefined, ERR_ANTI_AFFINITY, undefined, undefined));
    cache.removePod("default/w1");
    expect(cycle(cache, web("p3", HOST))).toEqual(v(undefined, undefined, undefined, undefined));
  });

  test("a zone's pair appearing or going drops the verdicts of every node in the zone, also after a relabel", () => {
    const now = [...nodes];
    const cache = cacheWith(now);
    const pod = (name: string) => web(name, ZONE);
    const onNode = (name: string, node: string) => ({ ...pod(name), spec: { ...pod(name).spec, nodeName: node } });
    expect(cycle(cache, pod("p0"))).toEqual(v(undefined, undefined, undefined, undefined));
    cache.upsertPod(onNode("w1", "a1"));
    expect(cycle(cache, pod("p1"))).toEqual(v(ERR_ANTI_AFFINITY, ERR_ANTI_AFFINITY, undefined, undefined));
    // nozone joins zone b, then a pod lands in b: nozone's verdict, cached while it had no zone, must go.
    cache.upsertNode(nodeWith("nozone", { labels: { [ZONE]: "b" } }));
    expect(cycle(cache, pod("p2"))).toEqual(v(ERR_ANTI_AFFINITY, ERR_ANTI_AFFINITY, undefined, undefined));
    cache.upsertPod(onNode("w2", "b1"));
    expect(cycle(cache, pod("p3"))).toEqual(
      v(ERR_ANTI_AFFINITY, ERR_ANTI_AFFINITY, ERR_ANTI_AFFINITY, ERR_ANTI_AFFINITY),
    );
    // a2 leaves zone a for c; the last pod of zone a goes: a1 is free, a2 stays free in c.
    cache.upsertNode(nodeWith("a2", { labels: { [ZONE]: "c" } }));
    cache.removePod("default/w1");
    expect(cycle(cache, pod("p4"))).toEqual(v(undefined, undefined, ERR_ANTI_AFFINITY, ERR_ANTI_AFFINITY));
  });

  test("existing pods' anti-affinity: a new pair drops only its domain; affinity becoming non-empty drops all", () => {
    const cache = cacheWith(nodes);
    const noisy = (name: string) => podWith(name, { labels: { app: "noisy" } });
    const quiet = (name: string, node: string) =>
      podWith(name, { nodeName: node, affinity: podAffinity("podAntiAffinity", { app: "noisy" }, HOST) });
    cache.upsertPod(quiet("q1", "a1"));
    expect(cycle(cache, noisy("n0"))).toEqual(v(ERR_EXISTING_ANTI_AFFINITY, undefined, undefined, undefined));
    cache.upsertPod(quiet("q2", "b1"));
    expect(cycle(cache, noisy("n1"))).toEqual(
      v(ERR_EXISTING_ANTI_AFFINITY, undefined, ERR_EXISTING_ANTI_AFFINITY, undefined),
    );
    // A zone term of a pod on b1: nozone is out of the list of nodes with terms, its zone's verdicts change too.
    cache.upsertNode(nodeWith("nozone", { labels: { [ZONE]: "b" } }));
    expect(cycle(cache, noisy("n2"))).toEqual(
      v(ERR_EXISTING_ANTI_AFFINITY, undefined, ERR_EXISTING_ANTI_AFFINITY, undefined),
    );
    const zoned = podWith("q3", { nodeName: "b1", affinity: podAffinity("podAntiAffinity", { app: "noisy" }, ZONE) });
    cache.upsertPod(zoned);
    expect(cycle(cache, noisy("n3"))).toEqual(
      v(ERR_EXISTING_ANTI_AFFINITY, undefined, ERR_EXISTING_ANTI_AFFINITY, ERR_EXISTING_ANTI_AFFINITY),
    );
    cache.removePod("default/q3");
    cache.upsertNode(nodeWith("nozone"));
    // Affinity to itself: the first of its group goes anywhere with a zone; once one is placed, only its zone.
    const self = (name: string) =>
      podWith(name, { labels: { app: "web" }, affinity: podAffinity("podAffinity", { app: "web" }, ZONE) });
    expect(cycle(cache, self("s0"))).toEqual(v(undefined, undefined, undefined, ERR_AFFINITY));
    cache.upsertPod({ ...self("s1"), spec: { ...self("s1").spec, nodeName: "b1" } });
    expect(cycle(cache, self("s2"))).toEqual(v(ERR_AFFINITY, ERR_AFFINITY, undefined, ERR_AFFINITY));
    cache.removePod("default/s1");
    expect(cycle(cache, self("s3"))).toEqual(v(undefined, undefined, undefined, ERR_AFFINITY));
  });
});
