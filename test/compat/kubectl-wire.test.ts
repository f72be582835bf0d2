// Upstream rules kubectl's own test suite relies on, with real kubectl 1.27 and 1.33: protected
// namespaces, a raw create of the wrong kind, and `kubectl autoscale` (autoscaling/v1 on 1.27,
// v2 on 1.33) getting the v2 default metric.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { kubectlAgainstTestApi, type kubectlRunner } from "../helpers/kubectl.ts";

let env: Awaited<ReturnType<typeof kubectlAgainstTestApi>>;
let work: string;
let kubectl: ReturnType<typeof kubectlRunner>;
beforeAll(async () => {
  env = await kubectlAgainstTestApi("kube-kubectl-wire");
  ({ work, kubectl } = env);
  writeFileSync(
    join(work, "pod.json"),
    JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "valid-pod" },
      spec: { containers: [{ name: "c", image: "busybox" }] },
    }),
  );
});
afterAll(() => env.close());

for (const v of ["1.27", "1.33"]) {
  describe(`kubectl ${v}`, () => {
    test("default, kube-system and kube-public cannot be deleted", async () => {
      for (const ns of ["default", "kube-system", "kube-public"]) {
        const r = await kubectl(v, ["delete", "namespace", ns]);
        expect(r.code).toBe(1);
        expect(r.err).toContain(
          `Error from server (Forbidden): namespaces "${ns}" is forbidden: this namespace may not be deleted`,
        );
      }
    });

    test("create --raw of a pod at the namespaces endpoint is refused as upstream does", async () => {
      const r = await kubectl(v, ["create", "--raw", "/api/v1/namespaces", "-f", join(work, "pod.json")]);
      expect(r.code).toBe(1);
      expect(r.err).toContain("cannot be handled as a Namespace: converting (v1.Pod)");
    });

    test("managedFields record every write's manager: create, set image, label, patch, apply", async () => {
      const ns = `mf-${v.replace(".", "")}`;
      expect((await kubectl(v, ["create", "namespace", ns])).code).toBe(0);
      const managers = async () => {
        const r = await kubectl(v, ["-n", ns, "get", "deployment", "web", "-o", "json", "--show-managed-fields"]);
        return (
          JSON.parse(r.out).metadata.managedFields as { manager: string; operation: string; fieldsV1: any }[]
        ).map((e) => [e.manager, e.operation, e.fieldsV1]);
      };
      expect((await kubectl(v, ["-n", ns, "create", "deployment", "web", "--image=busybox:1"])).code).toBe(0);
      let m = await managers();
      expect(m.map((e) => e.slice(0, 2))).toEqual([["kubectl-create", "Update"]]);
      expect(m[0]![2]["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"busybox"}']["f:image"]).toEqual({});
      expect((await kubectl(v, ["-n", ns, "set", "image", "deployment/web", "busybox=busybox:2"])).code).toBe(0);
      m = await managers();
      expect(m.map((e) => e[0])).toContain("kubectl-set");
      // The image moved to kubectl-set: kubectl-create no longer owns it.
      expect(
        m.find((e) => e[0] === "kubectl-create")![2]["f:spec"]["f:template"]["f:spec"]["f:containers"][
          'k:{"name":"busybox"}'
        ]["f:image"],
      ).toBeUndefined();
      expect((await kubectl(v, ["-n", ns, "label", "deployment/web", "tier=front"])).code).toBe(0);
      expect(
        (await kubectl(v, ["-n", ns, "patch", "deployment/web", "-p", '{"spec":{"revisionHistoryLimit":5}}'])).code,
      ).toBe(0);
      m = await managers();
      expect(m.map((e) => e[0])).toEqual(["kubectl-create", "kubectl-set", "kubectl-label", "kubectl-patch"]);
      expect(m[3]![2]).toEqual({ "f:spec": { "f:revisionHistoryLimit": {} } });
      const get = await kubectl(v, ["-n", ns, "get", "deployment", "web", "-o", "yaml"]);
      writeFileSync(join(work, `web-${v}.yaml`), get.out.replace("revisionHistoryLimit: 5", "revisionHistoryLimit: 4"));
      const applied = await kubectl(v, ["apply", "-f", join(work, `web-${v}.yaml`)]);
      expect(applied.code).toBe(0);
      m = await managers();
      // The apply changed the one field kubectl-patch owned, so its entry is gone, as upstream.
      expect(m.map((e) => e[0])).toEqual([
        "kubectl-create",
        "kubectl-set",
        "kubectl-label",
        "kubectl-client-side-apply",
      ]);
      expect(m[3]![2]["f:spec"]["f:revisionHistoryLimit"]).toEqual({});
      expect(m.every((e) => e[1] === "Update")).toBe(true);
      // Without --show-managed-fields kubectl hides them, as with a real cluster.
      expect(get.out).not.toContain("managedFields");
    });

    test("autoscale gets CPU at 80% whichever autoscaling version kubectl speaks", async () => {
      const ns = `auto-${v.replace(".", "")}`;
      expect((await kubectl(v, ["create", "namespace", ns])).code).toBe(0);
      expect((await kubectl(v, ["-n", ns, "create", "deployment", "web", "--image=busybox"])).code).toBe(0);
      const made = await kubectl(v, ["-n", ns, "autoscale", "deployment", "web", "--max=3"]);
      expect(made.err).toBe("");
      expect(made.out).toContain("horizontalpodautoscaler.autoscaling/web autoscaled");
      const got = await kubectl(v, [
        "-n",
        ns,
        "get",
        "hpa.v2.autoscaling",
        "web",
        "-o",
        "jsonpath={.spec.metrics[0].resource.target.averageUtilization} {.spec.minReplicas}",
      ]);
      expect(got.out).toBe("80 1");
      const table = await kubectl(v, ["-n", ns, "get", "hpa"]);
      expect(table.out).toMatch(/web\s+Deployment\/web\s+<unknown>\/80%\s+1\s+3\s+0/);
    });
  });
}
