// Subresources: scale (as kubectl scale sends it), binding (the scheduler's only way to
// assign a node), status, and discovery/table output that kubectl depends on.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { pod, startTestApi, type TestApi } from "../helpers/api.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

const rc = (name: string) => ({
  apiVersion: "v1",
  kind: "ReplicationController",
  metadata: { name },
  spec: {
    replicas: 1,
    selector: { app: name },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: "c", image: "localhost/busybox:latest" }] },
    },
  },
});

test("kubectl scale's merge patch on /scale changes spec.replicas and answers a Scale", async () => {
  await api.json("POST", "/api/v1/namespaces/default/replicationcontrollers", rc("r1"));
  const { status, body } = await api.json(
    "PATCH",
    "/api/v1/namespaces/default/replicationcontrollers/r1/scale",
    { spec: { replicas: 3 } },
    { "content-type": "application/merge-patch+json" },
  );
  expect(status).toBe(200);
  expect(body).toMatchObject({
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    spec: { replicas: 3 },
    status: { selector: "app=r1" },
  });
  expect((await api.json("GET", "/api/v1/namespaces/default/replicationcontrollers/r1")).body.spec.replicas).toBe(3);
  const got = await api.json("GET", "/api/v1/namespaces/default/replicationcontrollers/r1/scale");
  expect(got.body.spec.replicas).toBe(3);
});

test("a binding sets spec.nodeName and PodScheduled; a second binding is 409", async () => {
  await api.json("POST", "/api/v1/namespaces/default/pods", pod("b1"));
  const bind = (node: string) =>
    api.json("POST", "/api/v1/namespaces/default/pods/b1/binding", {
      apiVersion: "v1",
      kind: "Binding",
      metadata: { name: "b1" },
      target: { kind: "Node", name: node },
    });
  expect((await bind("n1")).status).toBe(201);
  const p = (await api.json("GET", "/api/v1/namespaces/default/pods/b1")).body;
  expect(p.spec.nodeName).toBe("n1");
  expect(p.status.conditions.find((c: any) => c.type === "PodScheduled").status).toBe("True");
  expect((await bind("n2")).status).toBe(409);
});

test("POST /bindings binds by the Binding's name; other verbs on bindings are 405", async () => {
  await api.json("POST", "/api/v1/namespaces/default/pods", pod("b2"));
  const r = await api.json("POST", "/api/v1/namespaces/default/bindings", {
    apiVersion: "v1",
    kind: "Binding",
    metadata: { name: "b2" },
    target: { name: "n1" },
  });
  expect(r.status).toBe(201);
  expect((await api.json("GET", "/api/v1/namespaces/default/pods/b2")).body.spec.nodeName).toBe("n1");
  expect((await api.json("GET", "/api/v1/namespaces/default/bindings/b2")).status).toBe(405);
});

test("discovery lists short names, categories and subresources", async () => {
  const v1 = (await api.json("GET", "/api/v1")).body;
  const pods = v1.resources.find((r: any) => r.name === "pods");
  expect(pods).toMatchObject({ kind: "Pod", namespaced: true, shortNames: ["po"], categories: ["all"] });
  const names = v1.resources.map((r: any) => r.name);
  for (const n of [
    "pods/status",
    "pods/binding",
    "pods/log",
    "replicationcontrollers/scale",
    "services",
    "nodes",
    "namespaces",
    "events",
    "endpoints",
  ])
    expect(names).toContain(n);
  const apps = (await api.json("GET", "/apis/apps/v1")).body.resources.map((r: any) => r.name);
  for (const n of ["deployments", "replicasets", "daemonsets", "statefulsets", "deployments/scale"])
    expect(apps).toContain(n);
  const groups = (await api.json("GET", "/apis")).body.groups.map((g: any) => g.name);
  expect(groups).toEqual(expect.arrayContaining(["apps", "batch"]));
});

test("a Table answer carries column definitions, cells and row metadata", async () => {
  const accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
  const { body } = await api.json("GET", "/api/v1/namespaces/default/pods", undefined, { accept });
  expect(body.kind).toBe("Table");
  expect(body.columnDefinitions.map((c: any) => c.name.toUpperCase()).slice(0, 5)).toEqual([
    "NAME",
    "READY",
    "STATUS",
    "RESTARTS",
    "AGE",
  ]);
  const row = body.rows.find((r: any) => r.cells[0] === "b1");
  expect(row.object.metadata.namespace).toBe("default");
});

test("services get a cluster IP in the loopback range; a taken IP or node port is 422", async () => {
  const svc = (name: string, spec: any) => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name },
    spec: { selector: { app: "x" }, ports: [{ port: 80 }], ...spec },
  });
  const a = (await api.json("POST", "/api/v1/namespaces/default/services", svc("s1", { type: "NodePort" }))).body;
  expect(a.spec.clusterIP).toMatch(/^127\./);
  expect(a.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
  const dupIp = await api.json(
    "POST",
    "/api/v1/namespaces/default/services",
    svc("s2", { clusterIP: a.spec.clusterIP }),
  );
  expect(dupIp.status).toBe(422);
  expect(dupIp.body.details.causes[0].field).toBe("spec.clusterIPs");
  const dupPort = await api.json(
    "POST",
    "/api/v1/namespaces/default/services",
    svc("s3", { type: "NodePort", ports: [{ port: 80, nodePort: a.spec.ports[0].nodePort }] }),
  );
  expect(dupPort.status).toBe(422);
  expect(dupPort.body.details.causes[0].field).toBe("spec.ports[0].nodePort");
});

test("the range's first address is reserved for default/kubernetes", async () => {
  const svc = (name: string, ns: string) => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: ns },
    spec: { clusterIP: "127.10.0.1", ports: [{ port: 443 }] },
  });
  const other = await api.json("POST", "/api/v1/namespaces/default/services", svc("not-kubernetes", "default"));
  expect(other.status).toBe(422);
  expect(other.body.message).toContain("not in the valid range");
  const elsewhere = await api.json("POST", "/api/v1/namespaces/kube-system/services", svc("kubernetes", "kube-system"));
  expect(elsewhere.status).toBe(422);
  const master = await api.json("POST", "/api/v1/namespaces/default/services", svc("kubernetes", "default"));
  expect(master.status).toBe(201);
  expect(master.body.spec.clusterIP).toBe("127.10.0.1");
});
