// A controller for a custom resource, written with the client's dynamic client and an informer
// (the code src/client/README.md shows), reconciling real Widgets: it creates a ConfigMap per
// Widget and reports it in the Widget's status. Then the namespace controller empties a
// terminating namespace of its custom resources, found through discovery.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { KubeObject } from "../../api/types.ts";
import { Informer, isAlreadyExists, keyOf, runWorkers, splitKey, WorkQueue, type Client } from "../../client/index.ts";
import { NamespaceController } from "./namespace/index.ts";
import { waitFor } from "../../../test/helpers/wait.ts";
import { startCluster, type TestCluster } from "../../../test/helpers/cluster.ts";

/** The Widget custom resource's shape, as its schema below declares it. */
interface Widget extends KubeObject {
  /** size defaults to 1 (the schema's default). */
  spec: { size?: number };
  status?: { configMap?: string; observedGeneration?: number };
}

const widgetCrd = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.example.com" },
  spec: {
    group: "example.com",
    scope: "Namespaced",
    names: { plural: "widgets", singular: "widget", kind: "Widget", shortNames: ["wd"] },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: "object",
            properties: {
              spec: { type: "object", properties: { size: { type: "integer", minimum: 1, default: 1 } } },
              status: {
                type: "object",
                properties: { configMap: { type: "string" }, observedGeneration: { type: "integer" } },
              },
            },
          },
        },
      },
    ],
  },
};

let env: TestCluster;
beforeAll(async () => {
  env = await startCluster({ runtime: "none", controllers: [NamespaceController] });
  await env.client.resource("customresourcedefinitions.apiextensions.k8s.io").create(widgetCrd);
});
afterAll(() => env.close());

/** The README's controller: one ConfigMap per Widget, its name in the Widget's status. */
async function widgetController(client: Client): Promise<() => Promise<void>> {
  const ref = { group: "example.com", version: "v1", resource: "widgets", namespaced: true };
  const widgets = new Informer(client.dynamic<Widget>(ref));
  const queue = new WorkQueue();
  widgets.on({ add: (w) => queue.add(keyOf(w)), update: (_, w) => queue.add(keyOf(w)) });
  widgets.start();
  await widgets.waitForSync();
  const workers = runWorkers(queue, 1, async (key) => {
    const w = widgets.get(key);
    if (!w) return;
    const { namespace, name } = splitKey(key);
    const owner = { apiVersion: "example.com/v1", kind: "Widget", name, uid: w.metadata!.uid!, controller: true };
    const data = { size: String(w.spec.size) };
    await client
      .resource("configmaps", namespace)
      .create({ metadata: { name: `${name}-config`, ownerReferences: [owner] }, data })
      .catch((e) => (isAlreadyExists(e) ? undefined : Promise.reject(e)));
    await client
      .dynamic(ref, namespace)
      .patch(name, { status: { configMap: `${name}-config`, observedGeneration: w.metadata!.generation } }, "merge", {
        subresource: "status",
      });
  });
  return async () => {
    queue.shutDown();
    widgets.stop();
    await workers;
  };
}

test("a few-line controller reconciles a custom resource through the dynamic client and an informer", async () => {
  const stop = await widgetController(env.client);
  try {
    const widgets = env.client.dynamic<Widget>(
      { group: "example.com", version: "v1", resource: "widgets", namespaced: true },
      "default",
    );
    const created = await widgets.create({
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "w1" },
      spec: {},
    });
    expect(created.spec.size).toBe(1); // the schema's default
    const done = await waitFor("widget status", async () => (await widgets.get("w1")).status?.configMap);
    expect(done).toBe("w1-config");
    const cm = await env.client.resource("configmaps", "default").get("w1-config");
    expect(cm.data).toEqual({ size: "1" });
    expect(cm.metadata?.ownerReferences?.[0]).toMatchObject({ kind: "Widget", name: "w1", uid: created.metadata!.uid });
  } finally {
    await stop();
  }
});

test("discovery lists the custom resource; a deleted namespace is emptied of its custom resources", async () => {
  const found = (await env.client.discover()).find((r) => r.resource === "widgets");
  expect(found).toMatchObject({
    group: "example.com",
    version: "v1",
    kind: "Widget",
    namespaced: true,
    shortNames: ["wd"],
  });
  await env.client.resource("namespaces").create({ metadata: { name: "doomed" } });
  const widgets = env.client.dynamic<KubeObject>(found!, "doomed");
  await widgets.create({
    apiVersion: "example.com/v1",
    kind: "Widget",
    metadata: { name: "in-ns" },
    spec: { size: 2 },
  });
  await env.client.resource("namespaces").delete("doomed");
  await waitFor(
    "namespace gone",
    async () => !(await env.client.resource("namespaces").list()).items.some((n) => n.metadata?.name === "doomed"),
    20_000,
  );
  expect((await env.client.dynamic(found!).list()).items.filter((w) => w.metadata?.namespace === "doomed")).toEqual([]);
});
