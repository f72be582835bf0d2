// `kube up` on a three-member etcd cluster (Debian's etcd-server, started by this file on
// loopback): losing one member is invisible to users (writes, reads and an open watch go on);
// losing the quorum makes API calls fail with a 503 that says so; when the members come back the
// cluster recovers by itself (writes succeed, the watch resumes, the scheduler leads again).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningKube, startKube } from "../../bench/lib/kube-up.ts";
import { createClient, httpTransport } from "../../src/client/index.ts";
import { ApiError } from "../../src/client/types.ts";
import { startEtcdCluster, type TestEtcdCluster } from "../helpers/etcd.ts";
import { kubectlRunner } from "../helpers/kubectl.ts";
import { waitFor } from "../helpers/wait.ts";

let etcd: TestEtcdCluster;
let kube: RunningKube;
const work = mkdtempSync(join(tmpdir(), "kube-etcd3-"));
beforeAll(async () => {
  etcd = await startEtcdCluster(3);
  kube = await startKube(
    [
      "--store",
      `etcd://${etcd.storeUrl}`,
      "--runtime",
      "sim",
      "--node-name",
      `etcd3-${process.pid}`,
      "--disable",
      "dns,proxy,ingress",
    ],
    { stdoutFile: join(work, "kube.log") },
  );
});
afterAll(async () => {
  await kube?.stop().catch(() => {});
  await etcd?.stop();
  rmSync(work, { recursive: true, force: true });
});

const configMap = (name: string) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data: { k: name } });

test("one etcd member lost is invisible; a lost quorum is a 503; recovery needs no manual step", async () => {
  const client = createClient(httpTransport(kube.url, kube.token, { ca: kube.ca }));
  const cms = client.resource("configmaps", "default");
  const kubectl = kubectlRunner(join(kube.dataDir, "kubeconfig"), work);
  // The controllers start once this server holds the leader Lease; the namespace's CA map is
  // their first write here, and the final listing compares against a settled namespace.
  await waitFor("the root CA publisher's map in default", () => cms.get("kube-root-ca.crt").catch(() => undefined));
  await cms.create(configMap("before"));
  const listed = await cms.list();
  const watch = cms.watch({ resourceVersion: listed.metadata.resourceVersion });
  const seen = new Set<string>();
  void (async () => {
    for await (const ev of watch) if (ev.type === "ADDED") seen.add(ev.object.metadata?.name ?? "");
  })().catch(() => {});

  // The first member is the one kube talks to first: losing it must not show.
  const [m0, m1, m2] = etcd.members as [(typeof etcd.members)[0], (typeof etcd.members)[0], (typeof etcd.members)[0]];
  await m0.kill();
  const created = await kubectl("1.30", ["create", "configmap", "during-loss", "--from-literal=k=v"]);
  expect(created).toMatchObject({ code: 0, out: "configmap/during-loss created\n" });
  const got = await kubectl("1.30", ["get", "configmap", "before", "-o", "jsonpath={.data.k}"]);
  expect(got).toMatchObject({ code: 0, out: "before" });
  await waitFor("the open watch to see a write made after the member was lost", () => seen.has("during-loss"));
  await m0.start();

  // Two of three gone: no quorum. Writes fail with a 503 that names the cause, nothing is half-written.
  await m1.kill();
  await m2.kill();
  const failed = await cms.create(configMap("no-quorum")).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(failed).toBeInstanceOf(ApiError);
  expect((failed as ApiError).code).toBe(503);
  expect((failed as ApiError).status).toMatchObject({ reason: "ServiceUnavailable", code: 503 });
  expect((failed as ApiError).message).toContain("the storage backend is unavailable: etcd");
  const refused = await kubectl("1.30", ["create", "configmap", "no-quorum-kubectl", "--from-literal=k=v"]);
  expect(refused.code).not.toBe(0);
  expect(refused.err).toMatch(/the storage backend is unavailable: etcd.*: etcdserver: request timed out/);

  // The members come back: the same API server serves writes again, and the watch resumes.
  await Promise.all([m1.start(), m2.start()]);
  await waitFor(
    "a write to succeed after the quorum is back",
    () =>
      cms.create(configMap("after")).then(
        () => true,
        () => false,
      ),
    30_000,
    500,
  );
  await waitFor("the open watch to see the write made after recovery", () => seen.has("after"), 30_000);
  expect((await cms.list()).items.map((c) => c.metadata?.name).sort()).toEqual([
    "after",
    "before",
    "during-loss",
    "kube-root-ca.crt",
  ]);
  watch.close();

  // The scheduler leads again (its lease could not be renewed without a quorum) and binds a new pod.
  const pods = client.resource("pods", "default");
  await pods.create({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "after-recovery" },
    spec: { containers: [{ name: "c", image: "localhost/busybox:latest", command: ["sleep", "3600"] }] },
  });
  const phase = await waitFor(
    "the pod created after recovery to run",
    async () => ((await pods.get("after-recovery")) as { status?: { phase?: string } }).status?.phase === "Running",
    60_000,
  );
  expect(phase).toBe(true);
}, 150_000); // each write without a quorum waits for etcd's own 7 s timeout; the leases take up to 15 s
