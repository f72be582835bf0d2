// Which services a pod's service links come from (upstream's getServiceEnvVarMap), read from the
// kubelet's services informer over a real API server.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Pod } from "../../api/kinds/pod.ts";
import { createClient, inProcessTransport, type Client } from "../../client/index.ts";
import { startTestApi, TEST_TOKEN, type TestApi } from "../../../test/helpers/api.ts";
import { waitFor } from "../../../test/helpers/wait.ts";
import { podServices } from "./env.ts";
import { type KubeletListers, startListers } from "./listers.ts";

let api: TestApi;
let client: Client;
let listers: KubeletListers;

const service = (namespace: string, name: string, clusterIP?: string) => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace },
  spec: { ...(clusterIP ? { clusterIP } : {}), ports: [{ port: 80 }] },
});

const podIn = (namespace: string, enableServiceLinks?: boolean) =>
  ({ metadata: { name: "p", namespace }, spec: { containers: [], enableServiceLinks } }) as unknown as Pod;

const names = (pod: Pod) =>
  podServices(listers.services, pod).map((s) => `${s.metadata!.namespace}/${s.metadata!.name}`);

beforeAll(async () => {
  api = await startTestApi();
  client = createClient(inProcessTransport(api.fetch, TEST_TOKEN));
  for (const ns of ["a", "b", "c"])
    await client.resource("namespaces").create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  await client.resource("services", "default").create(service("default", "kubernetes"));
  await client.resource("services", "a").create(service("a", "web"));
  await client.resource("services", "a").create(service("a", "db"));
  await client.resource("services", "b").create(service("b", "kubernetes"));
  await client.resource("services", "c").create(service("c", "kubernetes", "None"));
  listers = await startListers(client);
  await waitFor("the informer has every service", () => listers.services.byIndex("namespace", "c").length === 1);
});

afterAll(async () => {
  listers.stop();
  await api.close();
});

test("a pod gets its namespace's services, sorted by name, and the API server's own service", () => {
  expect(names(podIn("a"))).toEqual(["a/db", "default/kubernetes", "a/web"]);
  expect(names(podIn("default"))).toEqual(["default/kubernetes"]);
});

test("with service links off, only the API server's own service", () => {
  expect(names(podIn("a", false))).toEqual(["default/kubernetes"]);
});

test("a service named kubernetes in the pod's namespace replaces the API server's, unless it is headless", () => {
  expect(names(podIn("b"))).toEqual(["b/kubernetes"]);
  expect(names(podIn("c"))).toEqual(["c/kubernetes", "default/kubernetes"]);
});
