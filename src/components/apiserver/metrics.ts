// metrics.k8s.io/v1beta1, served by the API server itself (what metrics-server does in
// Kubernetes): NodeMetrics and PodMetrics from the kubelets' stats summaries. CPU is a rate, so
// two samples are needed: the first request samples twice a second apart, later ones reuse the
// previous sample when it is recent. `kubectl top` and the HPA controller read these.
import { matchesLabels, parseLabelSelector, SelectorError } from "../../api/selectors.ts";
import type { Pod } from "../../api/kinds/pod.ts";
import type { Summary } from "../../api/stats.ts";
import type { KindDef, KubeObject } from "../../api/types.ts";
import { HttpError } from "./errors.ts";
import { kubeletOfNode, type Endpoint } from "./kubelet-proxy.ts";
import type { Objects } from "./objects.ts";

export const METRICS_GROUP = "metrics.k8s.io";
const GV = `${METRICS_GROUP}/v1beta1`;

interface Sample {
  at: number;
  summary: Summary;
}

export const metricsResourceList = {
  kind: "APIResourceList",
  apiVersion: "v1",
  groupVersion: GV,
  resources: [
    { name: "nodes", singularName: "", namespaced: false, kind: "NodeMetrics", verbs: ["get", "list"] },
    { name: "pods", singularName: "", namespaced: true, kind: "PodMetrics", verbs: ["get", "list"] },
  ],
};
export const metricsGroup = {
  name: METRICS_GROUP,
  versions: [{ groupVersion: GV, version: "v1beta1" }],
  preferredVersion: { groupVersion: GV, version: "v1beta1" },
};

const cpu = (nanoCoresPerSecond: number) => `${Math.max(0, Math.round(nanoCoresPerSecond))}n`;
const memory = (bytes: number) => `${Math.round(bytes / 1024)}Ki`;

export function createMetrics(objects: Objects, kinds: { nodes: KindDef; pods: KindDef }, key: Uint8Array) {
  // Per kubelet (one serves all the nodes of its process): the latest sample and the one before it.
  const samples = new Map<string, [Sample | undefined, Sample]>();

  const refresh = (endpoints: Endpoint[]) =>
    Promise.all(
      endpoints.map(async (ep) => {
        const res = await fetch(`${ep.base}/stats/summary`, { headers: { authorization: `Bearer ${ep.token}` } }).catch(
          () => undefined,
        );
        if (res?.ok)
          samples.set(ep.base, [samples.get(ep.base)?.[1], { at: Date.now(), summary: (await res.json()) as Summary }]);
      }),
    );

  /** Two samples per node's kubelet, the newer one at most 5 s old and at least 1 s after the older. */
  async function pairs(nodes: KubeObject[]): Promise<Map<string, [Sample, Sample]>> {
    const kubelets = new Map<string, Endpoint>();
    const kubeletOf = new Map<string, string>();
    await Promise.all(
      nodes.map(async (n) => {
        try {
          const ep = await kubeletOfNode(n, key);
          kubelets.set(ep.base, ep);
          kubeletOf.set(n.metadata!.name!, ep.base);
        } catch {
          // a node without a reachable kubelet has no metrics
        }
      }),
    );
    const stale = [...kubelets.values()].filter((ep) => {
      const s = samples.get(ep.base);
      return !s?.[0] || Date.now() - s[1].at > 5_000;
    });
    await refresh(stale);
    const young = stale.filter((ep) => {
      const s = samples.get(ep.base);
      return s && (!s[0] || s[1].at - s[0].at < 1000);
    });
    if (young.length) {
      await Bun.sleep(1000); // a rate needs an interval: the first request waits for it
      await refresh(young);
    }
    const out = new Map<string, [Sample, Sample]>();
    for (const [node, base] of kubeletOf) {
      const s = samples.get(base);
      if (s?.[0]) out.set(node, [s[0], s[1]]);
    }
    return out;
  }

  function nodeMetrics(node: KubeObject, [a, b]: [Sample, Sample]): unknown {
    const name = node.metadata!.name!;
    const na = a.summary.nodes?.find((n) => n.nodeName === name);
    const nb = b.summary.nodes?.find((n) => n.nodeName === name);
    if (!na || !nb) return undefined;
    return {
      kind: "NodeMetrics",
      apiVersion: GV,
      metadata: { name, labels: node.metadata?.labels, creationTimestamp: new Date(b.at).toISOString() },
      timestamp: new Date(b.at).toISOString(),
      window: `${Math.round((b.at - a.at) / 1000)}s`,
      usage: {
        cpu: cpu(((nb.cpu.usageCoreNanoSeconds - na.cpu.usageCoreNanoSeconds) * 1000) / (b.at - a.at)),
        memory: memory(nb.memory.workingSetBytes),
      },
    };
  }

  function podMetrics(pairsByNode: Map<string, [Sample, Sample]>, pod: Pod): unknown {
    const nodeName = pod.spec?.nodeName;
    const pair = nodeName ? pairsByNode.get(nodeName) : undefined;
    if (!pair) return undefined;
    const [a, b] = pair;
    const pa = a.summary.pods.find((p) => p.podRef.uid === pod.metadata?.uid);
    const pb = b.summary.pods.find((p) => p.podRef.uid === pod.metadata?.uid);
    // A container seen once has no rate yet: the pod is left out rather than reported idle.
    if (!pa || !pb || pb.containers.some((c) => !pa.containers.some((x) => x.name === c.name))) return undefined;
    return {
      kind: "PodMetrics",
      apiVersion: GV,
      metadata: {
        name: pod.metadata!.name,
        namespace: pod.metadata!.namespace,
        labels: pod.metadata?.labels,
        creationTimestamp: new Date(b.at).toISOString(),
      },
      timestamp: new Date(b.at).toISOString(),
      window: `${Math.round((b.at - a.at) / 1000)}s`,
      containers: pb.containers.map((c) => {
        const before = pa.containers.find((x) => x.name === c.name)!;
        const rate = ((c.cpu.usageCoreNanoSeconds - before.cpu.usageCoreNanoSeconds) * 1000) / (b.at - a.at);
        return { name: c.name, usage: { cpu: cpu(rate), memory: memory(c.memory.workingSetBytes) } };
      }),
    };
  }

  /** GET /apis/metrics.k8s.io/v1beta1/{nodes[/name] | pods | namespaces/ns/pods[/name]}. */
  return async function handle(req: Request, rest: string[]): Promise<Response> {
    if (req.method !== "GET")
      throw new HttpError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
    const q = new URL(req.url).searchParams;
    let reqs: ReturnType<typeof parseLabelSelector>;
    try {
      reqs = parseLabelSelector(q.get("labelSelector") ?? "");
    } catch (e) {
      if (e instanceof SelectorError) throw new HttpError(400, "BadRequest", e.message);
      throw e;
    }
    const matches = (o: KubeObject) => matchesLabels(reqs, o.metadata?.labels);
    const allNodes = (await objects.list(kinds.nodes, undefined, {})).items;
    const byNode = await pairs(allNodes);
    if (rest[0] === "nodes") {
      const nodes = allNodes.filter((n) => (!rest[1] || n.metadata?.name === rest[1]) && matches(n));
      const items = nodes
        .map((n) => byNode.get(n.metadata!.name!) && nodeMetrics(n, byNode.get(n.metadata!.name!)!))
        .filter(Boolean);
      if (rest[1]) return items[0] ? Response.json(items[0]) : notFound("nodes", rest[1]);
      return Response.json({ kind: "NodeMetricsList", apiVersion: GV, metadata: {}, items });
    }
    const ns = rest[0] === "namespaces" ? rest[1] : undefined;
    const tail = rest[0] === "namespaces" ? rest.slice(2) : rest;
    if (tail[0] !== "pods") throw new HttpError(404, "NotFound", "the server could not find the requested resource");
    const pods = ((await objects.list(kinds.pods, ns, {})).items as Pod[]).filter(
      (p) => (!tail[1] || p.metadata?.name === tail[1]) && matches(p),
    );
    const items = pods.map((p) => podMetrics(byNode, p)).filter(Boolean);
    if (tail[1]) return items[0] ? Response.json(items[0]) : notFound("pods", tail[1]);
    return Response.json({ kind: "PodMetricsList", apiVersion: GV, metadata: {}, items });
  };
}

const notFound = (resource: string, name: string) =>
  Response.json(
    {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: `${resource}.${METRICS_GROUP} "${name}" not found`,
      reason: "NotFound",
      code: 404,
    },
    { status: 404 },
  );
