// Runs under Node: the official JS client lists every kind through its typed APIs (its
// ObjectSerializer turns each object into the client's model classes) and creates a typed
// Deployment without apiVersion/kind, as its users write them. Prints one JSON line.
import * as k8s from "@kubernetes/client-node";

const kc = new k8s.KubeConfig();
kc.loadFromFile(process.argv[2]);
const ns = process.argv[3];
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const batch = kc.makeApiClient(k8s.BatchV1Api);
const autoscaling = kc.makeApiClient(k8s.AutoscalingV2Api);
const lists = {
  Pod: () => core.listNamespacedPod({ namespace: ns }),
  Service: () => core.listNamespacedService({ namespace: ns }),
  ReplicationController: () => core.listNamespacedReplicationController({ namespace: ns }),
  Node: () => core.listNode(),
  Event: () => core.listNamespacedEvent({ namespace: ns }),
  Deployment: () => apps.listNamespacedDeployment({ namespace: ns }),
  ReplicaSet: () => apps.listNamespacedReplicaSet({ namespace: ns }),
  DaemonSet: () => apps.listNamespacedDaemonSet({ namespace: ns }),
  StatefulSet: () => apps.listNamespacedStatefulSet({ namespace: ns }),
  Job: () => batch.listNamespacedJob({ namespace: ns }),
  CronJob: () => batch.listNamespacedCronJob({ namespace: ns }),
  HorizontalPodAutoscaler: () => autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace: ns }),
};
const result = { kinds: {}, errors: {} };
for (const [kind, list] of Object.entries(lists)) {
  try {
    result.kinds[kind] = (await list()).items.map((o) => [
      o.metadata?.name,
      o.metadata?.creationTimestamp instanceof Date,
    ]);
  } catch (e) {
    result.errors[kind] = String(e).slice(0, 300);
  }
}
const typed = new k8s.V1Deployment();
typed.metadata = { name: "js-typed" };
typed.spec = {
  selector: { matchLabels: { app: "js-typed" } },
  template: { metadata: { labels: { app: "js-typed" } }, spec: { containers: [{ name: "c", image: "busybox" }] } },
};
try {
  const made = await apps.createNamespacedDeployment({ namespace: ns, body: typed });
  result.typedCreate = [made.apiVersion, made.kind];
} catch (e) {
  result.errors.typedCreate = String(e).slice(0, 300);
}
console.log(JSON.stringify(result));
