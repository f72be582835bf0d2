// PersistentVolumeClaim and PersistentVolume. Claims are bound by the local-path provisioner (a
// directory per claim on this node) unless they name a volume themselves.
import type { KubeObject, ObjectReference } from "../types.ts";
import type { NodeSelector } from "../scheduling.ts";
import type { LabelSelector } from "../selectors.ts";
import { checked } from "./stored.ts";
import { age, ageColumn, col, defineKind, nameColumn, specOf, statusOf } from "./define.ts";

export const DEFAULT_STORAGE_CLASS = "local-path";

const MODES: Record<string, string> = {
  ReadWriteOnce: "RWO",
  ReadOnlyMany: "ROX",
  ReadWriteMany: "RWX",
  ReadWriteOncePod: "RWOP",
};
const modes = (list: string[] | undefined) => (list ?? []).map((m) => MODES[m] ?? m).join(",");

export interface PersistentVolumeClaimSpec {
  accessModes?: string[];
  volumeMode?: "Filesystem" | "Block";
  resources?: { requests?: { storage?: string }; limits?: { storage?: string } };
  storageClassName?: string | null;
  volumeName?: string;
  selector?: LabelSelector;
}
export interface PersistentVolumeClaimStatus {
  phase?: "Pending" | "Bound" | "Lost";
  accessModes?: string[];
  capacity?: { storage?: string };
}
export interface PersistentVolumeClaim extends KubeObject {
  spec: PersistentVolumeClaimSpec;
  status?: PersistentVolumeClaimStatus;
}

export interface PersistentVolumeSpec {
  capacity?: { storage?: string };
  accessModes?: string[];
  persistentVolumeReclaimPolicy?: "Retain" | "Delete" | "Recycle";
  /** A provisioned volume copies its claim's, which may be null. */
  storageClassName?: string | null;
  volumeMode?: "Filesystem" | "Block";
  claimRef?: ObjectReference;
  hostPath?: { path: string; type?: string };
  local?: { path: string };
  nodeAffinity?: { required?: NodeSelector };
}
export interface PersistentVolumeStatus {
  phase?: "Pending" | "Available" | "Bound" | "Released" | "Failed";
  message?: string;
  reason?: string;
  lastPhaseTransitionTime?: string;
}
export interface PersistentVolume extends KubeObject {
  spec: PersistentVolumeSpec;
  status?: PersistentVolumeStatus;
}

export const persistentVolumeClaimKind = defineKind({
  group: "",
  version: "v1",
  kind: "PersistentVolumeClaim",
  resource: "persistentvolumeclaims",
  namespaced: true,
  shortNames: ["pvc"],
  subresources: { status: true },
  hasStatus: true,
  defaults(obj) {
    const s = ((obj.spec as PersistentVolumeClaimSpec) ??= {});
    // No class at all means the default class; "" means none (a pre-made volume).
    if (s.storageClassName === undefined && !s.volumeName) s.storageClassName = DEFAULT_STORAGE_CLASS;
    s.volumeMode ??= "Filesystem";
    ((obj.status ??= {}) as { phase?: string }).phase ??= "Pending";
  },
  validate: checked((obj, causes, old) => {
    const s = specOf<PersistentVolumeClaimSpec>(obj);
    if (!s.accessModes?.length)
      causes.push({
        reason: "FieldValueRequired",
        field: "spec.accessModes",
        message: "Required value: at least 1 access mode is required",
      });
    if (!s.resources?.requests?.storage && !s.volumeName)
      causes.push({ reason: "FieldValueRequired", field: "spec.resources[storage]", message: "Required value" });
    if (old) {
      const o = specOf<PersistentVolumeClaimSpec>(old);
      const same = (a: PersistentVolumeClaimSpec) =>
        JSON.stringify({ ...a, resources: undefined, volumeName: undefined });
      if (same(o) !== same(s) || (o.volumeName && o.volumeName !== s.volumeName))
        causes.push({
          reason: "FieldValueForbidden",
          field: "spec",
          message:
            "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
        });
    }
  }),
  specChanged: (a, b) => JSON.stringify(a.spec) !== JSON.stringify(b.spec),
  table: {
    columns: [
      nameColumn,
      col("Status"),
      col("Volume"),
      col("Capacity"),
      col("Access Modes"),
      col("StorageClass"),
      ageColumn,
    ],
    row: (o, now) => {
      const s = specOf<PersistentVolumeClaimSpec>(o);
      const st = statusOf<PersistentVolumeClaimStatus>(o);
      return [
        o.metadata?.name,
        st.phase ?? "Pending",
        s.volumeName ?? "",
        st.capacity?.storage ?? "",
        modes(st.accessModes),
        s.storageClassName ?? "",
        age(o, now),
      ];
    },
  },
});

export const persistentVolumeKind = defineKind({
  group: "",
  version: "v1",
  kind: "PersistentVolume",
  resource: "persistentvolumes",
  namespaced: false,
  shortNames: ["pv"],
  subresources: { status: true },
  hasStatus: true,
  defaults(obj) {
    const s = ((obj.spec as PersistentVolumeSpec) ??= {});
    s.persistentVolumeReclaimPolicy ??= "Retain";
    (s as { volumeMode?: string }).volumeMode ??= "Filesystem";
    ((obj.status ??= {}) as { phase?: string }).phase ??= "Available";
  },
  validate: checked((obj, causes) => {
    const s = specOf<PersistentVolumeSpec>(obj);
    if (!s.capacity?.storage)
      causes.push({ reason: "FieldValueRequired", field: "spec.capacity", message: "Required value" });
    if (!s.accessModes?.length)
      causes.push({
        reason: "FieldValueRequired",
        field: "spec.accessModes",
        message: "Required value: must specify at least 1 access mode",
      });
    if (!s.hostPath?.path && !Object.keys(s).some((k) => ["local", "nfs", "csi"].includes(k)))
      causes.push({
        reason: "FieldValueRequired",
        field: "spec",
        message: "Required value: must specify a volume type",
      });
  }),
  specChanged: (a, b) => JSON.stringify(a.spec) !== JSON.stringify(b.spec),
  table: {
    columns: [
      nameColumn,
      col("Capacity"),
      col("Access Modes"),
      col("Reclaim Policy"),
      col("Status"),
      col("Claim"),
      col("StorageClass"),
      col("Reason"),
      ageColumn,
    ],
    row: (o, now) => {
      const s = specOf<PersistentVolumeSpec>(o);
      const st = statusOf<PersistentVolumeStatus>(o);
      return [
        o.metadata?.name,
        s.capacity?.storage ?? "",
        modes(s.accessModes),
        s.persistentVolumeReclaimPolicy ?? "Retain",
        st.phase ?? "Available",
        s.claimRef ? `${s.claimRef.namespace}/${s.claimRef.name}` : "",
        s.storageClassName ?? "",
        st.reason ?? "",
        age(o, now),
      ];
    },
  },
});
