// The cluster DNS and the LoadBalancer address writer act under their own least-privilege
// identities (upstream's system:kube-dns for CoreDNS's service account, system:controller:service-controller),
// not the admin's: they still do their work, and their users may do no more than that.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createSocket } from "node:dgram";
import dnsPacket from "dns-packet";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/wait.ts";

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster({ runtime: "sim" });
}, 60_000);
afterAll(async () => {
  await cluster?.close();
});

const can = async (user: string, verb: string, resource: string, extra: Record<string, string> = {}) => {
  const { body } = await cluster.api.json("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SubjectAccessReview",
    spec: {
      user,
      groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
      resourceAttributes: { verb, resource, ...extra },
    },
  });
  return body.status.allowed === true;
};

function ask(port: number, name: string): Promise<dnsPacket.Packet> {
  const sock = createSocket("udp4");
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error(`no answer for ${name}`));
    }, 2000);
    sock.on("message", (m) => {
      clearTimeout(timer);
      sock.close();
      resolve(dnsPacket.decode(m));
    });
    sock.on("error", reject);
    sock.send(dnsPacket.encode({ type: "query", id: 7, questions: [{ type: "A", name }] }), port, "127.0.0.1");
  });
}

test("the DNS publishes itself and answers from Services as system:serviceaccount:kube-system:kube-dns", async () => {
  const ep = await waitFor(
    "kube-dns Endpoints",
    async () => {
      const r = await cluster.api.json("GET", "/api/v1/namespaces/kube-system/endpoints/kube-dns");
      return r.status === 200 ? r.body : undefined;
    },
    20_000,
  );
  const port = ep.subsets[0].ports[0].port as number;
  const web = (
    await cluster.api.json("POST", "/api/v1/namespaces/default/services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web" },
      spec: { selector: { app: "web" }, ports: [{ port: 80 }] },
    })
  ).body;
  await waitFor(
    "web.default resolves",
    async () =>
      ((await ask(port, "web.default.svc.cluster.local")).answers?.[0] as { data?: string } | undefined)?.data ===
      web.spec.clusterIP,
    10_000,
  );

  const dns = "system:serviceaccount:kube-system:kube-dns";
  expect(await can(dns, "list", "services")).toBe(true);
  expect(await can(dns, "watch", "endpoints")).toBe(true);
  expect(await can(dns, "update", "services", { namespace: "kube-system", name: "kube-dns" })).toBe(true);
  expect(await can(dns, "update", "services", { namespace: "kube-system", name: "other" })).toBe(false);
  expect(await can(dns, "update", "services", { namespace: "default", name: "kube-dns" })).toBe(false);
  expect(await can(dns, "list", "secrets")).toBe(false);
  expect(await can(dns, "delete", "pods", { namespace: "default" })).toBe(false);
});

test("a LoadBalancer service's address is written as system:serviceaccount:kube-system:service-controller", async () => {
  const port = 40_000 + Math.floor(Math.random() * 20_000);
  await cluster.api.json("POST", "/api/v1/namespaces/default/services", {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "front" },
    spec: { type: "LoadBalancer", selector: { app: "x" }, ports: [{ port }] },
  });
  await waitFor(
    "status.loadBalancer",
    async () =>
      (await cluster.api.json("GET", "/api/v1/namespaces/default/services/front")).body.status?.loadBalancer
        ?.ingress?.[0]?.ip,
    20_000,
  );
  const lb = "system:serviceaccount:kube-system:service-controller";
  expect(await can(lb, "patch", "services", { namespace: "default", subresource: "status" })).toBe(true);
  expect(await can(lb, "patch", "services", { namespace: "default" })).toBe(false);
  expect(await can(lb, "list", "secrets")).toBe(false);
  await cluster.api.request("DELETE", "/api/v1/namespaces/default/services/front");
});
