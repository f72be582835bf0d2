// Upstream rules kubectl's own test suite relies on, with real kubectl 1.27 and 1.33: protected
// namespaces, a raw create of the wrong kind, and `kubectl autoscale` (autoscaling/v1 on 1.27,
// v2 on 1.33) getting the v2 default metric.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeKubeconfig } from "../../src/client/kubeconfig.ts";
import { startTestApi, TEST_TOKEN, type TestApi } from "../helpers/api.ts";
import { kubectlRunner } from "../helpers/kubectl.ts";

let api: TestApi;
let work: string;
let kubectl: ReturnType<typeof kubectlRunner>;
beforeAll(async () => {
  api = await startTestApi();
  const served = await api.listen();
  work = mkdtempSync(join(tmpdir(), "kube-kubectl-wire-"));
  writeKubeconfig(join(work, "kubeconfig"), { server: served.url, token: TEST_TOKEN, ca: served.ca, name: "kube" });
  kubectl = kubectlRunner(join(work, "kubeconfig"), work);
  writeFileSync(join(work, "pod.json"), JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "valid-pod" }, spec: { containers: [{ name: "c", image: "busybox" }] } }));
});
afterAll(async () => {
  await api.close();
  rmSync(work, { recursive: true, force: true });
});

for (const v of ["1.27", "1.33"]) {
  describe(`kubectl ${v}`, () => {
    test("default, kube-system and kube-public cannot be deleted", async () => {
      for (const ns of ["default", "kube-system", "kube-public"]) {
        const r = await kubectl(v, ["delete", "namespace", ns]);
        expect(r.code).toBe(1);
        expect(r.err).toContain(`Error from server (Forbidden): namespaces "${ns}" is forbidden: this namespace may not be deleted`);
      }
    });

    test("create --raw of a pod at the namespaces endpoint is refused as upstream does", async () => {
      const r = await kubectl(v, ["create", "--raw", "/api/v1/namespaces", "-f", join(work, "pod.json")]);
      expect(r.code).toBe(1);
      expect(r.err).toContain('cannot be handled as a Namespace: converting (v1.Pod)');
    });

    test("autoscale gets CPU at 80% whichever autoscaling version kubectl speaks", async () => {
      const ns = `auto-${v.replace(".", "")}`;
      expect((await kubectl(v, ["create", "namespace", ns])).code).toBe(0);
      expect((await kubectl(v, ["-n", ns, "create", "deployment", "web", "--image=busybox"])).code).toBe(0);
      const made = await kubectl(v, ["-n", ns, "autoscale", "deployment", "web", "--max=3"]);
      expect(made.err).toBe("");
      expect(made.out).toContain("horizontalpodautoscaler.autoscaling/web autoscaled");
      const got = await kubectl(v, ["-n", ns, "get", "hpa.v2.autoscaling", "web", "-o", "jsonpath={.spec.metrics[0].resource.target.averageUtilization} {.spec.minReplicas}"]);
      expect(got.out).toBe("80 1");
      const table = await kubectl(v, ["-n", ns, "get", "hpa"]);
      expect(table.out).toMatch(/web\s+Deployment\/web\s+<unknown>\/80%\s+1\s+3\s+0/);
    });
  });
}
