// The eviction subresource against PodDisruptionBudgets: a budget with one disruption left lets
// exactly one of two concurrent evictions through; a ready pod under an exhausted budget gets
// 429; an unready pod may go while the budget is met; pods without a budget just go.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { pod, startTestApi, type TestApi } from "../helpers/api.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

async function readyPod(name: string, ready = true): Promise<void> {
  const p = pod(name, { labels: { app: "db" } });
  await api.json("POST", "/api/v1/namespaces/default/pods", p);
  const cur = (await api.json("GET", `/api/v1/namespaces/default/pods/${name}`)).body;
  cur.status = { phase: "Running", conditions: [{ type: "Ready", status: ready ? "True" : "False" }] };
  expect((await api.json("PUT", `/api/v1/namespaces/default/pods/${name}/status`, cur)).status).toBe(200);
}
async function budget(status: Record<string, number>): Promise<void> {
  await api.request("DELETE", "/apis/policy/v1/namespaces/default/poddisruptionbudgets/db");
  const created = (
    await api.json("POST", "/apis/policy/v1/namespaces/default/poddisruptionbudgets", {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "db" },
      spec: { minAvailable: 1, selector: { matchLabels: { app: "db" } } },
    })
  ).body;
  created.status = { observedGeneration: created.metadata.generation, ...status };
  expect(
    (await api.json("PUT", "/apis/policy/v1/namespaces/default/poddisruptionbudgets/db/status", created)).status,
  ).toBe(200);
}
const evict = (name: string) =>
  api.json("POST", `/api/v1/namespaces/default/pods/${name}/eviction`, {
    apiVersion: "policy/v1",
    kind: "Eviction",
    metadata: { name },
  });

test("one disruption left: one of two concurrent evictions goes, the other is 429", async () => {
  await readyPod("a");
  await readyPod("b");
  await budget({ disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 });
  const results = await Promise.all([evict("a"), evict("b")]);
  expect(results.map((r) => r.status).sort()).toEqual([201, 429]);
  const refused = results.find((r) => r.status === 429)!;
  expect(refused.body.message).toBe("Cannot evict pod as it would violate the pod's disruption budget.");
  const pdb = (await api.json("GET", "/apis/policy/v1/namespaces/default/poddisruptionbudgets/db")).body;
  expect(pdb.status.disruptionsAllowed).toBe(0);
  expect(Object.keys(pdb.status.disruptedPods)).toHaveLength(1);
});

test("an unready pod may go while the budget is met; a ready one may not", async () => {
  await readyPod("sick", false);
  await readyPod("fine");
  await budget({ disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 2 });
  expect((await evict("fine")).status).toBe(429);
  expect((await evict("sick")).status).toBe(201);
});

test("a pod no budget covers is evicted", async () => {
  await api.json("POST", "/api/v1/namespaces/default/pods", pod("free", { labels: { app: "other" } }));
  expect((await evict("free")).status).toBe(201);
});
