// Garbage collection by owner references, namespace deletion, and nodes that stop reporting.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { isNotFound } from "../../client/index.ts";
import { waitFor } from "../../../test/helpers/wait.ts";
import { pod } from "../../../test/helpers/api.ts";
import { startCluster, type TestCluster } from "../../../test/helpers/cluster.ts";
import { readyNode, template } from "../../../test/helpers/controllers.ts";

let env: TestCluster;
beforeAll(async () => {
  env = await startCluster({
    runtime: "none",
    settings: { nodeMonitorGracePeriodSeconds: 1, nodeStartupGracePeriodSeconds: 1, podEvictionTimeoutSeconds: 1 },
  });
});
afterAll(() => env.close());

const gone = (p: Promise<unknown>) =>
  p.then(
    () => false,
    (e) => isNotFound(e),
  );

async function ownedPod(owner: any, name: string): Promise<any> {
  const p = pod(name, { labels: { app: owner.metadata.name } });
  p.metadata.ownerReferences = [
    {
      apiVersion: owner.apiVersion,
      kind: owner.kind,
      name: owner.metadata.name,
      uid: owner.metadata.uid,
      controller: true,
    },
  ];
  return env.client.resource("pods", "default").create(p);
}

// A suspended Job owns pods without any controller touching them: only the GC acts here.
const rs = (name: string) => ({
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: { name },
  spec: { suspend: true, template: template({ app: name }, "Never") },
});

test("deleting an owner deletes its dependents", async () => {
  const owner = await env.client.resource("jobs", "default").create(rs("gc1"));
  await ownedPod(owner, "gc1-a");
  await env.client.resource("jobs", "default").delete("gc1", { propagationPolicy: "Background" });
  await waitFor("dependent deleted", () => gone(env.client.resource("pods", "default").get("gc1-a")));
});

test("orphan deletion keeps dependents and removes their owner reference", async () => {
  const owner = await env.client.resource("jobs", "default").create(rs("gc2"));
  await ownedPod(owner, "gc2-a");
  await env.client.resource("jobs", "default").delete("gc2", { propagationPolicy: "Orphan" });
  await waitFor("owner gone", () => gone(env.client.resource("jobs", "default").get("gc2")));
  const p: any = await env.client.resource("pods", "default").get("gc2-a");
  expect(p.metadata.ownerReferences).toBeUndefined();
});

test("foreground deletion removes dependents before the owner", async () => {
  const owner = await env.client.resource("jobs", "default").create(rs("gc3"));
  await ownedPod(owner, "gc3-a");
  await env.client.resource("jobs", "default").delete("gc3", { propagationPolicy: "Foreground" });
  await waitFor("owner gone", () => gone(env.client.resource("jobs", "default").get("gc3")));
  expect(await gone(env.client.resource("pods", "default").get("gc3-a"))).toBe(true);
});

test("deleting a namespace deletes what is in it, then the namespace", async () => {
  await env.client.resource("namespaces").create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "doomed" } });
  await env.client
    .resource("configmaps", "doomed")
    .create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } });
  await env.client.resource("pods", "doomed").create(pod("p", { nodeName: "somewhere" }));
  await env.client.resource("namespaces").delete("doomed");
  const ns: any = await env.client
    .resource("namespaces")
    .get("doomed")
    .catch(() => undefined);
  if (ns) expect(ns.status.phase).toBe("Terminating");
  await waitFor("namespace gone", () => gone(env.client.resource("namespaces").get("doomed")));
  expect(await gone(env.client.resource("configmaps", "doomed").get("c"))).toBe(true);
});

test("a node that stops reporting becomes Unknown and tainted, and its pods are evicted", async () => {
  await env.client.resource("nodes").create(readyNode("silent", {}, new Date(Date.now() - 60_000)));
  await env.client.resource("pods", "default").create(pod("on-silent", { nodeName: "silent" }));
  const node: any = await waitFor("Ready=Unknown and tainted", async () => {
    const n: any = await env.client.resource("nodes").get("silent");
    const ready = n.status.conditions.find((c: any) => c.type === "Ready");
    return ready.status === "Unknown" &&
      n.spec.taints?.some((t: any) => t.key === "node.kubernetes.io/unreachable" && t.effect === "NoExecute")
      ? n
      : undefined;
  });
  expect(node.status.conditions.find((c: any) => c.type === "Ready").reason).toBe("NodeStatusUnknown");
  await waitFor("pod evicted", () => gone(env.client.resource("pods", "default").get("on-silent")), 10_000);
});

test("a node that never reported gets Unknown conditions saying so, as upstream", async () => {
  const created: any = await env.client
    .resource("nodes")
    .create({ apiVersion: "v1", kind: "Node", metadata: { name: "mute" } });
  const conds: any[] = await waitFor(
    "conditions Unknown",
    async () => ((await env.client.resource("nodes").get("mute")) as any).status?.conditions,
  );
  expect(conds.map((c) => c.type)).toEqual(["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"]);
  for (const c of conds) {
    expect(c).toMatchObject({
      status: "Unknown",
      reason: "NodeStatusNeverUpdated",
      message: "Kubelet never posted node status.",
      lastHeartbeatTime: created.metadata.creationTimestamp,
    });
    expect(Date.parse(c.lastTransitionTime)).toBeGreaterThanOrEqual(Date.parse(created.metadata.creationTimestamp));
  }
});

test("pods bound to a node that does not exist are removed", async () => {
  await env.client.resource("pods", "default").create(pod("on-ghost", { nodeName: "ghost" }));
  await waitFor("pod removed", () => gone(env.client.resource("pods", "default").get("on-ghost")), 10_000);
});

test("events expire after the event TTL", async () => {
  const short = await startCluster({ runtime: "none", settings: { eventTTLSeconds: 1 } });
  try {
    await short.client.resource("events", "default").create({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "old.1" },
      involvedObject: { kind: "Pod", name: "x", namespace: "default" },
      reason: "Test",
      message: "m",
      lastTimestamp: new Date(Date.now() - 5000).toISOString().replace(/\.\d{3}Z$/, "Z"),
    });
    await short.client.resource("events", "default").create({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "new.1" },
      involvedObject: { kind: "Pod", name: "x", namespace: "default" },
      reason: "Test",
      message: "m",
      lastTimestamp: new Date(Date.now() + 60_000).toISOString().replace(/\.\d{3}Z$/, "Z"),
    });
    await waitFor("old event removed", () => gone(short.client.resource("events", "default").get("old.1")), 5000);
    expect(await gone(short.client.resource("events", "default").get("new.1"))).toBe(false);
  } finally {
    await short.close();
  }
});
