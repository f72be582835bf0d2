// Runs under Node (the official client's own runtime): lists namespaces, creates a pod, and runs
// an informer over pods, printing each event as one JSON line; exits after the pod is deleted.
import * as k8s from "@kubernetes/client-node";

const kc = new k8s.KubeConfig();
kc.loadFromFile(process.argv[2]);
const core = kc.makeApiClient(k8s.CoreV1Api);
const out = (o) => console.log(JSON.stringify(o));

const namespaces = await core.listNamespace();
out({ namespaces: namespaces.items.map((n) => n.metadata?.name) });
const pod = (name) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name },
  spec: { containers: [{ name: "c", image: "localhost/busybox:latest" }] },
});
await core.createNamespacedPod({ namespace: "default", body: pod("existing") });

const informer = k8s.makeInformer(kc, "/api/v1/namespaces/default/pods", () =>
  core.listNamespacedPod({ namespace: "default" }),
);
// What the informer reported, and who waits for what (settled by the event, or failed at the deadline).
const seen = [];
const waiters = new Map();
const record = (what) => {
  seen.push(what);
  waiters.get(what)?.();
};
const wait = (what) =>
  seen.includes(what)
    ? Promise.resolve()
    : new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${what}`)), 10000);
        waiters.set(what, () => {
          clearTimeout(timer);
          waiters.delete(what);
          resolve();
        });
      });
informer.on("add", (p) => record(`add ${p.metadata?.name}`));
informer.on("update", (p) => record(`update ${p.metadata?.name} ${p.metadata?.labels?.stage ?? ""}`));
informer.on("delete", (p) => record(`delete ${p.metadata?.name}`));
informer.on("error", (e) => out({ error: String(e) }));
await informer.start();
await wait("add existing");
await core.createNamespacedPod({ namespace: "default", body: pod("watched") });
await wait("add watched");
await core.patchNamespacedPod(
  { namespace: "default", name: "watched", body: { metadata: { labels: { stage: "two" } } } },
  k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
);
await wait("update watched two");
await core.deleteNamespacedPod({ namespace: "default", name: "watched" });
await wait("delete watched");
out({ events: seen, cached: informer.list().map((p) => p.metadata?.name) });
await informer.stop();
process.exit(0);
