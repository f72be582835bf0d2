// One object of every kind kube serves, for the official-client tests, brought into the states
// an object goes through: created, running (controllers and the kubelet wrote status), finished
// (a completed Job, a Succeeded pod) and deleting (held by a finalizer).
import { expect } from "bun:test";
import type { TestApi } from "../helpers/api.ts";
import { waitFor } from "../helpers/wait.ts";

const labels = (app: string) => ({ app });
const podSpec = (extra: Record<string, unknown> = {}) => ({
  containers: [{ name: "c", image: "localhost/busybox:latest", command: ["sleep", "3600"] }],
  ...extra,
});
const template = (app: string, extra: Record<string, unknown> = {}) => ({
  metadata: { labels: labels(app) },
  spec: podSpec(extra),
});

export function everyKind(ns: string): [path: string, body: Record<string, unknown>][] {
  const n = `/api/v1/namespaces/${ns}`;
  const a = (group: string) => `/apis/${group}/namespaces/${ns}`;
  return [
    [`/api/v1/nodes`, { metadata: { name: `${ns}-ghost` } }],
    [`${n}/pods`, { metadata: { name: "running" }, spec: podSpec() }],
    // On a node that never runs it: its "kubelet" below is the test, writing a finished pod's status.
    [
      `${n}/pods`,
      {
        metadata: { name: "done" },
        spec: {
          nodeName: `${ns}-ghost`,
          restartPolicy: "Never",
          containers: [{ name: "c", image: "localhost/busybox:latest", command: ["true"] }],
        },
      },
    ],
    [`${n}/pods`, { metadata: { name: "held", finalizers: ["example.com/hold"] }, spec: podSpec() }],
    [
      `${n}/services`,
      { metadata: { name: "web" }, spec: { selector: labels("web"), ports: [{ port: 80, targetPort: 8080 }] } },
    ],
    [
      `${n}/replicationcontrollers`,
      { metadata: { name: "rc" }, spec: { replicas: 1, selector: labels("rc"), template: template("rc") } },
    ],
    [`${n}/configmaps`, { metadata: { name: "cm" }, data: { k: "v" } }],
    [`${n}/secrets`, { metadata: { name: "s" }, stringData: { k: "v" } }],
    [
      `${n}/persistentvolumeclaims`,
      {
        metadata: { name: "data" },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Mi" } } },
      },
    ],
    [`${n}/resourcequotas`, { metadata: { name: "q" }, spec: { hard: { pods: "50" } } }],
    [
      `${n}/limitranges`,
      {
        metadata: { name: "lr" },
        spec: { limits: [{ type: "Container", max: { memory: "1Gi" }, default: { memory: "64Mi" } }] },
      },
    ],
    [
      `${n}/events`,
      {
        metadata: { name: "ev" },
        involvedObject: { kind: "Pod", name: "running", namespace: ns },
        reason: "Test",
        message: "hello",
        type: "Normal",
      },
    ],
    [
      `${a("apps/v1")}/deployments`,
      {
        metadata: { name: "web" },
        spec: { replicas: 1, selector: { matchLabels: labels("web") }, template: template("web") },
      },
    ],
    [
      `${a("apps/v1")}/daemonsets`,
      { metadata: { name: "ds" }, spec: { selector: { matchLabels: labels("ds") }, template: template("ds") } },
    ],
    [
      `${a("apps/v1")}/statefulsets`,
      {
        metadata: { name: "db" },
        spec: { serviceName: "db", replicas: 1, selector: { matchLabels: labels("db") }, template: template("db") },
      },
    ],
    [
      `${a("batch/v1")}/jobs`,
      {
        metadata: { name: "once" },
        spec: {
          template: {
            spec: {
              restartPolicy: "Never",
              containers: [{ name: "c", image: "localhost/busybox:latest", command: ["true"] }],
            },
          },
        },
      },
    ],
    [
      `${a("batch/v1")}/cronjobs`,
      {
        metadata: { name: "never" },
        spec: {
          schedule: "59 23 31 2 *",
          jobTemplate: {
            spec: {
              template: {
                spec: { restartPolicy: "Never", containers: [{ name: "c", image: "localhost/busybox:latest" }] },
              },
            },
          },
        },
      },
    ],
    [
      `${a("coordination.k8s.io/v1")}/leases`,
      { metadata: { name: "lock" }, spec: { holderIdentity: "me", leaseDurationSeconds: 15 } },
    ],
    [
      `${a("rbac.authorization.k8s.io/v1")}/roles`,
      { metadata: { name: "reader" }, rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }] },
    ],
    [
      `${a("rbac.authorization.k8s.io/v1")}/rolebindings`,
      {
        metadata: { name: "reader" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "reader" },
        subjects: [{ kind: "ServiceAccount", name: "default", namespace: ns }],
      },
    ],
    [
      `${a("networking.k8s.io/v1")}/ingresses`,
      {
        metadata: { name: "ing" },
        spec: {
          rules: [
            {
              host: "a.test",
              http: {
                paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { number: 80 } } } }],
              },
            },
          ],
        },
      },
    ],
    [`${a("networking.k8s.io/v1")}/networkpolicies`, { metadata: { name: "np" }, spec: { podSelector: {} } }],
    [
      `${a("policy/v1")}/poddisruptionbudgets`,
      { metadata: { name: "pdb" }, spec: { minAvailable: 1, selector: { matchLabels: labels("web") } } },
    ],
    [
      `${a("autoscaling/v2")}/horizontalpodautoscalers`,
      {
        metadata: { name: "hpa" },
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
          minReplicas: 1,
          maxReplicas: 3,
        },
      },
    ],
    [
      `/apis/rbac.authorization.k8s.io/v1/clusterroles`,
      { metadata: { name: `${ns}-reader` }, rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["list"] }] },
    ],
    [
      `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings`,
      {
        metadata: { name: `${ns}-reader` },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: `${ns}-reader` },
        subjects: [{ kind: "User", name: "u", apiGroup: "rbac.authorization.k8s.io" }],
      },
    ],
    [
      `/apis/networking.k8s.io/v1/ingressclasses`,
      { metadata: { name: `${ns}-class` }, spec: { controller: "example.com/ingress" } },
    ],
    [`/apis/scheduling.k8s.io/v1/priorityclasses`, { metadata: { name: `${ns}-high` }, value: 1000 }],
    [`/apis/storage.k8s.io/v1/storageclasses`, { metadata: { name: `${ns}-sc` }, provisioner: "example.com/none" }],
    [
      `/api/v1/persistentvolumes`,
      {
        metadata: { name: `${ns}-pv` },
        spec: { capacity: { storage: "1Mi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: "/tmp/pv" } },
      },
    ],
  ];
}

/** Creates every kind in `ns`, waits for the running and finished states, and starts deleting the held pod. */
export async function createEveryKind(api: TestApi, ns: string): Promise<void> {
  expect((await api.json("POST", "/api/v1/namespaces", { metadata: { name: ns } })).status).toBe(201);
  for (const [path, body] of everyKind(ns)) {
    const r = await api.json("POST", path, body);
    if (r.status !== 201)
      throw new Error(`POST ${path} ${JSON.stringify(body.metadata)}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const get = async (path: string) => (await api.json("GET", path)).body;
  await waitFor(
    "pod running",
    async () => (await get(`/api/v1/namespaces/${ns}/pods/running`)).status?.phase === "Running",
    30_000,
  );
  // Finished states, written through the status subresource with only the fields a writer must give.
  const done = await get(`/api/v1/namespaces/${ns}/pods/done`);
  const finishedAt = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const terminated = {
    state: { terminated: { exitCode: 0, reason: "Completed", finishedAt } },
    name: "c",
    image: "localhost/busybox:latest",
  };
  const podStatus = {
    phase: "Succeeded",
    containerStatuses: [terminated],
    conditions: [{ type: "Ready", status: "False" }],
  };
  const put = await api.json("PUT", `/api/v1/namespaces/${ns}/pods/done/status`, { ...done, status: podStatus });
  expect([put.status, put.body.message]).toEqual([200, undefined]);
  await waitFor(
    "job active",
    async () => ((await get(`/apis/batch/v1/namespaces/${ns}/jobs/once`)).status?.active ?? 0) >= 1,
    30_000,
  );
  await waitFor(
    "deployment ready",
    async () => ((await get(`/apis/apps/v1/namespaces/${ns}/deployments/web`)).status?.readyReplicas ?? 0) >= 1,
    30_000,
  );
  await waitFor(
    "daemonset ready",
    async () => ((await get(`/apis/apps/v1/namespaces/${ns}/daemonsets/ds`)).status?.numberReady ?? 0) >= 1,
    30_000,
  );
  expect((await api.json("DELETE", `/api/v1/namespaces/${ns}/pods/held?gracePeriodSeconds=0`)).status).toBe(200);
  expect((await get(`/api/v1/namespaces/${ns}/pods/held`)).metadata.deletionTimestamp).toBeString();
}

/** Lets the held pod go (tests call this before closing the cluster). */
export async function releaseHeld(api: TestApi, ns: string): Promise<void> {
  await api.json(
    "PATCH",
    `/api/v1/namespaces/${ns}/pods/held`,
    { metadata: { finalizers: null } },
    { "content-type": "application/merge-patch+json" },
  );
}
