// Priority admission: pods get spec.priority and spec.preemptionPolicy from their PriorityClass,
// the global default, or 0; an unknown class or a contradicting priority is refused with 403;
// the two system classes exist from the start.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { pod, startTestApi, type TestApi } from "../helpers/api.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

const PCS = "/apis/scheduling.k8s.io/v1/priorityclasses";
const pc = (name: string, value: number, extra: Record<string, unknown> = {}) =>
  api.json("POST", PCS, {
    apiVersion: "scheduling.k8s.io/v1",
    kind: "PriorityClass",
    metadata: { name },
    value,
    ...extra,
  });
const create = (name: string, spec: Record<string, unknown> = {}) => {
  const p = pod(name);
  Object.assign(p.spec, spec);
  return api.json("POST", "/api/v1/namespaces/default/pods", p);
};
const priorityOf = (r: { body: { spec: Record<string, unknown> } }) => [
  r.body.spec.priorityClassName,
  r.body.spec.priority,
  r.body.spec.preemptionPolicy,
];

test("the system classes exist, and a pod naming one gets its value", async () => {
  const list = await api.json("GET", PCS);
  expect(list.body.items.map((c: { metadata: { name: string }; value: number }) => [c.metadata.name, c.value])).toEqual(
    [
      ["system-cluster-critical", 2000000000],
      ["system-node-critical", 2000001000],
    ],
  );
  expect(priorityOf(await create("critical", { priorityClassName: "system-node-critical" }))).toEqual([
    "system-node-critical",
    2000001000,
    "PreemptLowerPriority",
  ]);
});

test("a pod without a class gets 0, then the global default once one exists; a Never class is copied", async () => {
  expect(priorityOf(await create("plain"))).toEqual([undefined, 0, "PreemptLowerPriority"]);
  expect((await pc("low", 10, { globalDefault: true })).status).toBe(201);
  expect((await pc("polite", 1000, { preemptionPolicy: "Never" })).status).toBe(201);
  expect(priorityOf(await create("defaulted"))).toEqual(["low", 10, "PreemptLowerPriority"]);
  expect(priorityOf(await create("polite", { priorityClassName: "polite" }))).toEqual(["polite", 1000, "Never"]);
});

test("an unknown class or a priority that contradicts the class is refused with 403", async () => {
  const unknown = await create("nope", { priorityClassName: "gold" });
  expect([unknown.status, unknown.body.message]).toEqual([
    403,
    'pods "nope" is forbidden: no PriorityClass with name gold was found',
  ]);
  const wrong = await create("wrong", { priorityClassName: "polite", priority: 5 });
  expect([wrong.status, wrong.body.message]).toEqual([
    403,
    'pods "wrong" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority ' +
      "admission controller computed 1000 from the given PriorityClass name",
  ]);
  expect((await create("same", { priorityClassName: "polite", priority: 1000 })).status).toBe(201);
});
