// Controllers end to end through real kubectl on `kube up --runtime sim` (three hollow nodes):
// scaling, replacement, node loss, release tracks, rolling update and undo, DaemonSets,
// StatefulSet order, drain, cascading deletes and namespace deletion.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startKube, testServiceCidr, type RunningKube } from "../../bench/lib/kube-up.ts";
import { kubectlRunner } from "../helpers/kubectl.ts";
import { waitFor } from "../helpers/wait.ts";

let kube: RunningKube;
// The range's first address belongs to default/kubernetes.
const SERVICE_CIDR = testServiceCidr();
const FIRST_SERVICE_IP = SERVICE_CIDR.replace(/\.0\/\d+$/, ".1");
beforeAll(async () => {
  kube = await startKube([
    "--runtime",
    "sim",
    "--sim-nodes",
    "3",
    "--node-name",
    "hollow",
    "--service-cidr",
    SERVICE_CIDR,
  ]);
}, 60_000);
afterAll(() => kube.stop());

/** kubectl 1.30 against the running kube, with its own discovery cache in the data dir. */
const kubectl = (args: string[], stdin?: string) =>
  kubectlRunner(join(kube.dataDir, "kubeconfig"), kube.dataDir)("1.30", args, stdin);
async function ok(args: string[], stdin?: string): Promise<string> {
  const r = await kubectl(args, stdin);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed: ${r.err}`);
  return r.out;
}
const json = async (args: string[]) => JSON.parse(await ok([...args, "-o", "json"]));
const runningPods = async (selector: string) =>
  (await json(["get", "pods", "-l", selector])).items.filter(
    (p: any) => p.status.phase === "Running" && !p.metadata.deletionTimestamp,
  );

describe("workloads through kubectl", () => {
  test("a deployment scales, replaces deleted pods, rolls out a new image and undoes it", async () => {
    await ok(["create", "deployment", "web", "--image=localhost/busybox:1", "--replicas=3"]);
    await ok(["rollout", "status", "deployment/web", "--timeout=30s"]);
    expect((await runningPods("app=web")).length).toBe(3);
    await ok(["scale", "deployment/web", "--replicas=5"]);
    await waitFor("5 running", async () => (await runningPods("app=web")).length === 5, 15_000);
    const victim = (await runningPods("app=web"))[0].metadata.name;
    await ok(["delete", "pod", victim]);
    await waitFor(
      "replaced",
      async () => {
        const pods = await runningPods("app=web");
        return pods.length === 5 && !pods.some((p: any) => p.metadata.name === victim);
      },
      15_000,
    );
    await ok(["set", "image", "deployment/web", "busybox=localhost/busybox:2"]);
    const status = await ok(["rollout", "status", "deployment/web", "--timeout=30s"]);
    expect(status).toContain('deployment "web" successfully rolled out');
    expect(new Set((await runningPods("app=web")).map((p: any) => p.spec.containers[0].image))).toEqual(
      new Set(["localhost/busybox:2"]),
    );
    const history = await ok(["rollout", "history", "deployment/web"]);
    expect(history).toMatch(/^1\s/m);
    expect(history).toMatch(/^2\s/m);
    await ok(["rollout", "undo", "deployment/web"]);
    await ok(["rollout", "status", "deployment/web", "--timeout=30s"]);
    await waitFor(
      "back on image 1",
      async () => {
        const pods = await runningPods("app=web");
        return pods.length === 5 && pods.every((p: any) => p.spec.containers[0].image === "localhost/busybox:1");
      },
      15_000,
    );
  });

  test("stable and canary tracks run side by side under one service", async () => {
    const rc = (track: string, replicas: number) => `apiVersion: v1
kind: ReplicationController
metadata: { name: front-${track} }
spec:
  replicas: ${replicas}
  selector: { app: front, track: ${track} }
  template:
    metadata: { labels: { app: front, track: ${track} } }
    spec: { containers: [{ name: c, image: localhost/busybox:latest, ports: [{ containerPort: 80 }] }] }
`;
    await ok(["apply", "-f", "-"], `${rc("stable", 3)}---\n${rc("canary", 1)}`);
    await ok(["expose", "rc", "front-stable", "--name=front", "--port=80", "--selector=app=front"]);
    await waitFor(
      "4 endpoints",
      async () => (await json(["get", "endpoints", "front"])).subsets?.[0]?.addresses?.length === 4,
      15_000,
    );
  });

  test("a DaemonSet runs on every node and a StatefulSet starts in order", async () => {
    await ok(
      ["apply", "-f", "-"],
      `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent }
spec:
  selector: { matchLabels: { app: agent } }
  template:
    metadata: { labels: { app: agent } }
    spec: { containers: [{ name: c, image: localhost/busybox:latest }] }
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db }
spec:
  replicas: 3
  serviceName: db
  selector: { matchLabels: { app: db } }
  template:
    metadata: { labels: { app: db } }
    spec: { containers: [{ name: c, image: localhost/busybox:latest }] }
`,
    );
    await waitFor(
      "agent on 3 nodes",
      async () => new Set((await runningPods("app=agent")).map((p: any) => p.spec.nodeName)).size === 3,
      15_000,
    );
    await waitFor(
      "db-0..2 running",
      async () =>
        (await runningPods("app=db"))
          .map((p: any) => p.metadata.name)
          .sort()
          .join() === "db-0,db-1,db-2",
      20_000,
    );
    const created = (await json(["get", "pods", "-l", "app=db"])).items
      .map((p: any) => [p.metadata.name, p.metadata.creationTimestamp])
      .sort();
    expect(created.map((c: string[]) => c[0])).toEqual(["db-0", "db-1", "db-2"]);
    expect(created[0][1] <= created[1][1] && created[1][1] <= created[2][1]).toBe(true);
  });

  test("drain moves controller pods off a node; a deleted node's pods are recreated elsewhere", async () => {
    const nodes = (await json(["get", "nodes"])).items.map((n: any) => n.metadata.name);
    const target = (await runningPods("app=web"))[0].spec.nodeName;
    await ok(["drain", target, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=30s"]);
    await waitFor(
      "no web pods on the drained node",
      async () => {
        const pods = await runningPods("app=web");
        return pods.length === 5 && pods.every((p: any) => p.spec.nodeName !== target);
      },
      30_000,
    );
    await ok(["uncordon", target]);
    const lost = nodes.find((n: string) => n !== target)!;
    await ok(["delete", "node", lost]);
    await waitFor(
      "web pods only on remaining nodes",
      async () => {
        const pods = await runningPods("app=web");
        return pods.length === 5 && pods.every((p: any) => p.spec.nodeName !== lost);
      },
      30_000,
    );
  });

  test("cascading deletes: background removes pods, orphan keeps them", async () => {
    await ok(["delete", "rc", "front-canary", "--cascade=orphan"]);
    await waitFor(
      "canary pod kept without owner",
      async () => {
        const pods = (await json(["get", "pods", "-l", "track=canary"])).items;
        return pods.length === 1 && !pods[0].metadata.ownerReferences;
      },
      15_000,
    );
    await ok(["delete", "rc", "front-stable"]);
    await waitFor(
      "stable pods gone",
      async () => (await json(["get", "pods", "-l", "track=stable"])).items.length === 0,
      15_000,
    );
  });

  test("deleting a namespace deletes what is in it", async () => {
    await ok(["create", "namespace", "scratch"]);
    await ok(["create", "deployment", "tmp", "--image=localhost/busybox:latest", "-n", "scratch"]);
    await waitFor("running", async () => (await json(["get", "pods", "-n", "scratch"])).items.length === 1, 15_000);
    await ok(["delete", "namespace", "scratch", "--timeout=30s"]);
    const r = await kubectl(["get", "namespace", "scratch"]);
    expect(r.code).toBe(1);
  });
});

describe("in-cluster access: the kubernetes service and service account tokens", () => {
  test(
    "default/kubernetes fronts the API server on the first service address, and kubectl reaches the API " +
      "through it",
    async () => {
      const svc = await json(["get", "service", "kubernetes", "-n", "default"]);
      expect(svc.spec.clusterIP).toBe(FIRST_SERVICE_IP);
      expect(svc.spec.ports).toEqual([expect.objectContaining({ name: "https", port: 443, protocol: "TCP" })]);
      const ep = await json(["get", "endpoints", "kubernetes", "-n", "default"]);
      expect(ep.subsets[0].addresses[0].ip).toBe("127.0.0.1");
      expect(ep.subsets[0].ports[0].port).toBe(Number(new URL(kube.url).port));
      // The serving certificate names the service address, so TLS verifies through the proxy.
      const nodes = await waitFor(
        "the API through the service",
        async () => {
          const r = await kubectl(["--server", `https://${FIRST_SERVICE_IP}:443`, "get", "nodes", "-o", "name"]);
          return r.code === 0 ? r.out : undefined;
        },
        10_000,
      );
      expect(nodes).toBe(await ok(["get", "nodes", "-o", "name"]));
      // Pods reach the same API at the container bridge address, so the certificate names it too.
      const { X509Certificate } = await import("node:crypto");
      const cert = new X509Certificate(readFileSync(join(kube.dataDir, "pki", "apiserver.crt")));
      expect(cert.subjectAltName).toContain("IP Address:10.88.0.1");
      expect(cert.subjectAltName).toContain("DNS:kubernetes.default.svc");
      expect(nodes).toContain("node/");
    },
  );

  test("kubectl create token gives a service account token that kubectl can use", async () => {
    await waitFor(
      "the default service account",
      async () => (await kubectl(["get", "serviceaccount", "default"])).code === 0,
      10_000,
    );
    const token = (await ok(["create", "token", "default", "--duration=1h"])).trim();
    expect(JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()).sub).toBe(
      "system:serviceaccount:default:default",
    );
    // The token authenticates as the account, which holds no permissions until bound (RBAC).
    const asAccount = await kubectl(["--token", token, "get", "serviceaccount", "default", "-o", "name"]);
    expect(asAccount.err).toContain(
      'User "system:serviceaccount:default:default" cannot get resource "serviceaccounts"',
    );
    const refused = await kubectl(["--token", `${token.slice(0, -4)}AAAA`, "get", "pods"]);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(/Unauthorized|provide credentials/);
  });
});

describe("disruption budgets", () => {
  test("drain waits for a PodDisruptionBudget: refused while it allows no disruption, done once it allows one", async () => {
    await ok(["create", "deployment", "guarded", "--image=localhost/busybox:1", "--replicas=2"]);
    await ok(["rollout", "status", "deployment/guarded", "--timeout=30s"]);
    await ok(
      ["apply", "-f", "-"],
      "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: { name: guarded }\nspec: { minAvailable: " +
        "2, selector: { matchLabels: { app: guarded } } }\n",
    );
    await waitFor(
      "budget computed",
      async () => (await json(["get", "pdb", "guarded"])).status?.currentHealthy === 2,
      10_000,
    );
    expect((await json(["get", "pdb", "guarded"])).status).toMatchObject({
      expectedPods: 2,
      desiredHealthy: 2,
      disruptionsAllowed: 0,
    });
    const target = (await runningPods("app=guarded"))[0].spec.nodeName;
    const refused = await kubectl(["drain", target, "--pod-selector=app=guarded", "--timeout=3s"]);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain("Cannot evict pod as it would violate the pod's disruption budget");
    expect((await runningPods("app=guarded")).length).toBe(2);

    await ok(["patch", "pdb", "guarded", "--type=merge", "-p", '{"spec":{"minAvailable":1}}']);
    await waitFor(
      "one disruption allowed",
      async () => (await json(["get", "pdb", "guarded"])).status?.disruptionsAllowed === 1,
      10_000,
    );
    await ok(["drain", target, "--pod-selector=app=guarded", "--timeout=30s"]);
    await waitFor(
      "guarded pods moved off the node",
      async () => {
        const pods = await runningPods("app=guarded");
        return pods.length === 2 && pods.every((p: any) => p.spec.nodeName !== target);
      },
      30_000,
    );
    await ok(["uncordon", target]);
  });
});
