// Real manifests on hollow (sim) nodes, in a whole in-process cluster: init containers complete
// and probes pass as on kubemark's hollow kubelet.
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
