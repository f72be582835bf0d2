// DaemonSets follow nodes; StatefulSets keep names and order.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { waitFor } from "../../../test/helpers/wait.ts";
import { startCluster, type TestCluster } from "../../../test/helpers/cluster.ts";
import { podsOf, readyNode, setPodPhase, template } from "../../../test/helpers/controllers.ts";

let env: TestCluster;
beforeAll(async () => {
  env = await startCluster({ runtime: "none" });
});
afterAll(() => env.close());

test("a DaemonSet runs one pod per matching node, following nodes that join, change and leave", async () => {
  const nodes = env.client.resource("nodes");
  await nodes.create(readyNode("d1", { disk: "ssd" }));
  await nodes.create(readyNode("d2", { disk: "hdd" }));
  const ds = {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: "agent" },
    spec: {
      selector: { matchLabels: { app: "agent" } },
      template: { ...template({ app: "agent" }), spec: { ...template({}).spec, nodeSelector: { disk: "ssd" } } },
    },
  };
  await env.client.resource("daemonsets", "default").create(ds);
  const onNodes = async () =>
    (await podsOf(env.client, "default", "app=agent"))
      .filter((p: any) => !p.metadata.deletionTimestamp)
      .map((p: any) => p.spec.nodeName)
      .sort()
      .join(",");
  await waitFor("pod on d1", async () => (await onNodes()) === "d1");
  await nodes.create(readyNode("d3", { disk: "ssd" }));
  await waitFor("pods on d1,d3", async () => (await onNodes()) === "d1,d3");
  await nodes.patch("d2", { metadata: { labels: { disk: "ssd" } } }, "merge");
  await waitFor("pods on d1,d2,d3", async () => (await onNodes()) === "d1,d2,d3");
  await nodes.patch("d1", { metadata: { labels: { disk: "hdd" } } }, "merge");
  await waitFor("pods on d2,d3", async () => (await onNodes()) === "d2,d3");
  const status: any = await waitFor("status", async () => {
    const d: any = await env.client.resource("daemonsets", "default").get("agent");
    return d.status?.desiredNumberScheduled === 2 ? d.status : undefined;
  });
  expect(status.currentNumberScheduled).toBe(2);
});

test("a StatefulSet creates <name>-0.. in order, each after the previous is ready, and brings back a deleted pod under its name", async () => {
  const sts = {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "db" },
    spec: {
      replicas: 3,
      serviceName: "db",
      selector: { matchLabels: { app: "db" } },
      template: template({ app: "db" }),
    },
  };
  await env.client.resource("statefulsets", "default").create(sts);
  const names = async () => (await podsOf(env.client, "default", "app=db")).map((p: any) => p.metadata.name).sort();
  await waitFor("db-0", async () => (await names()).join() === "db-0");
  // Only db-0 exists until it is ready.
  expect(await names()).toEqual(["db-0"]);
  await setPodPhase(env.client, (await podsOf(env.client, "default", "app=db"))[0]!, "Running");
  await waitFor("db-1", async () => (await names()).join() === "db-0,db-1");
  await setPodPhase(
    env.client,
    (await podsOf(env.client, "default", "app=db")).find((p: any) => p.metadata.name === "db-1")!,
    "Running",
  );
  await waitFor("db-2", async () => (await names()).join() === "db-0,db-1,db-2");
  const db1: any = (await podsOf(env.client, "default", "app=db")).find((p: any) => p.metadata.name === "db-1");
  expect(db1.spec.hostname).toBe("db-1");
  await env.client.resource("pods", "default").delete("db-1");
  await waitFor("db-1 again with a new uid", async () => {
    const p: any = (await podsOf(env.client, "default", "app=db")).find((x: any) => x.metadata.name === "db-1");
    return p && p.metadata.uid !== db1.metadata.uid;
  });
});
