// Which pod updates sync the pod's worker: a change of status alone (the echo of the kubelet's own
// status write) does not, as upstream's pod config source reconciles it instead.
import { expect, test } from "bun:test";
import type { Pod } from "../../api/kinds/pod.ts";
import { statusOnly } from "./kubelet.ts";

const pod = (change: (p: Pod) => void = () => {}): Pod => {
  const p = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "a", namespace: "default", uid: "u1", resourceVersion: "5", labels: { app: "a" } },
    spec: { nodeName: "n1", containers: [{ name: "c", image: "busybox" }] },
    status: { phase: "Pending" },
  } as Pod;
  change(p);
  return p;
};

test("status, resourceVersion and managedFields alone are no reason to sync", () => {
  const next = pod((p) => {
    p.metadata!.resourceVersion = "6";
    p.metadata!.managedFields = [{ manager: "kubelet", operation: "Update" }];
    p.status = { phase: "Running", podIP: "10.88.0.5", conditions: [{ type: "Ready", status: "True" }] };
  });
  expect(statusOnly(pod(), next)).toBe(true);
});

test("a change of spec, labels, annotations or deletion syncs; so does a phase made terminal", () => {
  const changes: ((p: Pod) => void)[] = [
    (p) => (p.spec.activeDeadlineSeconds = 5),
    (p) => (p.metadata!.labels = { app: "b" }),
    (p) => (p.metadata!.annotations = { a: "b" }),
    (p) => (p.metadata!.deletionTimestamp = "2026-12-02T19:00:00Z"),
    (p) => (p.status = { phase: "Failed", reason: "Evicted" }),
  ];
  expect(changes.map((c) => statusOnly(pod(), pod(c)))).toEqual([false, false, false, false, false]);
});
