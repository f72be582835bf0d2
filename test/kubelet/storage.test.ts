// Persistent storage with real pods (Podman): a StatefulSet's claim template gives each ordinal
// a claim the local-path provisioner binds to a directory of its own; a replacement pod finds
// the data its predecessor wrote; deleting the claim deletes the volume and its directory once
// no pod uses it; a class this provisioner does not serve stays Pending.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { BUSYBOX_IMAGE } from "../helpers/engine.ts";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/wait.ts";

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster({ runtime: "engine" });
}, 60_000);
afterAll(() => cluster.close(), 60_000);

const logsOf = async (name: string) => {
  const res = await cluster.api.request("GET", `/api/v1/namespaces/default/pods/${name}/log`);
  return res.ok ? res.text() : "";
};

test("a StatefulSet's claim survives its pod: the replacement reads what the first one wrote", async () => {
  await cluster.client.resource("statefulsets.apps", "default").create({
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "db" },
    spec: {
      replicas: 1,
      serviceName: "db",
      selector: { matchLabels: { app: "db" } },
      template: {
        metadata: { labels: { app: "db" } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: "c",
              image: BUSYBOX_IMAGE,
              imagePullPolicy: "IfNotPresent",
              command: [
                "sh",
                "-c",
                "if [ -f /data/first ]; then echo again; else hostname > /data/first; echo first; fi; cat " +
                  "/data/first; sleep 3600",
              ],
              volumeMounts: [{ name: "data", mountPath: "/data" }],
            },
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: "data" },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
        },
      ],
    },
  });
  const firstUid = await waitFor(
    "db-0 wrote its file",
    async () => {
      const p: any = await cluster.client
        .resource("pods", "default")
        .get("db-0")
        .catch(() => undefined);
      return p && (await logsOf("db-0")).includes("db-0") ? p.metadata.uid : undefined;
    },
    45_000,
  );
  expect((await logsOf("db-0")).trim().split("\n")).toEqual(["first", "db-0"]);

  const pvc: any = await cluster.client.resource("persistentvolumeclaims", "default").get("data-db-0");
  expect(pvc.status).toMatchObject({ phase: "Bound", capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"] });
  expect(pvc.spec.storageClassName).toBe("local-path");
  const pv: any = await cluster.client.resource("persistentvolumes").get(pvc.spec.volumeName);
  expect(pv.status.phase).toBe("Bound");
  expect(pv.spec.claimRef).toMatchObject({ namespace: "default", name: "data-db-0", uid: pvc.metadata.uid });
  expect(existsSync(`${pv.spec.hostPath.path}/first`)).toBe(true);

  await cluster.client.resource("pods", "default").delete("db-0");
  await waitFor(
    "the replacement read the old data",
    async () => {
      const p: any = await cluster.client
        .resource("pods", "default")
        .get("db-0")
        .catch(() => undefined);
      return p && p.metadata.uid !== firstUid && (await logsOf("db-0")).includes("db-0");
    },
    45_000,
  );
  expect((await logsOf("db-0")).trim().split("\n")).toEqual(["again", "db-0"]);

  // The claim outlives the set; deleting it removes the volume and the data once the pod is gone.
  await cluster.client.resource("statefulsets.apps", "default").delete("db");
  await cluster.client
    .resource("pods", "default")
    .delete("db-0")
    .catch(() => {});
  await cluster.client.resource("persistentvolumeclaims", "default").delete("data-db-0");
  await waitFor(
    "volume deleted",
    async () =>
      cluster.client
        .resource("persistentvolumes")
        .get(pv.metadata.name)
        .then(
          () => false,
          () => true,
        ),
    30_000,
  );
  expect(existsSync(pv.spec.hostPath.path)).toBe(false);
});

test("a claim for a class with another provisioner stays Pending", async () => {
  await cluster.client.resource("storageclasses.storage.k8s.io").create({
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: "cloud" },
    provisioner: "ebs.csi.aws.com",
  } as any);
  await cluster.client.resource("persistentvolumeclaims", "default").create({
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: "elsewhere" },
    spec: { storageClassName: "cloud", accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
  });
  // A claim the provisioner does serve, created after it, is bound: so the first one was seen and left alone.
  await cluster.client.resource("persistentvolumeclaims", "default").create({
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: "here" },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
  });
  await waitFor(
    "here bound",
    async () =>
      ((await cluster.client.resource("persistentvolumeclaims", "default").get("here")) as any).status?.phase ===
      "Bound",
    10_000,
  );
  const elsewhere: any = await cluster.client.resource("persistentvolumeclaims", "default").get("elsewhere");
  expect(elsewhere.status.phase).toBe("Pending");
  expect(elsewhere.spec.volumeName).toBeUndefined();
});
