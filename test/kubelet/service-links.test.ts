// Service links on real containers: the kubelet builds them from its services informer, as
// upstream's kubelet does from its service lister, so a pod start reads no service from the API; a
// container gets the services that exist when it starts, and a restarted kubelet lists them again.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Client } from "../../src/client/index.ts";
import type { TestApi } from "../helpers/api.ts";
import { BUSYBOX_IMAGE } from "../helpers/engine.ts";
import { startTestKubelet, type TestKubelet } from "../helpers/kubelet.ts";
import { waitFor } from "../helpers/wait.ts";

const NODE = `service-links-${process.pid}`;
let node: TestKubelet;
let api: TestApi;
let client: Client;

beforeAll(async () => {
  node = await startTestKubelet(NODE);
  ({ api, client } = node);
}, 60_000);

afterAll(() => node.close());

const service = (name: string, port: number) => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name },
  spec: { selector: { app: name }, ports: [{ name: "web", port }] },
});

/** A pod whose container prints its *_SERVICE_PORT variables (the host may be the node's bridge), sorted, then sleeps. */
const envPod = (name: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name },
  spec: {
    nodeName: NODE,
    terminationGracePeriodSeconds: 1,
    containers: [
      {
        name: "c",
        image: BUSYBOX_IMAGE,
        imagePullPolicy: "IfNotPresent",
        command: ["sh", "-c", "env | grep _SERVICE_PORT= | sort; echo end; sleep 3600"],
      },
    ],
  },
});

/** The service variables a pod's container printed. */
const printedEnv = (name: string) =>
  waitFor(
    `${name} printed its environment`,
    async () => {
      const text = await (await api.request("GET", `/api/v1/namespaces/default/pods/${name}/log`)).text();
      return text.includes("end\n") ? text.slice(0, text.indexOf("end\n")).trim().split("\n") : undefined;
    },
    30_000,
  );

/** The services reads (LIST, GET) the API server has answered, from its request counter. */
async function serviceReads(): Promise<number> {
  const text = await (await api.request("GET", "/metrics")).text();
  return text
    .split("\n")
    .filter((l) => l.startsWith("apiserver_request_total{") && l.includes('resource="services"'))
    .filter((l) => /verb="(LIST|GET)"/.test(l))
    .reduce((n, l) => n + Number(l.split(" ").pop()), 0);
}

const containerOf = async (name: string) =>
  ((await client.resource("pods", "default").get(name)) as any).status?.containerStatuses?.[0];

test("a pod gets the services that exist when its container starts, read from the kubelet's informer; " +
  "a later service reaches later pods only, and a restarted kubelet lists services again", async () => {
  const services = client.resource("services", "default");
  await services.create(service("early", 8080));
  const reads = await serviceReads();

  await client.resource("pods", "default").create(envPod("links-a"));
  expect(await printedEnv("links-a")).toEqual(["EARLY_SERVICE_PORT=8080"]);

  await services.create(service("late", 9090));
  await client.resource("pods", "default").create(envPod("links-b"));
  expect(await printedEnv("links-b")).toEqual(["EARLY_SERVICE_PORT=8080", "LATE_SERVICE_PORT=9090"]);
  // Two pods started without one service read: the informer's cache answered.
  expect(await serviceReads()).toBe(reads);
  // The running container keeps the environment it started with.
  const a = await containerOf("links-a");
  expect(a.restartCount).toBe(0);
  expect(await printedEnv("links-a")).toEqual(["EARLY_SERVICE_PORT=8080"]);

  // A new kubelet lists services before it starts any container.
  await services.delete("early");
  await node.restart();
  await client.resource("pods", "default").create(envPod("links-c"));
  expect(await printedEnv("links-c")).toEqual(["LATE_SERVICE_PORT=9090"]);
  expect(await serviceReads()).toBeGreaterThan(reads);
  // The adopted container of links-a was not restarted.
  expect((await containerOf("links-a")).containerID).toBe(a.containerID);
}, 120_000);
