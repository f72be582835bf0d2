// The scheduler on kube up's main thread reads the process's shared informers (one decoded copy of
// every pod for the controllers, the hollow kubelets and the scheduler): pods pending before it
// starts and pods made after are bound, and stopping it leaves the other components' informers
// running.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createClient, inProcessTransport, SharedInformerFactory, type Client } from "../../src/client/index.ts";
import { SchedulerLoop } from "../../src/components/scheduler/index.ts";
import { nodeWith } from "../helpers/scheduler.ts";
import { pod, startTestApi, TEST_TOKEN, type TestApi } from "../helpers/api.ts";
import { waitFor } from "../helpers/wait.ts";

let api: TestApi;
let client: Client;
let shared: SharedInformerFactory;
beforeAll(async () => {
  api = await startTestApi();
  client = createClient(inProcessTransport(api.fetch, TEST_TOKEN));
  shared = new SharedInformerFactory(client, { stripManagedFields: true });
  for (const n of ["n1", "n2"])
    await client.resource("nodes").create({ apiVersion: "v1", kind: "Node", ...nodeWith(n, { cpu: "2" }) });
});
afterAll(async () => {
  shared.stop();
  await api.close();
});

const nodeOf = async (name: string) =>
  ((await client.resource("pods", "default").get(name)) as any).spec.nodeName as string | undefined;

test("binds pods from the shared pod informer, which outlives the scheduler", async () => {
  // A controller's handle on the pod informer, running before the scheduler starts.
  const controller = shared.informer("pods");
  const seen = new Map<string, string | undefined>();
  controller.on({
    add: (p: any) => seen.set(p.metadata.name, p.spec.nodeName),
    update: (_, p: any) => seen.set(p.metadata.name, p.spec.nodeName),
  });
  controller.start();
  await controller.waitForSync();
  await client.resource("pods", "default").create(pod("early"));
  await waitFor("the controller's informer to see the pending pod", () => seen.has("early"));

  const scheduler = new SchedulerLoop(client, undefined, undefined, shared);
  await scheduler.start();
  // Pods, nodes, namespaces and PodDisruptionBudgets: the scheduler opened no watch of its own for pods.
  expect(shared.size).toBe(4);
  await client.resource("pods", "default").create(pod("late"));
  await waitFor("both pods bound", async () => !!(await nodeOf("early")) && !!(await nodeOf("late")));
  expect(["n1", "n2"]).toContain((await nodeOf("late"))!);
  // The scheduler saw its bindings through the shared cache, as the controller did.
  await waitFor("the controller's informer to see the bindings", () => !!seen.get("early") && !!seen.get("late"));

  await scheduler.stop();
  expect(shared.size).toBe(1);
  await client.resource("pods", "default").create(pod("after"));
  await waitFor("the controller's informer still running", () => seen.has("after"));
  expect(await nodeOf("after")).toBeUndefined();
  controller.stop();
});
