// `kube up --store etcd://...` on a real etcd (Debian's etcd-server, started by this file):
// kubectl and the client create, get, list and watch pods and a Deployment reconciles; then two
// `kube up --server-only` share one etcd, one schedules, and when its process is killed the
// other takes the Lease over and schedules a new pod exactly once.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startKube, type RunningKube } from "../../bench/lib/kube-up.ts";
import { createClient, httpTransport } from "../../src/client/index.ts";
import { startEtcd, type TestEtcd } from "../helpers/etcd.ts";
import { kubectlRunner } from "../helpers/kubectl.ts";
import { waitFor } from "../helpers/wait.ts";

let etcd: TestEtcd;
const work = mkdtempSync(join(tmpdir(), "kube-etcd-e2e-"));
const started: RunningKube[] = [];
beforeAll(async () => {
  etcd = await startEtcd();
});
afterAll(async () => {
  for (const k of started) await k.stop().catch(() => {});
  await etcd?.stop();
  rmSync(work, { recursive: true, force: true });
});

const clientOf = (k: RunningKube) => createClient(httpTransport(k.url, k.token, { ca: k.ca }));
const up = async (name: string, args: string[]) => {
  const k = await startKube(["--store", `etcd://${etcd.endpoint.replace("http://", "")}`, ...args], {
    stdoutFile: join(work, `${name}.log`),
  });
  started.push(k);
  return k;
};
const logOf = (name: string) => readFileSync(join(work, `${name}.log`), "utf8");

const pod = (name: string, extra: object = {}) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, labels: { app: name } },
  spec: { containers: [{ name: "c", image: "localhost/busybox:latest", command: ["sleep", "3600"] }], ...extra },
});

test("kube up on etcd serves kubectl and the client, and a Deployment reconciles", async () => {
  const kube = await up("single", [
    "--runtime",
    "sim",
    "--node-name",
    `etcd-${process.pid}`,
    "--disable",
    "dns,proxy,ingress",
    "--etcd-prefix",
    "/single",
  ]);
  const client = clientOf(kube);
  const pods = client.resource("pods", "default");
  const listed = await pods.list();
  const watch = pods.watch({ resourceVersion: listed.metadata.resourceVersion });
  const kubectl = kubectlRunner(join(kube.dataDir, "kubeconfig"), work);
  const created = await kubectl(
    "1.30",
    ["create", "-f", "-", "-o", "jsonpath={.metadata.resourceVersion}"],
    JSON.stringify(pod("one")),
  );
  expect(created.code).toBe(0);
  // The watch from the list's resourceVersion sees the creation, at the revision etcd gave it.
  const it = watch[Symbol.asyncIterator]();
  const first = (await it.next()).value!;
  watch.close();
  expect(first.type).toBe("ADDED");
  expect(first.object.metadata?.resourceVersion).toBe(created.out);
  const got = await pods.get("one");
  expect(Number(got.metadata?.resourceVersion)).toBeGreaterThan(Number(listed.metadata.resourceVersion));
  const viaKubectl = await kubectl("1.30", ["get", "pods", "-o", "jsonpath={.items[*].metadata.name}"]);
  expect(viaKubectl).toMatchObject({ code: 0, out: "one" });
  await waitFor(
    "pod one running",
    async () => ((await pods.get("one")) as { status?: { phase?: string } }).status?.phase === "Running",
    30_000,
  );
  // A stale resourceVersion on update is a 409 from etcd's mod_revision guard.
  // (Running was written after the creation, so the created resourceVersion is stale.)
  const stale = await kubectl(
    "1.30",
    ["replace", "-f", "-"],
    JSON.stringify({ ...got, metadata: { ...got.metadata, resourceVersion: created.out } }),
  );
  expect(stale.code).toBe(1);
  expect(stale.err).toContain("the object has been modified; please apply your changes to the latest version");

  await client.resource("deployments.apps", "default").create({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web" },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: pod("web").spec },
    },
  });
  const ready = await waitFor(
    "deployment web ready",
    async () => {
      const d = await client.resource("deployments.apps", "default").get("web");
      return (d as { status?: { readyReplicas?: number } }).status?.readyReplicas === 2 && d;
    },
    30_000,
  );
  expect(ready.metadata?.name).toBe("web");
  expect((await pods.list({ labelSelector: "app=web" })).items).toHaveLength(2);
  // Objects live in etcd under the prefix, with kube-apiserver's layout.
  const res = await fetch(`${etcd.endpoint}/v3/kv/range`, {
    method: "POST",
    body: JSON.stringify({ key: Buffer.from("/single/registry/pods/default/one").toString("base64") }),
  });
  const kv = ((await res.json()) as { kvs: { mod_revision: string }[] }).kvs[0]!;
  expect(kv.mod_revision).toBe((await pods.get("one")).metadata?.resourceVersion ?? "");
});

const MAIN = join(import.meta.dir, "../../src/main.ts");
async function kube(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const p = Bun.spawn([process.execPath, MAIN, ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out: out.trim(), err: err.trim() };
}

test("kube snapshot refuses an etcd cluster's data dir, naming etcdctl; kube down stops its kube up", async () => {
  const single = started[0]!;
  const members = etcd.endpoint;
  const file = join(work, "snap.db");
  const saved = await kube(["snapshot", "save", file, "--data-dir", single.dataDir]);
  const prefix = `error: the cluster of ${single.dataDir} keeps its objects in etcd (${members}): kube snapshot copies only the SQLite store; use etcd's own snapshots: `;
  expect(saved).toEqual({ code: 1, out: "", err: `${prefix}etcdctl --endpoints ${members} snapshot save FILE` });
  const restored = await kube(["snapshot", "restore", file, "--data-dir", single.dataDir]);
  expect(restored).toEqual({
    code: 1,
    out: "",
    err: `${prefix}etcdctl snapshot restore FILE --data-dir MEMBER_DIR, for each member of the stopped etcd`,
  });
  // kube down finds the process through the data dir's lock, and the node names in etcd.
  const down = await kube(["down", "--data-dir", single.dataDir]);
  expect(down).toMatchObject({ code: 0, out: `stopped kube up (pid ${single.pid})\nremoved 0 containers` });
  expect(await single.exited).toBe(0);
});

test("two kube up --server-only on one etcd: one leads; when its process dies the other takes over", async () => {
  const args = ["--server-only", "--etcd-prefix", "/pair"];
  const a = await up("a", args);
  const client = clientOf(a);
  const leases = client.resource("leases.coordination.k8s.io", "kube-system");
  const holder = async () => ((await leases.get("kube-scheduler")) as { spec: { holderIdentity?: string } }).spec;
  const first = await waitFor("a lease holder", async () => (await holder()).holderIdentity, 20_000);
  expect(logOf("a")).toContain(`successfully acquired lease kube-system/kube-scheduler as ${first}`);
  const b = await up("b", args);
  const bClient = clientOf(b);
  await waitFor("b trying", () => logOf("b").includes("attempting to acquire leader lease kube-system/kube-scheduler"));
  expect(logOf("b")).not.toContain("successfully acquired lease");
  // A node for the scheduler to choose (no kubelet on a dedicated server).
  const node = `etcd-pair-${process.pid}`;
  await bClient.resource("nodes").create({
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: node },
    status: { conditions: [{ type: "Ready", status: "True" }], allocatable: { cpu: "4", memory: "8Gi", pods: "110" } },
  });

  process.kill(a.pid, "SIGKILL");
  await a.exited;
  const takeover = await waitFor(
    "b to take the lease over",
    async () => {
      const spec = await (bClient
        .resource("leases.coordination.k8s.io", "kube-system")
        .get("kube-scheduler") as Promise<{
        spec: { holderIdentity?: string; leaseTransitions?: number; leaseDurationSeconds?: number };
      }>);
      return spec.spec.holderIdentity && spec.spec.holderIdentity !== first && spec.spec;
    },
    40_000,
    200,
  );
  expect(takeover).toMatchObject({ leaseDurationSeconds: 15, leaseTransitions: 1 });
  expect(logOf("b")).toContain(`successfully acquired lease kube-system/kube-scheduler as ${takeover.holderIdentity}`);

  const pods = bClient.resource("pods", "default");
  await pods.create(pod("after", { tolerations: [{ operator: "Exists" }] }));
  const bound = await waitFor(
    "pod after scheduled",
    async () => ((await pods.get("after")) as { spec?: { nodeName?: string } }).spec?.nodeName,
    30_000,
  );
  expect(bound).toBe(node);
  const scheduled = await waitFor("the Scheduled event", async () => {
    const events = (await bClient.resource("events", "default").list()).items as {
      reason?: string;
      count?: number;
      involvedObject?: { name?: string };
    }[];
    const mine = events.filter((e) => e.involvedObject?.name === "after" && e.reason === "Scheduled");
    return mine.length > 0 && mine;
  });
  expect(scheduled.map((e) => e.count ?? 1)).toEqual([1]);
});
