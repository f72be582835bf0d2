// ResourceQuota and Pod Security admission through real kubectl 1.33 on `kube up --runtime sim`:
// upstream's Forbidden messages and warnings, status kept by the resourcequota controller,
// `kubectl describe quota`, and concurrent creates that cannot overshoot a quota.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { startKube, type RunningKube } from "../../bench/lib/kube-up.ts";
import { kubectlRunner } from "../helpers/kubectl.ts";
import { waitFor } from "../helpers/wait.ts";

let kube: RunningKube;
beforeAll(async () => {
  kube = await startKube([
    "--runtime",
    "sim",
    "--sim-nodes",
    "1",
    "--node-name",
    `admission-${process.pid}`,
    "--disable",
    "ingress,proxy",
  ]);
}, 60_000);
afterAll(() => kube.stop());

/** kubectl 1.33 against the running kube, with its own discovery cache in the data dir. */
const kubectl = (args: string[], stdin?: string) =>
  kubectlRunner(join(kube.dataDir, "kubeconfig"), kube.dataDir)("1.33", args, stdin);
async function ok(args: string[], stdin?: string): Promise<{ out: string; err: string }> {
  const r = await kubectl(args, stdin);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed: ${r.err}`);
  return r;
}
const pod = (name: string, resources?: object, securityContext?: object, podSecurity?: object) =>
  JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: {
      ...(podSecurity ? { securityContext: podSecurity } : {}),
      containers: [
        {
          name: "c",
          image: "localhost/busybox:1",
          ...(resources ? { resources } : {}),
          ...(securityContext ? { securityContext } : {}),
        },
      ],
    },
  });
const sized = { requests: { cpu: "600m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } };
const quotaStatus = async (ns: string, name: string) =>
  JSON.parse((await ok(["get", "quota", name, "-n", ns, "-o", "json"])).out).status ?? {};

describe("ResourceQuota", () => {
  test("counts and cpu/memory are enforced with upstream's messages; status.used follows creates and deletes; " +
    "describe shows used/hard", async () => {
    await ok(["create", "namespace", "q"]);
    await ok([
      "create",
      "quota",
      "compute",
      "-n",
      "q",
      "--hard=pods=2,requests.cpu=1,requests.memory=1Gi,limits.cpu=2,limits.memory=2Gi,services=1,count/deployments.apps=1",
    ]);
    await waitFor("quota status", async () => (await quotaStatus("q", "compute")).used?.pods === "0", 15_000);

    const bare = await kubectl(["run", "bare", "-n", "q", "--image=localhost/busybox:1"]);
    expect(bare.code).toBe(1);
    expect(bare.err.trim()).toBe(
      'Error from server (Forbidden): pods "bare" is forbidden: failed quota: compute: must specify ' +
        "limits.cpu for: bare; limits.memory for: bare; requests.cpu for: bare; requests.memory for: bare",
    );

    await ok(["create", "-n", "q", "-f", "-"], pod("a", sized));
    const b = await kubectl(["create", "-n", "q", "-f", "-"], pod("b", sized));
    expect(b.code).toBe(1);
    expect(b.err.trim()).toBe(
      'Error from server (Forbidden): error when creating "STDIN": pods "b" is forbidden: exceeded quota: ' +
        "compute, requested: requests.cpu=600m, used: requests.cpu=600m, limited: requests.cpu=1",
    );
    await waitFor(
      "used counts pod a",
      async () => (await quotaStatus("q", "compute")).used?.["requests.cpu"] === "600m",
      15_000,
    );
    const st = await quotaStatus("q", "compute");
    expect(st.used).toMatchObject({
      pods: "1",
      "requests.cpu": "600m",
      "requests.memory": "256Mi",
      "limits.cpu": "1",
      "limits.memory": "512Mi",
      services: "0",
    });
    expect(st.hard).toMatchObject({ pods: "2", "requests.cpu": "1" });
    const described = (await ok(["describe", "quota", "compute", "-n", "q"])).out;
    expect(described).toMatch(/Resource\s+Used\s+Hard/);
    expect(described).toMatch(/requests\.cpu\s+600m\s+1\n/);
    expect(described).toMatch(/pods\s+1\s+2\n/);

    await ok(["create", "service", "clusterip", "one", "-n", "q", "--tcp=80:80"]);
    const two = await kubectl(["create", "service", "clusterip", "two", "-n", "q", "--tcp=80:80"]);
    expect(two.err.trim()).toBe(
      'error: failed to create ClusterIP service: services "two" is forbidden: exceeded quota: compute, ' +
        "requested: services=1, used: services=1, limited: services=1",
    );
    await ok(["create", "deployment", "d1", "-n", "q", "--image=localhost/busybox:1"]);
    const d2 = await kubectl(["create", "deployment", "d2", "-n", "q", "--image=localhost/busybox:1"]);
    expect(d2.err.trim()).toBe(
      'error: failed to create deployment: deployments.apps "d2" is forbidden: exceeded quota: compute, ' +
        "requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1",
    );

    // Deleting pod a gives its share back: the controller recounts, and b fits.
    await ok(["delete", "pod", "a", "-n", "q", "--grace-period=0", "--force"]);
    await waitFor(
      "used back to 0",
      async () => (await quotaStatus("q", "compute")).used?.["requests.cpu"] === "0",
      15_000,
    );
    await ok(["create", "-n", "q", "-f", "-"], pod("b", sized));
  }, 90_000);

  test("concurrent creates never overshoot a quota; scopes select pods", async () => {
    await ok(["create", "namespace", "race"]);
    await ok(["create", "quota", "three", "-n", "race", "--hard=pods=3"]);
    await ok(["create", "quota", "besteffort", "-n", "race", "--hard=pods=1", "--scopes=BestEffort"]);
    const post = (name: string, resources?: object) =>
      fetch(`${kube.url}/api/v1/namespaces/race/pods`, {
        method: "POST",
        headers: { authorization: `Bearer ${kube.token}`, "content-type": "application/json" },
        body: pod(name, resources),
        tls: { ca: kube.ca },
      } as RequestInit).then((r) => r.status);
    const small = { requests: { cpu: "10m" } };
    const codes = await Promise.all(Array.from({ length: 10 }, (_, i) => post(`p${i}`, small)));
    expect(codes.filter((c) => c === 201).length).toBe(3);
    expect(codes.filter((c) => c === 403).length).toBe(7);
    expect(JSON.parse((await ok(["get", "pods", "-n", "race", "-o", "json"])).out).items.length).toBe(3);
    await ok(["create", "namespace", "scoped"]);
    await ok(["create", "quota", "besteffort", "-n", "scoped", "--hard=pods=1", "--scopes=BestEffort"]);
    await ok(["create", "-n", "scoped", "-f", "-"], pod("be1"));
    const be2 = await kubectl(["create", "-n", "scoped", "-f", "-"], pod("be2"));
    expect(be2.err).toContain(
      'pods "be2" is forbidden: exceeded quota: besteffort, requested: pods=1, used: pods=1, limited: pods=1',
    );
    await ok(["create", "-n", "scoped", "-f", "-"], pod("burstable", small));
  }, 60_000);
});

describe("Pod Security admission", () => {
  const restrictedOk = {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    runAsNonRoot: true,
    seccompProfile: { type: "RuntimeDefault" },
  };

  test("enforce refuses with upstream's message, warn prints upstream's warning; templates only warn; a stricter " +
    "enforce label warns about existing pods", async () => {
    await ok(["create", "namespace", "psa"]);
    await ok([
      "label",
      "namespace",
      "psa",
      "pod-security.kubernetes.io/enforce=baseline",
      "pod-security.kubernetes.io/warn=restricted",
    ]);

    const priv = await kubectl(["run", "priv", "-n", "psa", "--image=localhost/busybox:1", "--privileged"]);
    expect(priv.code).toBe(1);
    expect(priv.err.trim()).toBe(
      'Error from server (Forbidden): pods "priv" is forbidden: violates PodSecurity "baseline:latest": ' +
        'privileged (container "priv" must not set securityContext.privileged=true)',
    );

    const plain = await ok(["run", "plain", "-n", "psa", "--image=localhost/busybox:1"]);
    expect(plain.err.trim()).toBe(
      'Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container ' +
        '"plain" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities ' +
        '(container "plain" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or ' +
        'container "plain" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container ' +
        '"plain" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    );
    const clean = await ok(["create", "-n", "psa", "-f", "-"], pod("clean", undefined, restrictedOk));
    expect(clean.err).toBe("");

    const deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "hostnet" },
      spec: {
        selector: { matchLabels: { app: "h" } },
        template: {
          metadata: { labels: { app: "h" } },
          spec: {
            hostNetwork: true,
            containers: [{ name: "c", image: "localhost/busybox:1", securityContext: restrictedOk }],
          },
        },
      },
    };
    const dep = await ok(["create", "-n", "psa", "-f", "-"], JSON.stringify(deployment));
    expect(dep.out).toContain("deployment.apps/hostnet created");
    expect(dep.err.trim()).toBe(
      'Warning: would violate PodSecurity "restricted:latest": host namespaces (hostNetwork=true)',
    );

    const relabel = await ok([
      "label",
      "--overwrite",
      "namespace",
      "psa",
      "pod-security.kubernetes.io/enforce=restricted",
    ]);
    expect(relabel.err.trim().split("\n")).toEqual(
      [
        'Warning: existing pods in namespace "psa" violate the new PodSecurity enforce level "restricted:latest"',
        "plain: allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile",
      ].map((l, i) => (i ? `Warning: ${l}` : l)),
    );
    const refused = await kubectl(["run", "again", "-n", "psa", "--image=localhost/busybox:1"]);
    expect(refused.err).toContain(
      'pods "again" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false',
    );
  }, 60_000);
});
