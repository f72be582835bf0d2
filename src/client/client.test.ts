// The client against the real API server and store, through both transports.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Pod } from "../api/kinds/pod.ts";
import type { ReplicationController } from "../api/kinds/workloads.ts";
import type { KubeObject } from "../api/types.ts";
import { createClient } from "./client.ts";
import { startTestApi, TEST_TOKEN, type TestApi } from "../../test/helpers/api.ts";
import { httpTransport, inProcessTransport, type Transport } from "./transport.ts";
import { isAlreadyExists, isConflict, isNotFound } from "./errors.ts";
import { ApiError, type Client, type WatchEvent } from "./types.ts";

let api: TestApi;
let inProcess: Transport;
let http: Transport;
let served: { url: string; ca: string };
beforeAll(async () => {
  // The kubelet's side of pods/log: answers with what it was asked, so the test sees the query arrive.
  api = await startTestApi({
    kubeletProxy: async (req, pod, sub) => {
      const url = new URL(req.url);
      return new Response(
        `${sub} of ${pod.metadata?.name} container=${url.searchParams.get("container")} tail=${url.searchParams.get("tailLines")}\n`,
        {
          headers: { "content-type": "text/plain" },
        },
      );
    },
  });
  served = await api.listen();
  inProcess = inProcessTransport(api.fetch, TEST_TOKEN);
  http = httpTransport(served.url, TEST_TOKEN, { ca: served.ca });
});
afterAll(() => api.close());

const pod = (name: string, labels: Record<string, string> = {}, namespace?: string): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, labels, ...(namespace ? { namespace } : {}) },
  spec: { containers: [{ name: "c", image: "busybox" }] },
});

for (const via of ["in-process", "http"] as const) {
  describe(`client (${via})`, () => {
    let client: Client;
    let ns: string;
    beforeAll(async () => {
      client = createClient(via === "http" ? http : inProcess);
      ns = `client-${via}`;
      await client.resource("namespaces").create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    });

    test("create, get, list, update and delete a pod", async () => {
      const pods = client.resource("pods", ns);
      const created = await pods.create(pod("p1", { app: "web" }));
      expect(created.metadata?.namespace).toBe(ns);
      expect(created.metadata?.uid).toBeString();
      const got = await pods.get("p1");
      expect(got.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);

      const updated = await pods.update({ ...got, metadata: { ...got.metadata, labels: { app: "web", v: "2" } } });
      expect(updated.metadata?.labels).toEqual({ app: "web", v: "2" });

      const list = await pods.list({ labelSelector: "v=2" });
      expect(list.items.map((p) => p.metadata?.name)).toEqual(["p1"]);
      expect(list.metadata.resourceVersion).toBeString();

      await pods.delete("p1", { gracePeriodSeconds: 0 });
      const err = await pods.get("p1").catch((e) => e);
      expect(isNotFound(err)).toBe(true);
    });

    test("errors are ApiErrors carrying the server's Status", async () => {
      const pods = client.resource("pods", ns);
      await pods.create(pod("dup"));
      const exists = await pods.create(pod("dup")).catch((e) => e);
      expect(exists).toBeInstanceOf(ApiError);
      expect(isAlreadyExists(exists)).toBe(true);
      expect(exists.status.kind).toBe("Status");

      const current = await pods.get("dup");
      await pods.update({ ...current, metadata: { ...current.metadata, labels: { a: "1" } } });
      const stale = await pods
        .update({ ...current, metadata: { ...current.metadata, labels: { a: "2" } } })
        .catch((e) => e);
      expect(isConflict(stale)).toBe(true);
      expect(stale.reason).toBe("Conflict");

      const invalid = await pods.create({ ...pod("Bad_Name") }).catch((e) => e);
      expect(invalid.code).toBe(422);
      expect(invalid.reason).toBe("Invalid");
    });

    test("a wrong token is 401 Unauthorized", async () => {
      const bad = createClient(
        via === "http"
          ? httpTransport(served.url, "wrong", { ca: served.ca })
          : { ...inProcess, fetch: (r) => api.fetch(r) },
      );
      const err = await bad
        .resource("pods", ns)
        .list()
        .catch((e) => e);
      expect(err.code).toBe(401);
      expect(err.reason).toBe("Unauthorized");
    });

    test("resource names resolve as kubectl's do: plural, short name, kind, resource.group", async () => {
      await client.resource("deployments.apps", ns).create({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "d1" },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: "d1" } },
          template: { metadata: { labels: { app: "d1" } }, spec: { containers: [{ name: "c", image: "nginx" }] } },
        },
      });
      for (const name of ["deployments", "deploy", "Deployment", "deployments.apps"]) {
        expect((await client.resource(name, ns).get("d1")).kind).toBe("Deployment");
      }
      expect((await client.resource("po", ns).list()).kind).toBe("PodList");
      expect(() => client.resource("widgets")).toThrow(/widgets/);
    });

    test("the object's namespace is used when the client has none, and cluster-scoped kinds ignore it", async () => {
      const all = client.resource("pods");
      const created = await all.create(pod("in-obj-ns", {}, ns));
      expect(created.metadata?.namespace).toBe(ns);
      const names = (await all.list()).items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`);
      expect(names).toContain(`${ns}/in-obj-ns`);
      expect((await client.resource("namespaces", "ignored").get(ns)).metadata?.name).toBe(ns);
    });

    test("patch in all four content types", async () => {
      const pods = client.resource("pods", ns);
      await pods.create(pod("patched", { a: "1" }));
      let p = await pods.patch("patched", { metadata: { labels: { b: "2" } } }, "merge");
      expect(p.metadata?.labels).toEqual({ a: "1", b: "2" });
      p = await pods.patch("patched", [{ op: "add", path: "/metadata/labels/c", value: "3" }], "json");
      expect(p.metadata?.labels).toEqual({ a: "1", b: "2", c: "3" });
      p = await pods.patch("patched", { metadata: { labels: { a: null } } }, "strategic");
      expect(p.metadata?.labels).toEqual({ b: "2", c: "3" });
      const cm = client.resource("configmaps", ns);
      const applied = await cm.patch(
        "cfg",
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg" }, data: { k: "v" } },
        "apply",
        { fieldManager: "test" },
      );
      expect(applied.data).toEqual({ k: "v" });
    });

    test("dryRun validates without storing", async () => {
      const pods = client.resource("pods", ns);
      await pods.create(pod("dry"), { dryRun: true });
      expect(isNotFound(await pods.get("dry").catch((e) => e))).toBe(true);
    });

    test("list pages with limit and continue", async () => {
      const cms = client.resource("configmaps", ns);
      for (let i = 0; i < 5; i++)
        await cms.create({
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: `page-${i}`, labels: { page: "yes" } },
        });
      const names: string[] = [];
      let cont: string | undefined;
      let pages = 0;
      do {
        const page = await cms.list({ labelSelector: "page=yes", limit: 2, continue: cont });
        names.push(...page.items.map((c) => c.metadata!.name!));
        cont = page.metadata.continue;
        pages++;
      } while (cont);
      expect(pages).toBe(3);
      expect(names.sort()).toEqual(["page-0", "page-1", "page-2", "page-3", "page-4"]);
    });

    test("deleteCollection removes what the selector matches", async () => {
      const cms = client.resource("configmaps", ns);
      await cms.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "dc-1", labels: { dc: "yes" } } });
      await cms.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "dc-2", labels: { dc: "no" } } });
      await cms.deleteCollection({ labelSelector: "dc=yes" });
      expect((await cms.list({ labelSelector: "dc" })).items.map((c) => c.metadata?.name)).toEqual(["dc-2"]);
    });

    test("status and scale subresources", async () => {
      const rcs = client.resource<ReplicationController>("replicationcontrollers", ns);
      const rc = await rcs.create({
        apiVersion: "v1",
        kind: "ReplicationController",
        metadata: { name: "rc1" },
        spec: {
          replicas: 1,
          selector: { app: "rc1" },
          template: { metadata: { labels: { app: "rc1" } }, spec: { containers: [{ name: "c", image: "busybox" }] } },
        },
      });
      const withStatus = await rcs.updateStatus({ ...rc, status: { replicas: 1 } });
      expect(withStatus.status?.replicas).toBe(1);
      const scale = await rcs.getSubresource<{ kind: string; spec: { replicas: number } }>("rc1", "scale");
      expect(scale.kind).toBe("Scale");
      expect(scale.spec.replicas).toBe(1);
      await rcs.updateSubresource("rc1", "scale", { ...scale, spec: { replicas: 4 } });
      expect((await rcs.get("rc1")).spec.replicas).toBe(4);
      const patched = await rcs.patch("rc1", { spec: { replicas: 2 } }, "merge", { subresource: "scale" });
      expect(patched.spec.replicas).toBe(2);
    });

    test("binding a pod through the binding subresource", async () => {
      const pods = client.resource<Pod>("pods", ns);
      await pods.create(pod("to-bind"));
      await pods.createSubresource("to-bind", "binding", {
        apiVersion: "v1",
        kind: "Binding",
        metadata: { name: "to-bind" },
        target: { apiVersion: "v1", kind: "Node", name: "node-1" },
      });
      expect((await pods.get("to-bind")).spec.nodeName).toBe("node-1");
    });

    test("watch from a list's resourceVersion sees changes in order, and close() ends it", async () => {
      const cms = client.resource("configmaps", ns);
      const start = await cms.list({ fieldSelector: "metadata.name=watched" });
      const w = cms.watch({ resourceVersion: start.metadata.resourceVersion, fieldSelector: "metadata.name=watched" });
      const seen: WatchEvent<KubeObject>[] = [];
      const done = (async () => {
        for await (const ev of w) {
          seen.push(ev);
          if (ev.type === "DELETED") w.close();
        }
      })();
      await cms.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "watched" }, data: { a: "1" } });
      await cms.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "not-watched" } });
      await cms.patch("watched", { data: { a: "2" } }, "merge");
      await cms.delete("watched");
      await done;
      expect(seen.map((e) => [e.type, e.object.metadata?.name, (e.object.data as Record<string, string>)?.a])).toEqual([
        ["ADDED", "watched", "1"],
        ["MODIFIED", "watched", "2"],
        ["DELETED", "watched", "2"],
      ]);
    });

    test("a watch ends when the server's timeoutSeconds passes", async () => {
      const w = client.resource("configmaps", ns).watch({
        resourceVersion: (await client.resource("configmaps", ns).list()).metadata.resourceVersion,
        timeoutSeconds: 1,
      });
      const events: WatchEvent<KubeObject>[] = [];
      for await (const e of w) events.push(e);
      expect(events).toEqual([]);
    });

    test("pods/log comes back as text, with its query parameters passed on", async () => {
      const pods = client.resource("pods", ns);
      await pods.create(pod("logged"));
      const text = await pods.getSubresource<string>("logged", "log", { container: "c", tailLines: "5" });
      expect(text).toBe("log of logged container=c tail=5\n");
      const missing = await pods.getSubresource("nope", "log").catch((e) => e);
      expect(isNotFound(missing)).toBe(true);
    });

    test("raw request returns the response without throwing", async () => {
      const res = await client.request("GET", "/version");
      expect(res.status).toBe(200);
      const missing = await client.request("GET", `/api/v1/namespaces/${ns}/pods/nope`);
      expect(missing.status).toBe(404);
    });
  });
}

test("a client makes one resource client per kind and namespace, each writing where it was asked to", async () => {
  const client = createClient(inProcess);
  expect(client.resource("pods", "default")).toBe(client.resource("pods", "default"));
  expect(client.resource("pods", "kube-system")).not.toBe(client.resource("pods", "default"));
  expect(client.resource("pods")).not.toBe(client.resource("pods", "default"));
  expect(client.resource("configmaps", "default")).not.toBe(client.resource("pods", "default") as never);
  const cm = (name: string) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name } });
  await client.resource("configmaps", "default").create(cm("one-per-ns"));
  await client.resource("configmaps", "kube-system").create(cm("one-per-ns"));
  await client
    .resource("configmaps")
    .create({ ...cm("by-object"), metadata: { name: "by-object", namespace: "kube-public" } });
  expect((await client.resource("configmaps", "kube-system").get("one-per-ns")).metadata?.namespace).toBe(
    "kube-system",
  );
  expect((await client.resource("configmaps", "kube-public").get("by-object")).metadata?.namespace).toBe("kube-public");
});
