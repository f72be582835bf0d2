// The official Python client (Debian's python3-kubernetes, installed by scripts/podman-setup.sh)
// and the official JS client (@kubernetes/client-node, under Node) against a whole cluster on
// the sim runtime: every kind it has a typed API for deserializes in
// every state (the client's models raise on a missing required field), its watch=True watch
// streams, and a typed create without apiVersion/kind works.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeKubeconfig } from "../../src/client/kubeconfig.ts";
import { TEST_TOKEN } from "../helpers/api.ts";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";
import { createEveryKind, releaseHeld } from "./every-kind.ts";

const NS = "py";
let cluster: TestCluster;
let dir: string;
beforeAll(async () => {
  cluster = await startCluster({ runtime: "sim" });
  const served = await cluster.api.listen();
  dir = mkdtempSync(join(tmpdir(), "kube-python-"));
  writeKubeconfig(join(dir, "kubeconfig"), { server: served.url, token: TEST_TOKEN, ca: served.ca, name: "kube" });
  await createEveryKind(cluster.api, NS);
}, 120_000);
afterAll(async () => {
  await releaseHeld(cluster.api, NS);
  await cluster.close();
  rmSync(dir, { recursive: true, force: true });
});

test("the official JS client reads every kind into its models and creates a typed object without apiVersion/kind", async () => {
  const proc = Bun.spawn(["node", join(import.meta.dir, "client-node-kinds.mjs"), join(dir, "kubeconfig"), NS], {
    cwd: join(import.meta.dir, "../.."),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  expect(err).toBe("");
  expect(code).toBe(0);
  const r = JSON.parse(out);
  expect(r.errors).toEqual({});
  expect(r.kinds.Pod).toEqual(
    expect.arrayContaining([
      ["running", true],
      ["done", true],
      ["held", true],
    ]),
  );
  for (const kind of Object.keys(r.kinds)) expect(r.kinds[kind].length).toBeGreaterThan(0);
  expect(r.typedCreate).toEqual(["apps/v1", "Deployment"]);
  const stored = (await cluster.api.json("GET", `/apis/apps/v1/namespaces/${NS}/deployments/js-typed`)).body;
  expect([stored.apiVersion, stored.kind]).toEqual(["apps/v1", "Deployment"]);
}, 120_000);

test("every kind deserializes into the Python client's models; watch=True streams; typed create", async () => {
  const proc = Bun.spawn(
    ["/usr/bin/python3", join(import.meta.dir, "python-client-script.py"), join(dir, "kubeconfig"), NS],
    { stdout: "pipe", stderr: "pipe" },
  );
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  expect(err).toBe("");
  expect(code).toBe(0);
  const r = JSON.parse(out);
  expect(r.errors).toEqual({});
  expect(r.kinds.Pod).toEqual(expect.arrayContaining([`${NS}/running`, `${NS}/done`, `${NS}/held`]));
  for (const kind of [
    "DaemonSet",
    "ReplicationController",
    "StatefulSet",
    "Job",
    "CronJob",
    "Deployment",
    "ReplicaSet",
    "HorizontalPodAutoscaler",
    "Node",
    "Event",
    "Endpoints",
  ])
    expect(r.kinds[kind].length).toBeGreaterThan(0);
  expect(r.watch).toEqual(expect.arrayContaining(["ADDED cm", "ADDED py-watched"]));
  expect(r.typedCreate[0]).toBe("apps/v1");
  expect(r.typedCreate[1]).toBe("Deployment");
}, 120_000);
