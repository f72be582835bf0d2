// For controller tests (a cluster from startCluster({ runtime: "none" })): the test plays the
// kubelet's part by writing pod and node status, as a kubelet would.
import type { KubeObject } from "../../src/api/types.ts";
import { now, rfc3339 } from "../../src/api/time.ts";
import type { Client } from "../../src/client/index.ts";

/** What a kubelet would write: phase, and Ready when running. */
export async function setPodPhase(
  client: Client,
  pod: KubeObject,
  phase: "Running" | "Succeeded" | "Failed",
  ready = phase === "Running",
): Promise<void> {
  const t = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  await client.resource("pods", pod.metadata!.namespace).patch(
    pod.metadata!.name!,
    {
      status: {
        phase,
        startTime: t,
        conditions: [{ type: "Ready", status: ready ? "True" : "False", lastTransitionTime: t }],
      },
    },
    "merge",
    { subresource: "status" },
  );
}

export async function podsOf(client: Client, ns: string, selector: string): Promise<KubeObject[]> {
  return (await client.resource("pods", ns).list({ labelSelector: selector })).items;
}

/** An Event in default last seen at `at` (ms), for the event TTL's tests. */
export const eventAt = (name: string, at: number) => ({
  apiVersion: "v1",
  kind: "Event",
  metadata: { name },
  involvedObject: { kind: "Pod", name: "x", namespace: "default" },
  reason: "Test",
  message: "m",
  lastTimestamp: rfc3339(at),
});

export const template = (labels: Record<string, string>, restartPolicy = "Always") => ({
  metadata: { labels },
  spec: { restartPolicy, containers: [{ name: "c", image: "localhost/busybox:latest" }] },
});

export function readyNode(name: string, labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...labels } },
    status: {
      allocatable: { cpu: "4", memory: "16Gi", pods: "110" },
      conditions: [
        {
          type: "Ready",
          status: "True",
          reason: "KubeletReady",
          lastHeartbeatTime: now(),
        },
      ],
    },
  };
}

/**
 * Plays a kubelet for controller tests: every pod that appears gets Running, Ready and an IP
 * (10.99.x.y). Returns a stop function.
 */
export function autoReady(client: Client, ready: (pod: KubeObject) => boolean = () => true): () => void {
  const w = client.resource("pods").watch();
  let n = 0;
  void (async () => {
    try {
      for await (const ev of w) {
        const p = ev.object as any;
        if (ev.type !== "ADDED" || p.status?.phase === "Running") continue;
        n++;
        const t = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
        await client
          .resource("pods", p.metadata.namespace)
          .patch(
            p.metadata.name,
            {
              status: {
                phase: "Running",
                podIP: `10.99.${n >> 8}.${n & 255}`,
                conditions: [{ type: "Ready", status: ready(p) ? "True" : "False", lastTransitionTime: t }],
              },
            },
            "merge",
            { subresource: "status" },
          )
          .catch(() => {});
      }
    } catch {}
  })();
  return () => w.close();
}
