// LimitRange admission: new pods get the namespace's default limits and requests, explicit
// values are kept, and containers beyond max or below min are refused with 403.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { pod, startTestApi, type TestApi } from "../helpers/api.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
  await api.json("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "limited" } });
  await api.json("POST", "/api/v1/namespaces/limited/limitranges", {
    apiVersion: "v1",
    kind: "LimitRange",
    metadata: { name: "defaults" },
    spec: {
      limits: [
        {
          type: "Container",
          default: { cpu: "500m", memory: "256Mi" },
          defaultRequest: { cpu: "100m" },
          max: { cpu: "1" },
          min: { cpu: "50m" },
        },
      ],
    },
  });
});
afterAll(() => api.close());

const create = (name: string, resources?: Record<string, Record<string, string>>) => {
  const p = pod(name);
  p.metadata.namespace = "limited";
  if (resources) p.spec.containers[0].resources = resources;
  return api.json("POST", "/api/v1/namespaces/limited/pods", p);
};

test("a pod without resources gets the defaults; a limit with no default request becomes the request", async () => {
  const { status, body } = await create("plain");
  expect(status).toBe(201);
  expect(body.spec.containers[0].resources).toEqual({
    limits: { cpu: "500m", memory: "256Mi" },
    requests: { cpu: "100m", memory: "256Mi" },
  });
});

test("explicit values are kept", async () => {
  const { body } = await create("explicit", { limits: { cpu: "800m" }, requests: { cpu: "200m" } });
  expect(body.spec.containers[0].resources).toEqual({
    limits: { cpu: "800m", memory: "256Mi" },
    requests: { cpu: "200m", memory: "256Mi" },
  });
});

test("beyond max or below min is refused with 403, naming the bound", async () => {
  const big = await create("big", { limits: { cpu: "2" } });
  expect(big.status).toBe(403);
  expect(big.body.message).toBe('pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2');
  const small = await create("small", { requests: { cpu: "10m" } });
  expect(small.status).toBe(403);
  expect(small.body.message).toContain("minimum cpu usage per Container is 50m, but request is 10m");
  expect((await api.json("GET", "/api/v1/namespaces/limited/pods/big")).status).toBe(404);
});

test("other namespaces are untouched", async () => {
  const { body } = await api.json("POST", "/api/v1/namespaces/default/pods", pod("free"));
  expect(body.spec.containers[0].resources ?? {}).toEqual({});
});
