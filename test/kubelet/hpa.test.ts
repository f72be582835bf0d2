// Autoscaling with real pods: metrics.k8s.io serves what the kubelet measures (real kubectl top
// reads it), a busy Deployment is scaled up to maxReplicas by its HPA, an idle one down to
// minReplicas after the stabilization window, and a pod without CPU requests is reported instead
// of guessed at. The controllers' clock is a FakeClock stepped a sync period (15 s) at each look, so
// upstream's sync period and 5-minute window pass in seconds.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { writeKubeconfig } from "../../src/client/kubeconfig.ts";
import { BUSYBOX_IMAGE } from "../helpers/engine.ts";
import { TEST_TOKEN } from "../helpers/api.ts";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";
import { kubectlRunner } from "../helpers/kubectl.ts";
import { FakeClock, STEPPED_GRACE_MS, waitStepping } from "../helpers/clock.ts";
import { defaultConfig } from "../../src/components/config.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";

let cluster: TestCluster;
const clock = new FakeClock();
const { hpaSyncPeriodMs } = defaultConfig();
/** Looks once a second, each time a sync period later on the controllers' clock. */
const syncUntil = <T>(what: string, check: () => Promise<T>, timeoutMs: number) =>
  waitStepping(clock, hpaSyncPeriodMs, what, check, timeoutMs, 1000);
let work: string;
beforeAll(async () => {
  cluster = await startCluster({ runtime: "engine", clock, config: { nodeMonitorGracePeriodMs: STEPPED_GRACE_MS } });
  work = mkdtempSync(join(tmpdir(), "kube-hpa-"));
}, 60_000);
afterAll(async () => {
  await cluster.close();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

const deployment = (name: string, replicas: number, command: string[], requests?: Record<string, string>) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: "c",
            image: BUSYBOX_IMAGE,
            imagePullPolicy: "IfNotPresent",
            command,
            resources: requests ? { requests, limits: { cpu: "100m" } } : undefined,
          },
        ],
      },
    },
  },
});
const hpa = (name: string, min: number, max: number) => ({
  apiVersion: "autoscaling/v2",
  kind: "HorizontalPodAutoscaler",
  metadata: { name },
  spec: {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
    minReplicas: min,
    maxReplicas: max,
    metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } }],
  },
});
const deployments = () => cluster.client.resource("deployments.apps", "default");
const hpas = () => cluster.client.resource("horizontalpodautoscalers.autoscaling", "default");

test(
  "a busy deployment scales up to maxReplicas, an idle one down to minReplicas; kubectl top reads the same " +
    "metrics",
  async () => {
    await deployments().create(deployment("busy", 1, ["sh", "-c", "while :; do :; done"], { cpu: "50m" }));
    await deployments().create(deployment("idle", 3, ["sleep", "3600"], { cpu: "50m" }));
    await hpas().create(hpa("busy", 1, 3));
    await hpas().create(hpa("idle", 1, 3));
    const busy: any = await syncUntil(
      "busy scaled to 3",
      async () => {
        const h: any = await hpas().get("busy");
        return ((await deployments().get("busy")) as any).spec.replicas === 3 && h.status?.desiredReplicas === 3
          ? h
          : undefined;
      },
      45_000,
    );
    await syncUntil(
      "idle scaled to 1",
      async () => ((await deployments().get("idle")) as any).spec.replicas === 1,
      45_000,
    );
    expect(busy.status.currentMetrics[0].resource.current.averageUtilization).toBeGreaterThan(55);
    expect(busy.status.conditions.find((c: any) => c.type === "ScalingActive").status).toBe("True");

    const served = await cluster.api.listen();
    try {
      writeKubeconfig(join(work, "kubeconfig"), { server: served.url, token: TEST_TOKEN, ca: served.ca, name: "kube" });
      const kubectl = kubectlRunner(join(work, "kubeconfig"), work);
      const top = await kubectl("1.33", ["top", "pod", "-l", "app=busy", "--no-headers"]);
      expect(top.err).toBe("");
      expect(top.out.trim().split("\n").length).toBeGreaterThanOrEqual(1);
      expect(top.out).toMatch(/^busy-\S+\s+\d+m\s+\d+Mi/m);
      expect((await kubectl("1.33", ["get", "hpa", "busy"])).out).toMatch(
        /busy\s+Deployment\/busy\s+\d+%\/50%\s+1\s+3\s+3/,
      );
    } finally {
      await served.stop();
    }
    for (const n of ["busy", "idle"]) {
      await hpas().delete(n);
      await deployments().delete(n);
    }
  },
);

test("pods without a CPU request make the HPA say so and leave replicas alone", async () => {
  await deployments().create(deployment("norequest", 1, ["sleep", "3600"]));
  await hpas().create(hpa("norequest", 1, 3));
  const h: any = await syncUntil(
    "HPA reports the missing request",
    async () => {
      const h: any = await hpas().get("norequest");
      return h.status?.conditions?.find((c: any) => c.type === "ScalingActive" && /missing request/.test(c.message))
        ? h
        : undefined;
    },
    30_000,
  );
  expect(h.status.conditions.find((c: any) => c.type === "ScalingActive")).toMatchObject({
    status: "False",
    reason: "FailedGetResourceMetric",
    message: expect.stringContaining("missing request for cpu"),
  });
  expect(((await deployments().get("norequest")) as any).spec.replicas).toBe(1);
});
