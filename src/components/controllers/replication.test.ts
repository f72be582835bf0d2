// ReplicationControllers, ReplicaSets, Deployments and Endpoints with pods that a stand-in
// kubelet marks Running and Ready.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { waitFor } from "../../../test/helpers/wait.ts";
import { pod } from "../../../test/helpers/api.ts";
import { startCluster, type TestCluster } from "../../../test/helpers/cluster.ts";
import { autoReady, podsOf, template } from "../../../test/helpers/controllers.ts";

let env: TestCluster;
let stopKubelet: () => void;
beforeAll(async () => {
  env = await startCluster({ runtime: "none" });
  stopKubelet = autoReady(env.client);
});
afterAll(async () => {
  stopKubelet();
  await env.close();
});

const live = async (sel: string) =>
  (await podsOf(env.client, "default", sel)).filter((p: any) => !p.metadata.deletionTimestamp);
const rc = (name: string, labels: Record<string, string>, replicas: number, image = "localhost/busybox:latest") => ({
  apiVersion: "v1",
  kind: "ReplicationController",
  metadata: { name },
  spec: {
    replicas,
    selector: labels,
    template: {
      metadata: { labels },
      spec: { containers: [{ name: "c", image, ports: [{ name: "http", containerPort: 8080 }] }] },
    },
  },
});

test("a ReplicationController keeps exactly its replicas, scaling up and down and replacing deleted pods", async () => {
  const rcs = env.client.resource("replicationcontrollers", "default");
  await rcs.create(rc("web", { app: "web", track: "stable" }, 3));
  await waitFor("3 pods", async () => (await live("app=web,track=stable")).length === 3);
  const status: any = await waitFor("status 3 ready", async () => {
    const r: any = await rcs.get("web");
    return r.status?.readyReplicas === 3 ? r.status : undefined;
  });
  expect(status).toMatchObject({ replicas: 3, fullyLabeledReplicas: 3, availableReplicas: 3 });
  const victim: any = (await live("app=web,track=stable"))[0];
  await env.client.resource("pods", "default").delete(victim.metadata.name);
  await waitFor("replaced", async () => {
    const pods = await live("app=web,track=stable");
    return pods.length === 3 && !pods.some((p: any) => p.metadata.uid === victim.metadata.uid);
  });
  await rcs.patch("web", { spec: { replicas: 1 } }, "merge", { subresource: "scale" });
  await waitFor("1 pod", async () => (await live("app=web,track=stable")).length === 1);
  await rcs.patch("web", { spec: { replicas: 4 } }, "merge");
  await waitFor("4 pods", async () => (await live("app=web,track=stable")).length === 4);
});

test("stable and canary tracks live side by side behind one service", async () => {
  await env.client
    .resource("replicationcontrollers", "default")
    .create(rc("web-canary", { app: "web", track: "canary" }, 1, "localhost/busybox:v2"));
  await env.client.resource("services", "default").create({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web" },
    spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: "http" }] },
  });
  const ep: any = await waitFor("5 endpoints", async () => {
    const e: any = await env.client
      .resource("endpoints", "default")
      .get("web")
      .catch(() => undefined);
    return e?.subsets?.[0]?.addresses?.length === 5 ? e : undefined;
  });
  expect(ep.subsets[0].ports).toEqual([{ port: 8080, protocol: "TCP" }]);
  expect((await live("app=web,track=stable")).length).toBe(4);
  expect((await live("app=web,track=canary")).length).toBe(1);
});

test("an orphan pod matching a ReplicaSet's selector is adopted and counts toward replicas", async () => {
  const orphan = pod("orphan-1", { labels: { app: "adopt" } });
  await env.client.resource("pods", "default").create(orphan);
  await env.client.resource("replicasets", "default").create({
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name: "adopter" },
    spec: { replicas: 2, selector: { matchLabels: { app: "adopt" } }, template: template({ app: "adopt" }) },
  });
  await waitFor("2 pods with the orphan adopted", async () => {
    const pods = await live("app=adopt");
    const o: any = pods.find((p: any) => p.metadata.name === "orphan-1");
    return pods.length === 2 && o?.metadata.ownerReferences?.[0]?.name === "adopter";
  });
});

test("a rolling update moves a Deployment to the new template without dropping below replicas - maxUnavailable", async () => {
  const deploys = env.client.resource("deployments", "default");
  await deploys.create({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "roll" },
    spec: {
      replicas: 4,
      selector: { matchLabels: { app: "roll" } },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } },
      template: template({ app: "roll" }),
    },
  });
  const done = (image: string) => async () => {
    const d: any = await deploys.get("roll");
    const s = d.status ?? {};
    return (
      d.metadata.generation <= s.observedGeneration &&
      s.updatedReplicas === 4 &&
      s.replicas === 4 &&
      s.availableReplicas === 4 &&
      d.spec.template.spec.containers[0].image === image
    );
  };
  await waitFor("first rollout", done("localhost/busybox:latest"));
  let minReady = Infinity;
  let maxTotal = 0;
  const watch = env.client.resource("pods", "default").watch({ labelSelector: "app=roll" });
  const seen = new Map<string, any>();
  const observer = (async () => {
    for await (const ev of watch) {
      const p: any = ev.object;
      if (ev.type === "DELETED" || p.metadata.deletionTimestamp) seen.delete(p.metadata.name);
      else seen.set(p.metadata.name, p);
      const ready = [...seen.values()].filter((x) =>
        x.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True"),
      ).length;
      if (seen.size >= 4) minReady = Math.min(minReady, ready);
      maxTotal = Math.max(maxTotal, seen.size);
    }
  })();
  await deploys.patch(
    "roll",
    { spec: { template: { spec: { containers: [{ name: "c", image: "localhost/busybox:v2" }] } } } },
    "strategic",
  );
  await waitFor("second rollout", done("localhost/busybox:v2"), 15_000);
  watch.close();
  await observer;
  expect(minReady).toBeGreaterThanOrEqual(3);
  expect(maxTotal).toBeLessThanOrEqual(5);
  const rss = (await env.client.resource("replicasets", "default").list({ labelSelector: "app=roll" })).items as any[];
  expect(rss.map((r) => [r.metadata.annotations["deployment.kubernetes.io/revision"], r.spec.replicas]).sort()).toEqual(
    [
      ["1", 0],
      ["2", 4],
    ],
  );
  const d: any = await deploys.get("roll");
  expect(d.metadata.annotations["deployment.kubernetes.io/revision"]).toBe("2");
  expect(d.status.conditions.find((c: any) => c.type === "Available").status).toBe("True");
  expect(d.status.conditions.find((c: any) => c.type === "Progressing").reason).toBe("NewReplicaSetAvailable");
});

test("Recreate stops every old pod before starting new ones; history is pruned to revisionHistoryLimit", async () => {
  const deploys = env.client.resource("deployments", "default");
  await deploys.create({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "rec" },
    spec: {
      replicas: 2,
      revisionHistoryLimit: 1,
      strategy: { type: "Recreate" },
      selector: { matchLabels: { app: "rec" } },
      template: template({ app: "rec" }),
    },
  });
  for (const tag of ["v2", "v3", "v4"]) {
    await deploys.patch(
      "rec",
      { spec: { template: { spec: { containers: [{ name: "c", image: `localhost/busybox:${tag}` }] } } } },
      "strategic",
    );
    await waitFor(
      `rolled to ${tag}`,
      async () => {
        const pods = await live("app=rec");
        return pods.length === 2 && pods.every((p: any) => p.spec.containers[0].image === `localhost/busybox:${tag}`);
      },
      15_000,
    );
  }
  await waitFor(
    "history pruned",
    async () =>
      (await env.client.resource("replicasets", "default").list({ labelSelector: "app=rec" })).items.length === 2,
  );
});

test("endpoints list not-ready pods separately and resolve named ports per pod", async () => {
  const stop = autoReady(env.client, (p: any) => !p.metadata.name.startsWith("nr-"));
  stopKubelet();
  try {
    const mk = (name: string, port: number) => ({
      ...pod(name, { labels: { app: "ep" } }),
      spec: { containers: [{ name: "c", image: "i", ports: [{ name: "web", containerPort: port }] }] },
    });
    await env.client.resource("pods", "default").create(mk("ok-1", 8080));
    await env.client.resource("pods", "default").create(mk("nr-1", 9090));
    await env.client.resource("services", "default").create({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "ep" },
      spec: { selector: { app: "ep" }, ports: [{ port: 80, targetPort: "web" }] },
    });
    const ep: any = await waitFor("two subsets", async () => {
      const e: any = await env.client
        .resource("endpoints", "default")
        .get("ep")
        .catch(() => undefined);
      return e?.subsets?.length === 2 ? e : undefined;
    });
    const ready = ep.subsets.find((s: any) => s.addresses);
    const notReady = ep.subsets.find((s: any) => s.notReadyAddresses);
    expect(ready.ports[0].port).toBe(8080);
    expect(ready.addresses[0].targetRef.name).toBe("ok-1");
    expect(notReady.ports[0].port).toBe(9090);
    await env.client.resource("services", "default").delete("ep");
    await waitFor("endpoints removed with the service", () =>
      env.client
        .resource("endpoints", "default")
        .get("ep")
        .then(
          () => false,
          () => true,
        ),
    );
  } finally {
    stop();
    stopKubelet = autoReady(env.client);
  }
});
