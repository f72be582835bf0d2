// Custom resources against ConfigMaps of the same size through the whole API server (TLS, auth,
// routing, store, JSON): create and GET throughput of a Monitor (a ServiceMonitor-sized schema:
// pruning, defaulting and validation on every write, defaults on every read) and of a ConfigMap
// carrying the same number of bytes, with the same load generator and concurrency, same run.
import { startKube, load, type RunningKube } from "./lib/kube-up.ts";
import { round } from "./lib/stats.ts";
import { monitorCrd } from "../test/fixtures/crds.ts";

const CONCURRENCY = 16;
const DURATION_MS = 6000;
const ROUNDS = 6;

/** A realistic ServiceMonitor: two endpoints with TLS, relabelings and a selector. */
function monitor(name: string): Record<string, unknown> {
  const endpoint = (port: string) => ({
    port,
    targetPort: 8443,
    path: "/metrics",
    scheme: "https",
    interval: "30s",
    scrapeTimeout: "10s",
    honorLabels: true,
    tlsConfig: {
      ca: { secret: { name: "ca", key: "ca.crt" } },
      serverName: `${port}.monitoring.svc`,
      insecureSkipVerify: false,
    },
    bearerTokenSecret: { name: "token", key: "token" },
    relabelings: [
      { sourceLabels: ["__meta_kubernetes_pod_node_name"], targetLabel: "node" },
      { sourceLabels: ["__meta_kubernetes_namespace"], targetLabel: "namespace", action: "replace" },
    ],
    metricRelabelings: [{ sourceLabels: ["__name__"], regex: "go_.*", action: "drop" }],
  });
  return {
    apiVersion: "example.com/v1",
    kind: "Monitor",
    metadata: { name, labels: { app: "bench", release: "prometheus" } },
    spec: {
      jobLabel: "app.kubernetes.io/name",
      selector: {
        matchLabels: { app: "bench" },
        matchExpressions: [{ key: "tier", operator: "In", values: ["api", "web"] }],
      },
      namespaceSelector: { matchNames: ["default", "monitoring"] },
      endpoints: [endpoint("metrics"), endpoint("admin")],
      sampleLimit: 10000,
    },
  };
}

export default async function main(): Promise<void> {
  const kube = await startKube([
    "--runtime",
    "sim",
    "--sim-nodes",
    "0",
    "--disable",
    "scheduler,controllers,kubelet,proxy",
  ]);
  try {
    await measure(kube);
  } finally {
    await kube.stop();
  }
}

async function measure(kube: RunningKube): Promise<void> {
  const tls = { ca: kube.ca } as const;
  const headers = { authorization: `Bearer ${kube.token}`, "content-type": "application/json" };
  const req = (method: string, path: string, body?: unknown) =>
    fetch(`${kube.url}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined, tls } as RequestInit);
  const created = await req("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", monitorCrd());
  if (created.status !== 201) throw new Error(`CRD: ${created.status} ${await created.text()}`);
  const MONITORS = "/apis/example.com/v1/namespaces/default/monitors";
  const CMS = "/api/v1/namespaces/default/configmaps";

  // The ConfigMap carries the monitor's stored bytes as data, so both stored objects are the same size.
  const firstRes = await req("POST", MONITORS, monitor("target"));
  if (firstRes.status !== 201) throw new Error(`monitor: ${firstRes.status} ${await firstRes.text()}`);
  const first = await firstRes.json();
  const size = JSON.stringify(first.spec).length;
  const configMap = (name: string) => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, labels: { app: "bench", release: "prometheus" } },
    data: { spec: "x".repeat(size) },
  });
  await req("POST", CMS, configMap("target"));
  console.log(`object size: ${size} bytes of spec/data`);

  const ok = async (r: Promise<Response>) => {
    const res = await r;
    if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
    return res;
  };
  await load(500, CONCURRENCY, () => ok(req("GET", `${MONITORS}/target`))); // warm-up
  await load(500, CONCURRENCY, () => ok(req("GET", `${CMS}/target`)));
  // Alternating rounds, so a load spike on the (shared) machine hits both sides alike.
  let i = 0;
  let j = 0;
  let [crCreate, cmCreate, crGet, cmGet] = [0, 0, 0, 0];
  for (let round = 0; round < ROUNDS; round++) {
    crCreate +=
      (await load(DURATION_MS / ROUNDS, CONCURRENCY, () => ok(req("POST", MONITORS, monitor(`m-${i++}`))))) / ROUNDS;
    cmCreate +=
      (await load(DURATION_MS / ROUNDS, CONCURRENCY, () => ok(req("POST", CMS, configMap(`c-${j++}`))))) / ROUNDS;
  }
  for (let round = 0; round < ROUNDS; round++) {
    crGet += (await load(DURATION_MS / ROUNDS, CONCURRENCY, () => ok(req("GET", `${MONITORS}/target`)))) / ROUNDS;
    cmGet += (await load(DURATION_MS / ROUNDS, CONCURRENCY, () => ok(req("GET", `${CMS}/target`)))) / ROUNDS;
  }
  console.log(`create: ${round(crCreate)} monitors/s, ${round(cmCreate)} configmaps/s`);
  console.log(`GET: ${round(crGet)} monitors/s, ${round(cmGet)} configmaps/s`);
  console.log(
    `crd: create_rps=${round(crCreate)} cm_create_rps=${round(cmCreate)} ratio=${round(crCreate / cmCreate, 2)} get_ratio=${round(crGet / cmGet, 2)}`,
  );
}
