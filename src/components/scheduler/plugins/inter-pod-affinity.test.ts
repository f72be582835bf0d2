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
  (interPodAffinity.normalize as (s: typeof state, r: Float64Array, n: typeof all) => void)(state, raw, all);
  // 100 * 5 / 15 = 33.3, truncated as upstream's NormalizeScore.
  expect([...raw]).toEqual([100, 100, 0, 33]);
});
