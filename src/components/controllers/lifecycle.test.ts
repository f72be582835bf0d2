// Garbage collection by owner references, namespace deletion, nodes that stop reporting and events
// that expire. The node and event tests step a FakeClock over upstream's default grace periods,
// eviction timeout and TTL.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rfc3339 } from "../../api/time.ts";
import type { KubeObject } from "../../api/types.ts";
import { isNotFound } from "../../client/index.ts";
import type { Node } from "../../api/kinds/core.ts";
import { TAINT_UNREACHABLE } from "../../api/well-known.ts";
import { defaultConfig } from "../config.ts";
import { FakeClock, waitStepping } from "../../../test/helpers/clock.ts";
import { waitFor } from "../../../test/helpers/wait.ts";
import { pod } from "../../../test/helpers/api.ts";
import { startCluster, type TestCluster } from "../../../test/helpers/cluster.ts";
import { eventAt, readyNode, template } from "../../../test/helpers/controllers.ts";

let env: TestCluster;
const clock = new FakeClock();
const { eventTtlMs, nodeMonitorGracePeriodMs, podEvictionTimeoutMs } = defaultConfig();
beforeAll(async () => {
  env = await startCluster({ runtime: "none", clock });
});
afterAll(() => env.close());

const gone = (p: Promise<unknown>) =>
  p.then(
    () => false,
    (e) => isNotFound(e),
  );

const ownerRef = (owner: KubeObject, blockOwnerDeletion = false) => ({
  apiVersion: owner.apiVersion!,
  kind: owner.kind!,
  name: owner.metadata!.name!,
  uid: owner.metadata!.uid!,
  controller: true,
  ...(blockOwnerDeletion ? { blockOwnerDeletion } : {}),
});

async function ownedPod(owner: any, name: string, blockOwnerDeletion = false): Promise<any> {
  const p = pod(name, { labels: { app: owner.metadata.name } });
  p.metadata.ownerReferences = [ownerRef(owner, blockOwnerDeletion)];
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
  await ownedPod(owner, "gc3-a", true);
  await env.client.resource("jobs", "default").delete("gc3", { propagationPolicy: "Foreground" });
  await waitFor("owner gone", () => gone(env.client.resource("jobs", "default").get("gc3")));
  expect(await gone(env.client.resource("pods", "default").get("gc3-a"))).toBe(true);
});

// Custom resources are in the GC's graph like every other deletable resource: a Gadget owning a
// ConfigMap and another Gadget, under each propagation policy. The CRD is created after the GC started.
describe("garbage collection across custom resources", () => {
  const gadgets = { group: "example.com", version: "v1", resource: "gadgets", namespaced: true };
  const gadget = (name: string, owner?: KubeObject, block = false, finalizers?: string[]) => ({
    apiVersion: "example.com/v1",
    kind: "Gadget",
    metadata: {
      name,
      ...(owner ? { ownerReferences: [ownerRef(owner, block)] } : {}),
      ...(finalizers ? { finalizers } : {}),
    },
    spec: { size: 1 },
  });
  const cms = () => env.client.resource("configmaps", "default");
  const crs = () => env.client.dynamic(gadgets, "default");
  /** An owner Gadget with a ConfigMap and a Gadget depending on it. */
  async function family(prefix: string, block = false, finalizers?: string[]) {
    const owner = await crs().create(gadget(`${prefix}-owner`));
    await cms().create({ metadata: { name: `${prefix}-cm`, ownerReferences: [ownerRef(owner, block)] } });
    await crs().create(gadget(`${prefix}-child`, owner, block, finalizers));
    return owner;
  }

  beforeAll(async () => {
    await env.client.resource("customresourcedefinitions").create({
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "gadgets.example.com" },
      spec: {
        group: "example.com",
        scope: "Namespaced",
        names: { plural: "gadgets", singular: "gadget", kind: "Gadget" },
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
          },
        ],
      },
    });
    await waitFor("gadgets served", () =>
      crs()
        .list()
        .then(() => true),
    );
  });

  test("background: the dependents go after the owner", async () => {
    await family("bg");
    await crs().delete("bg-owner", { propagationPolicy: "Background" });
    await waitFor("ConfigMap collected", () => gone(cms().get("bg-cm")));
    await waitFor("Gadget collected", () => gone(crs().get("bg-child")));
  });

  test("foreground: the owner stays with foregroundDeletion until its blocking dependents are gone", async () => {
    await family("fg", true, ["example.com/hold"]);
    await crs().delete("fg-owner", { propagationPolicy: "Foreground" });
    await waitFor("ConfigMap collected", () => gone(cms().get("fg-cm")));
    // The child is held by its own finalizer: deleted, but present, so the owner waits.
    const child = await waitFor("child being deleted", async () => {
      const c = await crs().get("fg-child");
      return c.metadata?.deletionTimestamp ? c : undefined;
    });
    const owner = await crs().get("fg-owner");
    expect(owner.metadata?.deletionTimestamp).toBeString();
    expect(owner.metadata?.finalizers).toEqual(["foregroundDeletion"]);
    await crs().patch(
      "fg-child",
      { metadata: { finalizers: null, resourceVersion: child.metadata?.resourceVersion } },
      "merge",
    );
    await waitFor("owner gone once its dependents are", () => gone(crs().get("fg-owner")));
    expect(await gone(crs().get("fg-child"))).toBe(true);
  });

  test("orphan: the dependents stay without their owner reference", async () => {
    await family("or");
    await crs().delete("or-owner", { propagationPolicy: "Orphan" });
    await waitFor("owner gone", () => gone(crs().get("or-owner")));
    const cm = await cms().get("or-cm");
    const child = await crs().get("or-child");
    expect(cm.metadata?.ownerReferences).toBeUndefined();
    expect(child.metadata?.ownerReferences).toBeUndefined();
  });

  test("a dependent whose owner never existed is collected", async () => {
    const ghost = {
      apiVersion: "example.com/v1",
      kind: "Gadget",
      metadata: { name: "ghost", uid: crypto.randomUUID() },
    };
    await cms().create({ metadata: { name: "haunted", ownerReferences: [ownerRef(ghost)] } });
    await waitFor("ConfigMap collected", () => gone(cms().get("haunted")));
  });
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

const stepUntil = <T>(what: string, ms: number, check: () => Promise<T>) => waitStepping(clock, ms, what, check);
const readyOf = (n: Node) => n.status?.conditions?.find((c) => c.type === "Ready");
const unreachable = (n: Node) => n.spec?.taints?.some((t) => t.key === TAINT_UNREACHABLE && t.effect === "NoExecute");

test("a node that stops reporting becomes Unknown and tainted, its pods are evicted, and it recovers", async () => {
  const nodes = env.client.resource<Node>("nodes");
  const pods = env.client.resource("pods", "default");
  const createdAt = clock.now();
  await nodes.create(readyNode("silent"));
  await pods.create(pod("on-silent", { nodeName: "silent" }));
  const node = await stepUntil("Ready=Unknown and tainted", 5_000, async () => {
    const n = await nodes.get("silent");
    return readyOf(n)?.status === "Unknown" && unreachable(n) ? n : undefined;
  });
  expect(readyOf(node)?.reason).toBe("NodeStatusUnknown");
  // Not before the grace period (counted from when the controller first saw the node); the pods stay for now.
  expect(Date.parse(readyOf(node)!.lastTransitionTime!)).toBeGreaterThan(createdAt + nodeMonitorGracePeriodMs - 1000);
  expect(await gone(pods.get("on-silent"))).toBe(false);
  await stepUntil("pod evicted", podEvictionTimeoutMs / 10, () => gone(pods.get("on-silent")));
  // A heartbeat that changes is a sign of life, whatever its value says against the controller's clock.
  const heartbeat = rfc3339(Date.now() - 3_600_000);
  await nodes.patch(
    "silent",
    { status: { conditions: [{ type: "Ready", status: "True", lastHeartbeatTime: heartbeat }] } },
    "merge",
    {
      subresource: "status",
    },
  );
  await waitFor("the unreachable taints removed", async () => !unreachable(await nodes.get("silent")));
});

test("a node that never reported gets Unknown conditions saying so, as upstream", async () => {
  const created: any = await env.client
    .resource("nodes")
    .create({ apiVersion: "v1", kind: "Node", metadata: { name: "mute" } });
  // Counted from the node's creation, with the (longer) startup grace period.
  const conds: any[] = await stepUntil(
    "conditions Unknown",
    10_000,
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
  await waitFor("pod removed", () => gone(env.client.resource("pods", "default").get("on-ghost")));
});

test("events expire after the event TTL", async () => {
  const events = env.client.resource("events", "default");
  await events.create(eventAt("old.1", clock.now()));
  await events.create(eventAt("new.1", clock.now() + 60_000));
  clock.step(eventTtlMs + 1000);
  await waitFor("old event removed", () => gone(events.get("old.1")));
  expect(await gone(events.get("new.1"))).toBe(false);
});
