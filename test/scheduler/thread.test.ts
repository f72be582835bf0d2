// The scheduler on a thread of its own (KUBE_SCHEDULER_THREAD=1; `kube up` runs it on the main
// thread by default): it binds pods through the main thread's API server with its own identity, its
// metrics join the process's /metrics, what it logs reaches the log, and a stop ends its watches on
// the server and the thread at once.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createClient, inProcessTransport, type Client } from "../../src/client/index.ts";
import { runScheduler } from "../../src/components/scheduler/index.ts";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";
import { nodeWith } from "../helpers/scheduler.ts";
import { pod, startTestApi, TEST_TOKEN, type TestApi } from "../helpers/api.ts";
import { waitFor } from "../helpers/wait.ts";

let api: TestApi;
let admin: Client;
beforeAll(async () => {
  api = await startTestApi();
  admin = createClient(inProcessTransport(api.fetch, TEST_TOKEN));
  await admin.resource("nodes").create({ apiVersion: "v1", kind: "Node", ...nodeWith("n1", { cpu: "2" }) });
});
afterAll(() => api.close());

const as = (name: string) => createClient(inProcessTransport(api.fetch, api.tokenFor({ name, groups: [] })));
const watchers = async () =>
  [...(await api.metrics!.text()).matchAll(/^apiserver_registered_watchers\{[^}]*\} (\d+)$/gm)].reduce(
    (n, m) => n + Number(m[1]),
    0,
  );
const boundTo = async (name: string) =>
  ((await admin.resource("pods", "default").get(name)) as { spec: { nodeName?: string } }).spec.nodeName;

test("binds pods from its own thread, as system:kube-scheduler, and its metrics join the process's", async () => {
  const before = await watchers();
  const s = await runScheduler(as("system:kube-scheduler"), () => {}, api.metrics, { thread: true });
  try {
    expect(s.threaded).toBe(true);
    for (const name of ["t1", "t2", "t3"]) await admin.resource("pods", "default").create(pod(name));
    await waitFor("all bound", async () =>
      (await Promise.all(["t1", "t2", "t3"].map(boundTo))).every((n) => n === "n1"),
    );
    const events = await admin.resource("events", "default").list({ fieldSelector: "reason=Scheduled" });
    expect(events.items.map((e) => (e as { message?: string }).message)).toContain(
      "Successfully assigned default/t1 to n1",
    );
    const text = await api.metrics!.text();
    expect(text).toMatch(/^scheduler_schedule_attempts_total\{result="scheduled",profile="default-scheduler"\} 3$/m);
    expect(text).toMatch(/^scheduler_pending_pods\{queue="active"\} 0$/m);
    expect((await s.stats()).decisions.ms).toBeGreaterThan(0);
  } finally {
    const t0 = performance.now();
    await s.stop();
    // Ended by the thread saying so, not by the stop's timeout.
    expect(performance.now() - t0).toBeLessThan(4000);
  }
  await waitFor("its watches ended on the server", async () => (await watchers()) === before);
  expect(await api.metrics!.text()).not.toContain("scheduler_schedule_attempts_total");
});

test("what the thread logs reaches the log: a binding it may not write", async () => {
  const logged: string[] = [];
  // The controller manager reads pods and nodes but may not bind them.
  const s = await runScheduler(as("system:kube-controller-manager"), (m) => logged.push(m), undefined, {
    thread: true,
  });
  try {
    expect(s.threaded).toBe(true);
    await admin.resource("pods", "default").create(pod("denied"));
    const line = await waitFor("the failure logged", () => logged.find((l) => l.includes("default/denied")));
    expect(line).toStartWith("binding default/denied to n1 failed: ");
    expect(await boundTo("denied")).toBeUndefined();
  } finally {
    await s.stop();
    await admin.resource("pods", "default").delete("denied");
  }
});

test("on the main thread by default, the same", async () => {
  const s = await runScheduler(as("system:kube-scheduler"), () => {});
  try {
    expect(s.threaded).toBe(false);
    await admin.resource("pods", "default").create(pod("m1"));
    await waitFor("bound", async () => (await boundTo("m1")) === "n1");
  } finally {
    await s.stop();
  }
});

test("a cluster as kube up starts it schedules pods that its hollow kubelet then runs", async () => {
  const cluster: TestCluster = await startCluster({ runtime: "sim" });
  try {
    await cluster.client.resource("pods", "default").create(pod("up"));
    await waitFor("running", async () => {
      const p = (await cluster.client.resource("pods", "default").get("up")) as {
        spec: { nodeName?: string };
        status?: { phase?: string };
      };
      return p.spec.nodeName && p.status?.phase === "Running";
    });
  } finally {
    await cluster.close();
  }
});
