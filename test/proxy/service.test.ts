// Services in front of real pods (Podman): every pod answers through the cluster IP, round
// robin is even, ClientIP sticks, NodePort answers on 127.0.0.1, scaling changes the set
// live, a pod reaches another service through its environment, deleting the service closes it.
// Once for each data plane: userspace listeners, and nftables DNAT where we are root (always in CI).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ensureKubernetesService } from "../../src/components/apiserver/kubernetes-service.ts";
import { kubernetesServiceIp } from "../../src/components/apiserver/service-alloc.ts";
import { TEST_TOKEN } from "../helpers/api.ts";
import { BUSYBOX_IMAGE } from "../helpers/engine.ts";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/wait.ts";

const planes: ("userspace" | "nftables")[] = [
  "userspace",
  ...(process.getuid?.() === 0 || process.env.CI ? (["nftables"] as const) : []),
];

let cluster: TestCluster;
const svcApi = () => cluster.client.resource("services", "default");
// A fresh connection per request (no pooled socket that the server already closed).
const get = async (url: string) =>
  (await fetch(url, { headers: { connection: "close" }, keepalive: false } as RequestInit)).text();

async function hostnames(url: string, n: number): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const name = (await get(url)).trim();
    seen[name] = (seen[name] ?? 0) + 1;
  }
  return seen;
}

describe.each(planes)("%s data plane", (proxyMode) => {
  beforeAll(async () => {
    cluster = await startCluster({ runtime: "engine", config: { proxyMode } });
  }, 60_000);
  afterAll(() => cluster.close(), 60_000);

  test("a service spreads requests over its three pods, follows scaling, and closes when deleted", async () => {
    await cluster.client.resource("replicationcontrollers", "default").create({
      apiVersion: "v1",
      kind: "ReplicationController",
      metadata: { name: "who" },
      spec: {
        replicas: 3,
        selector: { app: "who" },
        template: {
          metadata: { labels: { app: "who" } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [
              {
                name: "web",
                image: BUSYBOX_IMAGE,
                imagePullPolicy: "IfNotPresent",
                command: ["httpd", "-f", "-p", "8080", "-h", "/etc"],
                ports: [{ name: "http", containerPort: 8080 }],
                readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    });
    const svc: any = await svcApi().create({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "who" },
      spec: { type: "NodePort", selector: { app: "who" }, ports: [{ port: 80, targetPort: "http" }] },
    });
    const url = `http://${svc.spec.clusterIP}:80/hostname`;
    const ready = async (n: number) => {
      const ep: any = await cluster.client
        .resource("endpoints", "default")
        .get("who")
        .catch(() => undefined);
      return ep?.subsets?.[0]?.addresses?.length === n;
    };
    await waitFor("3 ready endpoints", () => ready(3), 45_000);
    // Once all three are ready and listening, round robin gives each exactly a third.
    const seen = await waitFor(
      "all three answer evenly",
      async () => {
        const s = await hostnames(url, 9).catch(() => ({}));
        return Object.keys(s).length === 3 && Object.values(s).every((n) => n === 3) ? s : undefined;
      },
      15_000,
    );
    expect(Object.values(seen)).toEqual([3, 3, 3]);
    // The node port shares the service's round robin; another client's connection may take a turn in between.
    const viaNodePort = await waitFor(
      "the node port reaches all three",
      async () => {
        const s = await hostnames(`http://127.0.0.1:${svc.spec.ports[0].nodePort}/hostname`, 3).catch(() => ({}));
        return Object.keys(s).length === 3 ? s : undefined;
      },
      15_000,
    );
    expect(Object.keys(viaNodePort).sort()).toEqual(Object.keys(seen).sort());

    await cluster.client
      .resource("replicationcontrollers", "default")
      .patch("who", { spec: { replicas: 1 } }, "merge", { subresource: "scale" });
    await waitFor("1 endpoint", () => ready(1), 30_000);
    await waitFor(
      "one pod answers",
      async () => Object.keys(await hostnames(url, 4).catch(() => ({}))).length === 1,
      10_000,
    );

    await svcApi().delete("who");
    await waitFor(
      "port closed",
      () =>
        fetch(url).then(
          () => false,
          () => true,
        ),
      10_000,
    );
  });

  test("ClientIP affinity sends every request from the host to the same pod", async () => {
    await cluster.client.resource("replicationcontrollers", "default").create({
      apiVersion: "v1",
      kind: "ReplicationController",
      metadata: { name: "sticky" },
      spec: {
        replicas: 2,
        selector: { app: "sticky" },
        template: {
          metadata: { labels: { app: "sticky" } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [
              {
                name: "web",
                image: BUSYBOX_IMAGE,
                imagePullPolicy: "IfNotPresent",
                command: ["httpd", "-f", "-p", "8080", "-h", "/etc"],
                readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    });
    const svc: any = await svcApi().create({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "sticky" },
      spec: { sessionAffinity: "ClientIP", selector: { app: "sticky" }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    await waitFor(
      "2 endpoints",
      async () =>
        (
          (await cluster.client
            .resource("endpoints", "default")
            .get("sticky")
            .catch(() => undefined)) as any
        )?.subsets?.[0]?.addresses?.length === 2,
      45_000,
    );
    // The proxy applies the endpoints a moment after the Endpoints object changes.
    await waitFor(
      "the service answers",
      () =>
        get(`http://${svc.spec.clusterIP}/hostname`).then(
          () => true,
          () => false,
        ),
      10_000,
    );
    const seen = await hostnames(`http://${svc.spec.clusterIP}/hostname`, 8);
    expect(Object.keys(seen)).toHaveLength(1);
  });

  test("a pod reaches another service through its environment variables", async () => {
    const svc: any = await svcApi().get("sticky");
    await cluster.client.resource("pods", "default").create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "caller" },
      spec: {
        restartPolicy: "Never",
        containers: [
          {
            name: "c",
            image: BUSYBOX_IMAGE,
            imagePullPolicy: "IfNotPresent",
            command: [
              "sh",
              "-c",
              "echo $STICKY_SERVICE_HOST:$STICKY_SERVICE_PORT; for i in $(seq 20); do wget -qO- " +
                "http://$STICKY_SERVICE_HOST:$STICKY_SERVICE_PORT/hostname && exit 0; sleep 0.25; done; exit 1",
            ],
          },
        ],
      },
    });
    const done: any = await waitFor(
      "caller finished",
      async () => {
        const p: any = await cluster.client.resource("pods", "default").get("caller");
        return p.status?.phase === "Succeeded" || p.status?.phase === "Failed" ? p : undefined;
      },
      45_000,
    );
    const logs = await (await cluster.api.request("GET", "/api/v1/namespaces/default/pods/caller/log")).text();
    expect(`${done.status.phase}: ${logs}`).toMatch(/^Succeeded/);
    expect(logs.split("\n")[0]).toMatch(/^\d+\.\d+\.\d+\.\d+:80$/);
    expect(logs.split("\n")[1]).toMatch(/^sticky-/);
    void svc;
  });

  test("a pod in any namespace, even without service links, calls the API server with its service account token", async () => {
    const listening = await cluster.api.listen();
    await ensureKubernetesService({
      fetch: cluster.api.fetch,
      token: TEST_TOKEN,
      clusterIP: kubernetesServiceIp(cluster.serviceCidr),
      address: "127.0.0.1",
      port: Number(new URL(listening.url).port),
    });
    await cluster.client
      .resource("namespaces")
      .create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "apps" } });
    // The controller gives the new namespace its default account; the pod waits for it if need be.
    const sa = "/var/run/secrets/kubernetes.io/serviceaccount";
    const script = [
      "echo $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT",
      "env | grep -c _SERVICE_HOST",
      `cat ${sa}/namespace; echo`,
      `grep -c 'BEGIN CERTIFICATE' ${sa}/ca.crt`,
      `api=https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT; auth="Authorization: Bearer $(cat ${sa}/token)"`,
      `ok=; for i in $(seq 20); do wget -qO- --header "$auth" $api/api/v1/namespaces/$(cat ${sa}/namespace)/pods/in-cluster 2>/dev/null > /tmp/me && grep -o '"name":"in-cluster"' /tmp/me | head -1 && ok=1 && break; sleep 0.25; done; [ -n "$ok" ] || exit 1`,
      // What the account is not bound to stays out of reach: kube-system's Secrets.
      `wget -qO- --header "$auth" $api/api/v1/namespaces/kube-system/secrets 2>&1 | grep -o '403 Forbidden' ` +
        `| head -1; exit 0`,
    ].join("; ");
    // Service accounts hold nothing until bound (RBAC): this one may read the pods of its namespace.
    const rbac = "rbac.authorization.k8s.io";
    await cluster.client.resource(`roles.${rbac}`, "apps").create({
      apiVersion: `${rbac}/v1`,
      kind: "Role",
      metadata: { name: "pod-reader" },
      rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }],
    } as any);
    await cluster.client.resource(`rolebindings.${rbac}`, "apps").create({
      apiVersion: `${rbac}/v1`,
      kind: "RoleBinding",
      metadata: { name: "default-reads-pods" },
      roleRef: { apiGroup: rbac, kind: "Role", name: "pod-reader" },
      subjects: [{ kind: "ServiceAccount", name: "default", namespace: "apps" }],
    } as any);
    await cluster.client.resource("pods", "apps").create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "in-cluster" },
      spec: {
        restartPolicy: "Never",
        enableServiceLinks: false,
        containers: [
          { name: "c", image: BUSYBOX_IMAGE, imagePullPolicy: "IfNotPresent", command: ["sh", "-c", script] },
        ],
      },
    });
    const done: any = await waitFor(
      "in-cluster pod finished",
      async () => {
        const p: any = await cluster.client.resource("pods", "apps").get("in-cluster");
        return p.status?.phase === "Succeeded" || p.status?.phase === "Failed" ? p : undefined;
      },
      45_000,
    );
    const logs = await (await cluster.api.request("GET", "/api/v1/namespaces/apps/pods/in-cluster/log")).text();
    await listening.stop();
    expect(`${done.status.phase}: ${logs}`).toMatch(/^Succeeded/);
    // Only the API server's service (service links are off), the namespace, the CA, the pod read itself, Secrets refused.
    expect(logs.trim().split("\n")).toEqual([
      expect.stringMatching(/^\d+\.\d+\.\d+\.\d+:443$/),
      "1",
      "apps",
      "1",
      '"name":"in-cluster"',
      "403 Forbidden",
    ]);
  });

  test("every namespace gets kube-root-ca.crt with the cluster CA, recreated when deleted", async () => {
    const { testTls } = await import("../helpers/api.ts");
    const ca = (await testTls()).ca;
    const cm = () =>
      cluster.client
        .resource("configmaps", "apps")
        .get("kube-root-ca.crt")
        .then(
          (c: any) => c.data?.["ca.crt"],
          () => undefined,
        );
    await waitFor("published", async () => (await cm()) === ca, 10_000);
    await cluster.client.resource("configmaps", "apps").delete("kube-root-ca.crt");
    await waitFor("published again", async () => (await cm()) === ca, 10_000);
  });

  test("automountServiceAccountToken: false leaves the token out", async () => {
    await cluster.client.resource("pods", "apps").create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "no-token" },
      spec: {
        restartPolicy: "Never",
        automountServiceAccountToken: false,
        containers: [
          {
            name: "c",
            image: BUSYBOX_IMAGE,
            imagePullPolicy: "IfNotPresent",
            command: ["sh", "-c", "ls /var/run/secrets/kubernetes.io/serviceaccount 2>&1; exit 0"],
          },
        ],
      },
    });
    await waitFor(
      "no-token pod finished",
      async () =>
        ((await cluster.client.resource("pods", "apps").get("no-token")) as any).status?.phase === "Succeeded",
      45_000,
    );
    const logs = await (await cluster.api.request("GET", "/api/v1/namespaces/apps/pods/no-token/log")).text();
    expect(logs).toMatch(/No such file or directory/);
  });
});
