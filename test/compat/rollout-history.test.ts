// Real kubectl (oldest and newest) on a sim cluster: DaemonSet and StatefulSet history in
// ControllerRevisions (`rollout history`, `--revision`, `undo`, `--to-revision`), pruning to
// revisionHistoryLimit; podtemplates and apiservices served; a node that never reported
// described with Unknown conditions.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeKubeconfig } from "../../src/client/kubeconfig.ts";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";
import { TEST_TOKEN } from "../helpers/api.ts";
import { kubectlRunner } from "../helpers/kubectl.ts";
import { waitFor } from "../helpers/wait.ts";

const VERSIONS = ["1.27", "1.33"];
let cluster: TestCluster;
let work: string;
let kubectl: ReturnType<typeof kubectlRunner>;
let stopHttp: () => Promise<void>;

beforeAll(async () => {
  cluster = await startCluster({ runtime: "sim", simNodes: 2, config: { nodeStartupGracePeriodMs: 1000 } });
  const served = await cluster.api.listen();
  stopHttp = served.stop;
  work = mkdtempSync(join(tmpdir(), "kube-rollout-"));
  writeKubeconfig(join(work, "kubeconfig"), { server: served.url, token: TEST_TOKEN, ca: served.ca, name: "kube" });
  kubectl = kubectlRunner(join(work, "kubeconfig"), work);
}, 60_000);

afterAll(async () => {
  await stopHttp?.();
  await cluster?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

function ok(v: string, ns: string) {
  return async (args: string[], stdin?: string): Promise<string> => {
    const r = await kubectl(v, ["-n", ns, ...args], stdin);
    if (r.code !== 0) throw new Error(`kubectl ${v} ${args.join(" ")} failed (${r.code}): ${r.err}`);
    return r.out;
  };
}

const workload = (kind: "DaemonSet" | "StatefulSet", name: string, image: string, limit = 10) => `
apiVersion: apps/v1
kind: ${kind}
metadata: { name: ${name} }
spec:
  ${kind === "StatefulSet" ? `replicas: 2\n  serviceName: ${name}` : ""}
  revisionHistoryLimit: ${limit}
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      terminationGracePeriodSeconds: 0
      containers: [{ name: c, image: ${image} }]
`;

const images = async (cl: TestCluster, ns: string, app: string) =>
  ((await cl.client.resource("pods", ns).list({ labelSelector: `app=${app}` })).items as any[])
    .filter((p) => !p.metadata.deletionTimestamp)
    .map((p) => p.spec.containers[0].image);

for (const v of VERSIONS) {
  describe(`kubectl ${v}`, () => {
    const ns = `hist-${v.replace(".", "")}`;
    const run = ok(v, ns);

    test("DaemonSet and StatefulSet: rollout history, --revision, undo and --to-revision through " +
      "ControllerRevisions", async () => {
      await cluster.client
        .resource("namespaces")
        .create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
      for (const [kind, res] of [
        ["DaemonSet", "daemonset"],
        ["StatefulSet", "statefulset"],
      ] as const) {
        const name = `${res.slice(0, 2)}`;
        await run(["apply", "-f", "-"], workload(kind, name, "localhost/busybox:1"));
        await run(["rollout", "status", `${res}/${name}`, "--timeout=60s"]);
        await run(["set", "image", `${res}/${name}`, "c=localhost/busybox:2"]);
        await run(["rollout", "status", `${res}/${name}`, "--timeout=60s"]);
        await waitFor(
          `${kind} pods on image 2`,
          async () => (await images(cluster, ns, name)).every((i) => i === "localhost/busybox:2"),
          30_000,
        );

        const revs = await run(["get", "controllerrevisions", "-l", `app=${name}`]);
        expect(revs).toMatch(/^NAME\s+CONTROLLER\s+REVISION\s+AGE/m);
        expect(revs).toMatch(new RegExp(`^${name}-\\w+\\s+${res}.apps/${name}\\s+2\\s`, "m"));
        const history = await run(["rollout", "history", `${res}/${name}`]);
        expect(history).toContain(`${res}.apps/${name}`);
        expect(history).toMatch(/^1\s+<none>/m);
        expect(history).toMatch(/^2\s+<none>/m);
        expect(await run(["rollout", "history", `${res}/${name}`, "--revision=1"])).toContain("localhost/busybox:1");

        expect(await run(["rollout", "undo", `${res}/${name}`])).toContain(`${res}.apps/${name} rolled back`);
        await run(["rollout", "status", `${res}/${name}`, "--timeout=60s"]);
        await waitFor(
          `${kind} pods back on image 1`,
          async () => (await images(cluster, ns, name)).every((i) => i === "localhost/busybox:1"),
          30_000,
        );
        // The undone revision came back as number 3; 1 is gone from the list, as upstream.
        const after = await run(["rollout", "history", `${res}/${name}`]);
        expect(after).not.toMatch(/^1\s/m);
        expect(after).toMatch(/^3\s/m);
        expect(await run(["rollout", "undo", `${res}/${name}`, "--to-revision=2"])).toContain("rolled back");
        await waitFor(
          `${kind} pods on image 2 again`,
          async () => (await images(cluster, ns, name)).every((i) => i === "localhost/busybox:2"),
          30_000,
        );
        const missing = await kubectl(v, ["-n", ns, "rollout", "undo", `${res}/${name}`, "--to-revision=9"]);
        expect(missing.code).not.toBe(0);
        expect(missing.err).toContain("unable to find specified revision 9 in history");
      }
      // A StatefulSet's pods carry the revision name; status names current and update revisions.
      const sts: any = await waitFor(
        "rollout complete",
        async () => {
          const s: any = await cluster.client.resource("statefulsets", ns).get("st");
          return s.status.currentRevision === s.status.updateRevision && s.status.updatedReplicas === 2 && s;
        },
        30_000,
      );
      expect(sts.status).toMatchObject({ currentReplicas: 2, collisionCount: 0 });
      const pods = (await cluster.client.resource("pods", ns).list({ labelSelector: "app=st" })).items as any[];
      expect(pods.map((p) => p.metadata.labels["controller-revision-hash"])).toEqual([
        sts.status.updateRevision,
        sts.status.updateRevision,
      ]);
      const rev: any = await cluster.client.resource("controllerrevisions", ns).get(sts.status.updateRevision);
      expect(rev.data.spec.template.$patch).toBe("replace");
      expect(rev.data.spec.template.spec.containers[0].image).toBe("localhost/busybox:2");
      expect(rev.metadata.ownerReferences[0]).toMatchObject({ kind: "StatefulSet", name: "st", controller: true });
    }, 240_000);

    test("old revisions are pruned to revisionHistoryLimit; podtemplates and apiservices are served", async () => {
      await run(["apply", "-f", "-"], workload("DaemonSet", "pruned", "localhost/busybox:1", 1));
      for (const tag of ["2", "3", "4"]) {
        await run(["set", "image", "daemonset/pruned", `c=localhost/busybox:${tag}`]);
        await run(["rollout", "status", "daemonset/pruned", "--timeout=60s"]);
      }
      const revs = await waitFor(
        "pruned to current + 1",
        async () => {
          const items = (await cluster.client.resource("controllerrevisions", ns).list({ labelSelector: "app=pruned" }))
            .items as any[];
          return items.length === 2 ? items : undefined;
        },
        30_000,
      );
      expect(revs.map((r: any) => r.revision).sort()).toEqual([3, 4]);

      await run(
        ["apply", "-f", "-"],
        `apiVersion: v1
kind: PodTemplate
metadata: { name: tpl }
template:
  metadata: { labels: { app: tpl, tier: web } }
  spec: { containers: [{ name: c, image: localhost/busybox:1 }] }
`,
      );
      expect(await run(["get", "podtemplates"])).toMatch(/^tpl\s+c\s+localhost\/busybox:1\s+app=tpl,tier=web$/m);
      expect(
        ((await cluster.client.resource("podtemplates", ns).get("tpl")) as any).template.spec.containers[0]
          .terminationMessagePath,
      ).toBe("/dev/termination-log");

      const apisvc = `v1.${v.replace(".", "")}.example.com`;
      await run(
        ["apply", "-f", "-"],
        `apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: { name: ${apisvc} }
spec: { group: ${v.replace(".", "")}.example.com, version: v1, groupPriorityMinimum: 100, versionPriority: 10, service: { namespace: ${ns}, name: ext } }
`,
      );
      expect(await run(["get", "apiservices", apisvc])).toMatch(
        new RegExp(`^${apisvc.replace(/\./g, "\\.")}\\s+${ns}/ext\\s+Unknown\\s`, "m"),
      );
      const bad = await kubectl(
        v,
        ["apply", "-f", "-"],
        `apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: { name: wrong.example.com }
spec: { group: example.com, version: v1, groupPriorityMinimum: 100, versionPriority: 10 }
`,
      );
      expect(bad.err).toContain(
        'metadata.name: Invalid value: "wrong.example.com": must be `spec.version+"."+spec.group`: "v1.example.com"',
      );
    }, 240_000);
  });
}

test("a node that never reported shows Unknown conditions in kubectl describe", async () => {
  await cluster.client
    .resource("nodes")
    .create({ apiVersion: "v1", kind: "Node", metadata: { name: "never-reported" } });
  await waitFor(
    "conditions set",
    async () =>
      ((await cluster.client.resource("nodes").get("never-reported")) as any).status?.conditions?.length === 4,
  );
  for (const v of VERSIONS) {
    const r = await kubectl(v, ["describe", "node", "never-reported"]);
    expect(r.err).toBe("");
    expect(r.out).toMatch(/^\s+Ready\s+Unknown\s+.*NodeStatusNeverUpdated\s+Kubelet never posted node status\.$/m);
    expect(r.out).toMatch(/^\s+MemoryPressure\s+Unknown\s+.*NodeStatusNeverUpdated/m);
  }
});
