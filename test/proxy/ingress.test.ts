// The ingress controller end to end: real HTTP backends behind services (manual Endpoints),
// reached through the ingress listener and the service proxy. Host and path rules, Prefix by
// whole path elements, wildcard hosts, 404 for what no rule covers, request bodies and
// X-Forwarded headers passed on, status and the default IngressClass published.
import { afterAll, beforeAll, expect, test } from "bun:test";
import net from "node:net";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/wait.ts";

let cluster: TestCluster;
let port: number;
const backends: { stop(force?: boolean): unknown }[] = [];
beforeAll(async () => {
  port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  cluster = await startCluster({ runtime: "sim", config: { ingressPort: port } });
}, 60_000);
afterAll(async () => {
  for (const b of backends) b.stop(true);
  await cluster.close();
}, 60_000);

/** A service without selector whose Endpoints point at an HTTP server answering `name`. */
async function backendService(ns: string, name: string, portName?: string): Promise<void> {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const body = req.method === "POST" ? await req.text() : "";
      return new Response(`${name}${body ? `:${body}` : ""}`, {
        headers: { "x-backend": name, "x-seen-host": req.headers.get("x-forwarded-host") ?? "" },
      });
    },
  });
  backends.push(server);
  await cluster.client.resource("services", ns).create({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name },
    spec: { ports: [{ name: portName ?? "web", port: 80 }] },
  });
  await cluster.client.resource("endpoints", ns).create({
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: { name },
    subsets: [{ addresses: [{ ip: "127.0.0.1" }], ports: [{ name: portName ?? "web", port: server.port! }] }],
  });
}

const get = async (host: string, path: string, init: RequestInit = {}) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    ...init,
    headers: { host, connection: "close", ...(init.headers as Record<string, string>) },
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
};

test("host and path rules reach their services; anything else is 404", async () => {
  await cluster.client
    .resource("namespaces")
    .create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "other" } });
  await backendService("default", "web");
  await backendService("default", "api", "http");
  await backendService("other", "wild");
  await cluster.client.resource("ingresses.networking.k8s.io", "default").create({
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: "site" },
    spec: {
      ingressClassName: "nginx",
      rules: [
        {
          host: "web.test",
          http: {
            paths: [
              { path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { number: 80 } } } },
              { path: "/api", pathType: "Prefix", backend: { service: { name: "api", port: { name: "http" } } } },
            ],
          },
        },
      ],
    },
  } as any);
  await cluster.client.resource("ingresses.networking.k8s.io", "other").create({
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: "wild" },
    spec: {
      rules: [
        {
          host: "*.wild.test",
          http: {
            paths: [{ path: "/", pathType: "Exact", backend: { service: { name: "wild", port: { number: 80 } } } }],
          },
        },
      ],
    },
  } as any);

  // The proxy applies each service's endpoints a moment after they are written.
  const answers = async (host: string, path: string, want: string) =>
    (await get(host, path).catch(() => ({ text: "" }))).text === want;
  await waitFor(
    "every backend answers",
    async () =>
      (await answers("web.test", "/", "web")) &&
      (await answers("web.test", "/api", "api")) &&
      (await answers("x.wild.test", "/", "wild")),
    10_000,
  );
  expect((await get("web.test", "/api/v1/things")).text).toBe("api");
  expect((await get("web.test", "/api")).text).toBe("api");
  expect((await get("web.test", "/apiary")).text).toBe("web");
  expect((await get(`web.test:${port}`, "/index.html")).text).toBe("web");
  expect((await get("x.wild.test", "/")).text).toBe("wild");
  expect((await get("x.wild.test", "/deeper")).status).toBe(404);
  expect((await get("a.b.wild.test", "/")).status).toBe(404);
  expect((await get("elsewhere.test", "/")).status).toBe(404);

  const posted = await get("web.test", "/api/echo", { method: "POST", body: "payload" });
  expect(posted.text).toBe("api:payload");
  expect(posted.headers.get("x-seen-host")).toBe("web.test");
});

test("each Ingress reports the listener's address; a default IngressClass exists", async () => {
  await waitFor(
    "status published",
    async () =>
      ((await cluster.client.resource("ingresses.networking.k8s.io", "default").get("site")) as any).status
        ?.loadBalancer?.ingress?.[0]?.ip === "127.0.0.1",
    10_000,
  );
  const cls: any = await cluster.client.resource("ingressclasses.networking.k8s.io").get("kube");
  expect(cls.metadata.annotations["ingressclass.kubernetes.io/is-default-class"]).toBe("true");
});
