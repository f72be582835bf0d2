// Priority levels for in-process components: upstream's FlowSchema matching, seats by share,
// queues per flow taking turns, no seat for exempt or long-running requests, a bounded wait.
import { expect, test } from "bun:test";
import { waitFor } from "../../../test/helpers/wait.ts";
import { held } from "../../../test/helpers/held.ts";
import { Registry } from "../metrics/hub.ts";
import { levelOf, PRIORITY_LEVELS, PriorityLevels, registerFlowControlMetrics } from "./priority-levels.ts";

const user = (name: string, ...groups: string[]) => ({ name, groups });
const node = user("system:node:n1", "system:nodes", "system:authenticated");
const sa = (ns: string, name: string) =>
  user(`system:serviceaccount:${ns}:${name}`, "system:serviceaccounts", `system:serviceaccounts:${ns}`);
const req = (path = "/api/v1/namespaces/default/pods", method = "POST") =>
  new Request(`http://in-process${path}`, { method });

test.each([
  [user("admin", "system:masters"), "/api/v1/pods", "exempt"],
  [node, "/api/v1/nodes/n1/status", "node-high"],
  [node, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1", "node-high"],
  [node, "/api/v1/namespaces/default/pods/p/status", "system"],
  [user("system:kube-scheduler"), "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/x", "leader-election"],
  [user("system:kube-scheduler"), "/api/v1/namespaces/default/pods/p/binding", "workload-high"],
  [user("system:kube-controller-manager"), "/api/v1/namespaces/default/pods", "workload-high"],
  [sa("kube-system", "replicaset-controller"), "/api/v1/namespaces/default/pods", "workload-high"],
  [sa("default", "app"), "/api/v1/namespaces/default/pods", "workload-low"],
  [user("jane", "system:authenticated"), "/api/v1/namespaces/default/configmaps", "global-default"],
  [undefined, "/api/v1/namespaces/default/configmaps", "global-default"],
] as const)("%p on %s is in %s, as upstream's bootstrap FlowSchemas match", (who, path, level) => {
  expect(levelOf(who, path)).toBe(level);
});

test("each level's seats are its share of the server's, rounded up (upstream's nominal concurrency limit)", () => {
  const levels = new PriorityLevels({ seats: 245 });
  for (const [name, share] of Object.entries(PRIORITY_LEVELS))
    expect(levels.seatsOf(name as keyof typeof PRIORITY_LEVELS)).toBe(share);
  const small = new PriorityLevels({ seats: 64 });
  expect(small.seatsOf("workload-high")).toBe(Math.ceil((64 * 40) / 245));
  expect(small.seatsOf("catch-all")).toBe(2);
  expect(small.seatsOf("exempt")).toBe(0);
});

test("beyond its seats a request waits; the flows of a level take turns, one request each", async () => {
  const levels = new PriorityLevels({ seats: 1 });
  const rs = sa("kube-system", "replicaset-controller");
  const sched = user("system:kube-scheduler");
  const order: string[] = [];
  const holds = [held(), held(), held(), held()];
  const who = [rs, rs, rs, sched];
  const runs = holds.map((h, i) =>
    levels.run(req(), who[i], async () => {
      order.push(`${who[i]!.name.split(":").pop()}-${i}`);
      return h.handle();
    }),
  );
  expect(holds.map((h) => h.started())).toEqual([true, false, false, false]);
  expect(levels.stateOf("workload-high")).toEqual({ executing: 1, waiting: 3 });
  // Finishing the running request starts the next one in line, whose finishing starts the next.
  for (const i of [0, 1, 3, 2]) {
    const before = order.length;
    holds[i]!.finish();
    await runs[i];
    if (before < 4) await waitFor("the next request to start", () => order.length === before + 1);
  }
  await Promise.all(runs);
  // The scheduler's one request went before the controller's queued second and third.
  expect(order).toEqual([
    "replicaset-controller-0",
    "replicaset-controller-1",
    "kube-scheduler-3",
    "replicaset-controller-2",
  ]);
  expect(levels.stateOf("workload-high")).toEqual({ executing: 0, waiting: 0 });
});

test("a level's queue does not hold up other levels, exempt users or long-running requests", async () => {
  const levels = new PriorityLevels({ seats: 1 });
  const busy = held();
  const first = levels.run(req(), user("system:kube-scheduler"), busy.handle);
  const queued = held();
  const second = levels.run(req(), user("system:kube-scheduler"), queued.handle);
  const others = [
    levels.run(req(), node, async () => new Response("node")),
    levels.run(req(), user("admin", "system:masters"), async () => new Response("admin")),
    levels.run(req("/api/v1/pods?watch=true", "GET"), user("system:kube-scheduler"), async () => new Response("watch")),
  ];
  expect(await Promise.all(others.map(async (r) => (await r).text()))).toEqual(["node", "admin", "watch"]);
  expect(queued.started()).toBe(false);
  busy.finish();
  await waitFor("the queued request to start", () => queued.started());
  queued.finish();
  expect(await (await first).text()).toBe("ok");
  expect(await (await second).text()).toBe("ok");
});

test("a request that waited maxWaitMs runs without a seat, and gives none back when done", async () => {
  const levels = new PriorityLevels({ seats: 1, maxWaitMs: 20 });
  const busy = held();
  const first = levels.run(req(), user("jane"), busy.handle);
  const late = held();
  const second = levels.run(req(), user("jane"), late.handle);
  await waitFor("the waiting request to run anyway", () => late.started());
  expect(levels.stateOf("global-default")).toEqual({ executing: 1, waiting: 0 });
  late.finish();
  await second;
  expect(levels.stateOf("global-default")).toEqual({ executing: 1, waiting: 0 });
  busy.finish();
  await first;
  expect(levels.stateOf("global-default")).toEqual({ executing: 0, waiting: 0 });
});

test("apiserver_flowcontrol_* report seats per level and requests executing and queued per FlowSchema", async () => {
  const levels = new PriorityLevels({ seats: 1 });
  const registry = new Registry();
  registerFlowControlMetrics(levels, registry);
  const busy = held();
  const first = levels.run(req(), sa("kube-system", "replicaset-controller"), busy.handle);
  const second = levels.run(req(), user("system:kube-scheduler"), async () => new Response("ok"));
  const text = await registry.metrics();
  expect(text).toContain('apiserver_flowcontrol_nominal_limit_seats{priority_level="workload-high"} 1');
  expect(text).toContain(
    'apiserver_flowcontrol_current_executing_requests{flow_schema="kube-system-service-accounts",priority_level="workload-high"} 1',
  );
  expect(text).toContain(
    'apiserver_flowcontrol_current_inqueue_requests{flow_schema="kube-scheduler",priority_level="workload-high"} 1',
  );
  busy.finish();
  await Promise.all([first, second]);
  const after = await registry.metrics();
  expect(after).toContain(
    'apiserver_flowcontrol_current_inqueue_requests{flow_schema="kube-scheduler",priority_level="workload-high"} 0',
  );
  expect(after).toContain(
    'apiserver_flowcontrol_current_executing_requests{flow_schema="kube-system-service-accounts",priority_level="workload-high"} 0',
  );
});
