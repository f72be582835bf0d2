// The scheduler component against the real API server: pods get bound through bindings, a
// pod that fits nowhere is marked Unschedulable with Kubernetes' message and an event, and is
// scheduled as soon as a fitting node appears.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createClient, inProcessTransport, type Client } from "../../src/client/index.ts";
import { SchedulerLoop } from "../../src/components/scheduler/index.ts";
import { nodeWith } from "../helpers/scheduler.ts";
import { pod, startTestApi, TEST_TOKEN, type TestApi } from "../helpers/api.ts";
import { waitFor } from "../helpers/wait.ts";

let api: TestApi;
let client: Client;
let scheduler: SchedulerLoop;
beforeAll(async () => {
  api = await startTestApi();
  client = createClient(inProcessTransport(api.fetch, TEST_TOKEN));
  for (const n of ["n1", "n2"])
    await client.resource("nodes").create({ apiVersion: "v1", kind: "Node", ...nodeWith(n, { cpu: "2" }) });
  scheduler = new SchedulerLoop(client);
  await scheduler.start();
});
afterAll(async () => {
  await scheduler.stop();
  await api.close();
});

const nodeOf = async (name: string) =>
  ((await client.resource("pods", "default").get(name)) as any).spec.nodeName as string | undefined;

test("pending pods are bound to nodes through the binding subresource", async () => {
  for (let i = 0; i < 10; i++) await client.resource("pods", "default").create(pod(`p${i}`));
  await waitFor("all pods bound", async () => {
    const list = await client.resource("pods", "default").list();
    return list.items.every((p: any) => p.spec.nodeName);
  });
  const nodes = new Set(await Promise.all(Array.from({ length: 10 }, (_, i) => nodeOf(`p${i}`))));
  expect(nodes).toEqual(new Set(["n1", "n2"]));
  const events = await client.resource("events", "default").list({ fieldSelector: "reason=Scheduled" });
  expect(events.items.length).toBeGreaterThanOrEqual(1);
});

test("a pod that fits nowhere is Unschedulable with the reason, then lands when a node fits", async () => {
  const big = pod("big");
  big.spec.containers[0].resources = { requests: { cpu: "3" } };
  await client.resource("pods", "default").create(big);
  const cond = await waitFor("PodScheduled=False", async () => {
    const p: any = await client.resource("pods", "default").get("big");
    return p.status.conditions?.find((c: any) => c.type === "PodScheduled" && c.status === "False");
  });
  expect(cond.reason).toBe("Unschedulable");
  expect(cond.message).toBe(
    "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption " +
      "victims found for incoming pod..",
  );
  // The event is written beside the status, not before it.
  const event: any = await waitFor(
    "the FailedScheduling event",
    async () =>
      (
        await client
          .resource("events", "default")
          .list({ fieldSelector: "involvedObject.name=big,reason=FailedScheduling" })
      ).items[0],
  );
  expect(event.type).toBe("Warning");
  await client.resource("nodes").create({ apiVersion: "v1", kind: "Node", ...nodeWith("n3", { cpu: "8" }) });
  await waitFor("big bound to n3", async () => (await nodeOf("big")) === "n3");
});

test("a cordoned node gets no new pods", async () => {
  for (const n of ["n1", "n2"]) await client.resource("nodes").patch(n, { spec: { unschedulable: true } }, "merge");
  await client.resource("pods", "default").create(pod("after-cordon"));
  await waitFor("bound", async () => !!(await nodeOf("after-cordon")));
  expect(await nodeOf("after-cordon")).toBe("n3");
});
