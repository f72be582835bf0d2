// A real Prometheus (Debian's package) scrapes a cluster the way one scrapes Kubernetes: the API
// server's /metrics (API server, store, scheduler, controllers, proxy, DNS and the process: one
// process here) and a kubelet's /metrics and /metrics/cadvisor through the API server's node
// proxy, with a bearer token and the cluster CA. PromQL through its HTTP API sees request counts
// go up, a real Podman pod's start recorded, its CPU and memory, and the scheduler's attempt.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { BUSYBOX_IMAGE } from "../helpers/engine.ts";
import { TEST_TOKEN } from "../helpers/api.ts";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/wait.ts";

let cluster: TestCluster;
let work: string;
let prometheus: Subprocess;
let promUrl: string;

async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

beforeAll(async () => {
  cluster = await startCluster({ runtime: "engine" });
  const served = await cluster.api.listen();
  work = mkdtempSync(join(tmpdir(), "kube-prometheus-"));
  writeFileSync(join(work, "token"), TEST_TOKEN);
  writeFileSync(join(work, "ca.crt"), served.ca);
  const target = served.url.replace("https://", "");
  const job = (name: string, path: string) => `
  - job_name: ${name}
    scheme: https
    metrics_path: ${path}
    authorization: { credentials_file: ${join(work, "token")} }
    tls_config: { ca_file: ${join(work, "ca.crt")} }
    static_configs: [{ targets: ["${target}"] }]`;
  const node = cluster.nodeName;
  writeFileSync(
    join(work, "prometheus.yml"),
    `global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:${job("apiserver", "/metrics")}${job("kubelet", `/api/v1/nodes/${node}/proxy/metrics`)}${job("cadvisor", `/api/v1/nodes/${node}/proxy/metrics/cadvisor`)}
`,
  );
  promUrl = `http://127.0.0.1:${await freePort()}`;
  prometheus = Bun.spawn(
    [
      "prometheus",
      `--config.file=${join(work, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(work, "data")}`,
      `--web.listen-address=${promUrl.slice("http://".length)}`,
    ],
    { stdout: "ignore", stderr: "ignore" },
  );
  await waitFor("Prometheus ready", async () => (await fetch(`${promUrl}/-/ready`)).ok, 30_000, 100);
}, 90_000);

afterAll(async () => {
  prometheus?.kill();
  await prometheus?.exited;
  await cluster?.close();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

/** An instant PromQL query's samples: labels and value. */
async function query(promql: string): Promise<{ metric: Record<string, string>; value: number }[]> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as {
    status: string;
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  if (body.status !== "success") throw new Error(`query ${promql}: ${JSON.stringify(body)}`);
  return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
}
const scalar = async (promql: string) => (await query(promql))[0]?.value;

test("every target is up: the API server and the kubelet through the node proxy", async () => {
  const up = await waitFor(
    "three targets up",
    async () => {
      const r = await query("up");
      return r.length === 3 && r.every((s) => s.value === 1) && r;
    },
    30_000,
    200,
  );
  expect(up.map((s) => s.metric.job).sort()).toEqual(["apiserver", "cadvisor", "kubelet"]);
}, 40_000);

test("a pod's start, CPU and memory are recorded; requests are counted as they are made", async () => {
  const pods = cluster.client.resource("pods", "default");
  await pods.create({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "measured" },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: "app", image: BUSYBOX_IMAGE, imagePullPolicy: "IfNotPresent", command: ["sleep", "3600"] }],
    },
  });
  await waitFor(
    "the pod running",
    async () => ((await pods.get("measured")) as { status?: { phase?: string } }).status?.phase === "Running",
    60_000,
    100,
  );

  const started = await waitFor(
    "kubelet_pod_start_duration_seconds_count > 0",
    () => scalar(`kubelet_pod_start_duration_seconds_count{job="kubelet"}`),
    30_000,
    250,
  );
  expect(started).toBeGreaterThan(0);
  // The gauge is read from the runtime's container list at each scrape: wait for a scrape that counts the pod.
  const runningPods = await waitFor(
    "kubelet_running_pods >= 1",
    async () => {
      const n = await scalar(`kubelet_running_pods{job="kubelet"}`);
      return n >= 1 && n;
    },
    30_000,
    250,
  );
  expect(runningPods).toBeGreaterThanOrEqual(1);
  // Its target is scraped on its own schedule: wait for a scrape after the pod was scheduled.
  const scheduled = await waitFor(
    "scheduler_schedule_attempts_total >= 1",
    async () => {
      const n = await scalar(`scheduler_schedule_attempts_total{result="scheduled",profile="default-scheduler"}`);
      return n >= 1 && n;
    },
    30_000,
    250,
  );
  expect(scheduled).toBeGreaterThanOrEqual(1);

  const memory = await waitFor(
    "the pod's working set",
    () =>
      scalar(`container_memory_working_set_bytes{job="cadvisor",namespace="default",pod="measured",container="app"}`),
    30_000,
    250,
  );
  expect(memory).toBeGreaterThan(0);
  expect(
    await query(`container_cpu_usage_seconds_total{namespace="default",pod="measured",container="app"}`),
  ).toHaveLength(1);

  // Requests made now show up in the next scrapes.
  const gets = `sum(apiserver_request_total{job="apiserver",verb="GET",resource="pods",code="200"})`;
  const before = (await scalar(gets)) ?? 0;
  for (let i = 0; i < 25; i++) await pods.get("measured");
  const after = await waitFor(
    "the GETs counted",
    async () => ((await scalar(gets)) ?? 0) >= before + 25 && (await scalar(gets)),
    30_000,
    250,
  );
  expect(after).toBeGreaterThanOrEqual(before + 25);
  expect(await scalar(`sum(rate(apiserver_request_total{job="apiserver"}[10s]))`)).toBeGreaterThan(0);

  // The other components in the API server's process.
  expect(await query(`workqueue_adds_total{name="deployment"}`)).toHaveLength(1);
  expect(await scalar(`kubeproxy_sync_proxy_rules_duration_seconds_count`)).toBeGreaterThan(0);
  expect(await scalar(`process_resident_memory_bytes{job="apiserver"}`)).toBeGreaterThan(0);
  expect(await scalar(`sum(etcd_request_duration_seconds_count{operation="get",type="pods"})`)).toBeGreaterThan(0);
  await pods.delete("measured");
}, 150_000);
