// The local-path provisioner (what k3s ships): a claim gets a PersistentVolume backed by a
// directory of its own under DATA/storage, created by the kubelet when a pod first mounts it.
// It serves the default class `local-path`, classes that name its provisioner, and classes no
// StorageClass object defines (so manifests written for another cloud's class still run).
// Claims naming a volume are bound to it. When a claim goes, its Delete-policy volume and the
// directory go too, once no pod uses them; Retain-policy volumes become Released.
import { rfc3339 } from "../../../api/time.ts";
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Pod } from "../../../api/kinds/pod.ts";
import {
  DEFAULT_STORAGE_CLASS,
  type PersistentVolume as Pv,
  type PersistentVolumeClaim as Pvc,
} from "../../../api/kinds/storage.ts";
import type { StorageClass } from "../../../api/kinds/stored.ts";
import { isAlreadyExists, isNotFound, keyOf, splitKey, ignore } from "../../../client/index.ts";
import { Controller } from "../base.ts";

export const PROVISIONER = "kube.io/local-path";
const OURS = new Set([PROVISIONER, "rancher.io/local-path"]);

export class LocalPathProvisioner extends Controller {
  readonly name = "local-path-provisioner";

  private get storageDir(): string | undefined {
    return this.ctx.dataDir ? join(this.ctx.dataDir, "storage") : undefined;
  }

  setup(): void {
    this.ctx.informers.get<Pvc>("persistentvolumeclaims").on({
      add: (o) => this.queue.add(`pvc:${keyOf(o)}`),
      update: (_, o) => this.queue.add(`pvc:${keyOf(o)}`),
      delete: (o) => this.releaseOf(o),
    });
    this.ctx.informers
      .get("persistentvolumes")
      .on({ add: (o) => this.queue.add(`pv:${keyOf(o)}`), update: (_, o) => this.queue.add(`pv:${keyOf(o)}`) });
    this.ctx.informers.register("storageclasses");
    // A pod that stops using a claim may let its volume be reclaimed.
    this.ctx.informers.get("pods").on({ delete: () => this.requeueReleased() });
  }

  override run(workers = 1): void {
    super.run(workers);
    this.queue.add("default-class");
  }

  private releaseOf(pvc: Pvc): void {
    const name = pvc.spec?.volumeName;
    if (name) this.queue.add(`pv:${name}`);
  }

  private requeueReleased(): void {
    for (const pv of this.ctx.informers.get<Pv>("persistentvolumes").list())
      if (pv.spec.claimRef && !this.claimOf(pv)) this.queue.add(`pv:${keyOf(pv)}`);
  }

  private claimOf(pv: Pv): Pvc | undefined {
    const ref = pv.spec.claimRef;
    const pvc = ref
      ? this.ctx.informers.get<Pvc>("persistentvolumeclaims").get(`${ref.namespace}/${ref.name}`)
      : undefined;
    return pvc && (!ref?.uid || pvc.metadata?.uid === ref.uid) ? pvc : undefined;
  }

  async reconcile(key: string): Promise<void> {
    if (key === "default-class") return this.ensureDefaultClass();
    if (key.startsWith("pvc:")) return this.reconcileClaim(key.slice(4));
    return this.reconcileVolume(key.slice(3));
  }

  private async ensureDefaultClass(): Promise<void> {
    if (this.ctx.informers.get("storageclasses").get(DEFAULT_STORAGE_CLASS)) return;
    await this.ctx.client
      .resource<StorageClass>("storageclasses.storage.k8s.io")
      .create({
        apiVersion: "storage.k8s.io/v1",
        kind: "StorageClass",
        metadata: {
          name: DEFAULT_STORAGE_CLASS,
          annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
        },
        provisioner: PROVISIONER,
        reclaimPolicy: "Delete",
        volumeBindingMode: "Immediate",
      })
      .catch(ignore(isAlreadyExists));
  }

  private provisions(className: string | null | undefined): boolean {
    if (className === undefined || className === "") return false;
    // null (kept from the claim) names no StorageClass object.
    const sc = className === null ? undefined : this.ctx.informers.get<StorageClass>("storageclasses").get(className);
    return !sc || OURS.has(sc.provisioner ?? "");
  }

  private async reconcileClaim(key: string): Promise<void> {
    const pvc = this.ctx.informers.get<Pvc>("persistentvolumeclaims").get(key);
    if (!pvc || pvc.metadata?.deletionTimestamp || pvc.status?.phase === "Bound") return;
    const { namespace, name } = splitKey(key);
    const pvs = this.ctx.client.resource<Pv>("persistentvolumes");
    let pv = pvc.spec.volumeName ? this.ctx.informers.get<Pv>("persistentvolumes").get(pvc.spec.volumeName) : undefined;
    if (!pv) {
      if (pvc.spec.volumeName || !this.provisions(pvc.spec.storageClassName) || !this.storageDir) return;
      const pvName = `pvc-${pvc.metadata!.uid}`;
      pv = await pvs
        .create({
          apiVersion: "v1",
          kind: "PersistentVolume",
          metadata: { name: pvName, annotations: { "pv.kubernetes.io/provisioned-by": PROVISIONER } },
          spec: {
            capacity: { storage: pvc.spec.resources?.requests?.storage ?? "1Gi" },
            accessModes: pvc.spec.accessModes,
            persistentVolumeReclaimPolicy: "Delete",
            storageClassName: pvc.spec.storageClassName,
            hostPath: { path: join(this.storageDir, `${pvName}_${namespace}_${name}`), type: "DirectoryOrCreate" },
            claimRef: { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace, name, uid: pvc.metadata!.uid },
          },
        })
        .catch((e): Promise<Pv> => (isAlreadyExists(e) ? pvs.get(pvName) : Promise.reject(e)));
    } else if (pv.spec.claimRef && pv.spec.claimRef.uid !== pvc.metadata?.uid)
      return; // taken by another claim
    else
      pv = await pvs.update({
        ...pv,
        spec: {
          ...pv.spec,
          claimRef: { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace, name, uid: pvc.metadata!.uid },
        },
      });
    await pvs.updateStatus({
      ...pv,
      status: { phase: "Bound", lastPhaseTransitionTime: rfc3339(this.ctx.clock.now()) },
    });
    const claims = this.ctx.client.resource<Pvc>("persistentvolumeclaims", namespace);
    const bound = pvc.spec.volumeName
      ? pvc
      : await claims.update({ ...pvc, spec: { ...pvc.spec, volumeName: pv.metadata!.name } });
    await claims.updateStatus({
      ...bound,
      status: { phase: "Bound", accessModes: pv.spec.accessModes, capacity: pv.spec.capacity },
    });
  }

  private async reconcileVolume(name: string): Promise<void> {
    const pv = this.ctx.informers.get<Pv>("persistentvolumes").get(name);
    if (!pv?.spec.claimRef || this.claimOf(pv)) return;
    const ref = pv.spec.claimRef;
    // Still mounted by a pod that has not finished: wait (pods' deletion requeues this).
    const inUse = this.ctx.informers
      .get<Pod>("pods")
      .list()
      .some(
        (p) =>
          p.metadata?.namespace === ref.namespace &&
          (p.spec.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === ref.name),
      );
    if (inUse) return;
    if (pv.spec.persistentVolumeReclaimPolicy === "Delete") {
      const path = pv.spec.hostPath?.path;
      // Only directories this provisioner made are removed.
      if (path && this.storageDir && resolve(path).startsWith(resolve(this.storageDir) + "/"))
        rmSync(path, { recursive: true, force: true });
      await this.ctx.client.resource("persistentvolumes").delete(name).catch(ignore(isNotFound));
    } else if (pv.status?.phase !== "Released") {
      await this.ctx.client.resource<Pv>("persistentvolumes").updateStatus({ ...pv, status: { phase: "Released" } });
    }
  }
}
