// Two API servers on one store (as two `kube up --server-only` on one etcd) never hand out the
// same cluster IP or node port: each allocates in its own process, the store's reservation decides.
// A deleted service's values are free again at once; a value asked for that the other server holds
// is refused as upstream words it.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createApiServer } from "../../src/components/apiserver/index.ts";
import { startTestApi, TEST_TOKEN, type TestApi } from "../helpers/api.ts";

// 14 usable addresses, the DNS one and the kubernetes service's among them: 12 to hand out, few enough that two
// unsynchronised allocators would collide at once.
const serviceRanges = { clusterIpCidr: "127.77.0.0/28", nodePortMin: 30100, nodePortMax: 30106 };
let a: TestApi;
let b: (req: Request) => Promise<Response>;
let closeB: () => void;
beforeAll(async () => {
  a = await startTestApi({ serviceRanges });
  const second = createApiServer({ store: a.store, token: TEST_TOKEN, serviceRanges });
  await second.ready;
  b = second.fetch;
  closeB = () => second.close();
});
afterAll(async () => {
  closeB?.();
  await a?.close();
});

const service = (name: string, spec: object = {}) => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name },
  spec: { type: "NodePort", ports: [{ port: 80 }], ...spec },
});
const onB = async (method: string, path: string, body?: unknown) => {
  const res = await b(
    new Request(`http://in-process${path}`, {
      method,
      headers: { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
  return { status: res.status, body: await res.json() };
};
const onA = (method: string, path: string, body?: unknown) => a.json(method, path, body);

test("concurrent creates on two API servers get distinct cluster IPs and node ports", async () => {
  const results = await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      (i % 2 ? onB : onA)("POST", "/api/v1/namespaces/default/services", service(`s${i}`)),
    ),
  );
  expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201, 201]);
  const list = await onA("GET", "/api/v1/namespaces/default/services");
  const mine = (
    list.body.items as { metadata: { name: string }; spec: { clusterIP: string; ports: { nodePort: number }[] } }[]
  ).filter((s) => s.metadata.name.startsWith("s"));
  const ips = mine.map((s) => s.spec.clusterIP);
  const ports = mine.map((s) => s.spec.ports[0]!.nodePort);
  expect(new Set(ips).size).toBe(6);
  expect(new Set(ports).size).toBe(6);
});

test("a value the other server holds is refused; a deleted service's values are free again", async () => {
  const taken = (await onA("GET", "/api/v1/namespaces/default/services/s0")).body.spec;
  const clash = await onB(
    "POST",
    "/api/v1/namespaces/default/services",
    service("clash", { clusterIP: taken.clusterIP, ports: [{ port: 80, nodePort: taken.ports[0].nodePort }] }),
  );
  expect(clash.status).toBe(422);
  expect(clash.body.message).toContain(`failed to allocate IP ${taken.clusterIP}: provided IP is already allocated`);
  expect(clash.body.message).toContain(`${taken.ports[0].nodePort}: provided port is already allocated`);

  expect((await onA("DELETE", "/api/v1/namespaces/default/services/s0")).status).toBe(200);
  const reused = await onB(
    "POST",
    "/api/v1/namespaces/default/services",
    service("reuse", { clusterIP: taken.clusterIP, ports: [{ port: 80, nodePort: taken.ports[0].nodePort }] }),
  );
  expect(reused.status).toBe(201);
  expect(reused.body.spec.clusterIP).toBe(taken.clusterIP);

  // Switching to ClusterIP gives the node port back, to either server.
  const before = (await onB("GET", "/api/v1/namespaces/default/services/reuse")).body;
  const switched = await onB("PUT", "/api/v1/namespaces/default/services/reuse", {
    ...before,
    spec: { ...before.spec, type: "ClusterIP", ports: [{ port: 80 }] },
  });
  expect(switched.status).toBe(200);
  const again = await onA(
    "POST",
    "/api/v1/namespaces/default/services",
    service("port-again", { ports: [{ port: 81, nodePort: taken.ports[0].nodePort }] }),
  );
  expect(again.status).toBe(201);
  expect(again.body.spec.ports[0].nodePort).toBe(taken.ports[0].nodePort);
});
