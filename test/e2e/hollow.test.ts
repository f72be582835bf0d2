// Real manifests on hollow (sim) nodes, in a whole in-process cluster: init containers complete
// and probes pass as on kubemark's hollow kubelet; PriorityClasses and preemption within a PodDisruptionBudget.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Pod } from "../../src/api/kinds/pod.ts";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/wait.ts";

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster({ runtime: "sim", simNodes: 3 });
}, 60_000);
afterAll(() => cluster.close());

const pods = () => cluster.client.resource<Pod>("pods", "default");

test("a pod with init containers and probes becomes Ready on a hollow node", async () => {
  const probe = { httpGet: { path: "/healthz", port: 8080 }, periodSeconds: 1 };
  await pods().create({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "loadgen" },
    spec: {
      initContainers: [
        { name: "wait-frontend", image: "busybox", command: ["sh", "-c", "until wget frontend; do sleep 2; done"] },
        { name: "migrate", image: "busybox" },
      ],
      containers: [{ name: "main", image: "busybox", readinessProbe: probe, livenessProbe: probe }],
    },
  });
  const p = await waitFor(
    "loadgen Ready",
    async () => {
      const p = await pods().get("loadgen");
      return p.status?.conditions?.find((c) => c.type === "Ready" && c.status === "True") && p;
    },
    20_000,
  );
  expect(p.status!.phase).toBe("Running");
  expect(
    p.status!.initContainerStatuses!.map((s) => [s.name, s.state?.terminated?.exitCode, s.state?.terminated?.reason]),
  ).toEqual([
    ["wait-frontend", 0, "Completed"],
    ["migrate", 0, "Completed"],
  ]);
  expect(p.status!.containerStatuses![0]).toMatchObject({ name: "main", ready: true, restartCount: 0 });
});

test("a high-priority pod preempts a low one on a full hollow node, sparing the pod a PodDisruptionBudget protects", async () => {
  const classes = cluster.client.resource("priorityclasses");
  for (const [name, value] of [
    ["low", 100],
    ["high", 1000],
  ] as const)
    await classes.create({ apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name }, value });
  const nodes = [0, 1, 2].map((i) => `${cluster.nodeName}-sim-${i}`);
  // Every node full (2 cpu each); only "free" is not protected by the budget.
  const placed: [string, string, Record<string, string>][] = [
    ["db-0", nodes[0]!, { app: "db" }],
    ["db-1", nodes[0]!, { app: "db" }],
    ["db-2", nodes[1]!, { app: "db" }],
    ["free", nodes[1]!, { app: "batch" }],
    ["db-3", nodes[2]!, { app: "db" }],
    ["db-4", nodes[2]!, { app: "db" }],
  ];
  for (const [name, node, labels] of placed)
    await pods().create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, labels },
      spec: {
        nodeName: node,
        priorityClassName: "low",
        containers: [{ name: "c", image: "busybox", resources: { requests: { cpu: "1" } } }],
      },
    });
  await cluster.client.resource("poddisruptionbudgets", "default").create({
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: "db" },
    spec: { minAvailable: 5, selector: { matchLabels: { app: "db" } } },
  });
  await waitFor(
    "the budget to see 5 healthy pods",
    async () => {
      const pdb = (await cluster.client.resource("poddisruptionbudgets", "default").get("db")) as {
        status?: { currentHealthy?: number; disruptionsAllowed?: number };
      };
      return pdb.status?.currentHealthy === 5 && pdb.status.disruptionsAllowed === 0;
    },
    20_000,
  );
  await pods().create({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "urgent" },
    spec: {
      priorityClassName: "high",
      containers: [{ name: "c", image: "busybox", resources: { requests: { cpu: "1" } } }],
    },
  });
  const urgent = await waitFor(
    "urgent bound",
    async () => {
      const p = await pods().get("urgent");
      return p.spec.nodeName && p;
    },
    20_000,
  );
  expect([urgent.spec.nodeName, urgent.spec.priority, urgent.status?.nominatedNodeName]).toEqual([
    nodes[1],
    1000,
    nodes[1],
  ]);
  const left = (await pods().list()).items.map((p) => p.metadata!.name).sort();
  expect(left).toEqual(["db-0", "db-1", "db-2", "db-3", "db-4", "loadgen", "urgent"]);
  const event = await waitFor("the Preempted event on the victim", async () => {
    const events = await cluster.client
      .resource("events", "default")
      .list({ fieldSelector: "involvedObject.name=free,reason=Preempted" });
    return events.items[0] as { message?: string } | undefined;
  });
  expect(event.message).toBe(`Preempted by pod ${urgent.metadata!.uid} on node ${nodes[1]}`);
});
