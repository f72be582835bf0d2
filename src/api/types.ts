// The shape of a kind's registry entry. The apiserver serves every kind through one
// generic handler driven by these entries; the CLI and client use the same entries
// for paths, short names and tables. A leaf: imports nothing internal.

/** A Kubernetes object as JSON. Kind files narrow this with valibot-inferred types. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
  [field: string]: unknown;
}

/** One invalid field, as Kubernetes reports it in Status.details.causes. */
export interface Cause {
  /** FieldValueInvalid, FieldValueRequired, FieldValueNotSupported, FieldValueDuplicate, FieldValueForbidden, FieldValueTooLong */
  reason: string;
  message: string;
  /** Dotted path, e.g. spec.containers[0].image */
  field: string;
}

export interface TableColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  format?: string;
  description?: string;
  /** 0 = always shown; 1 = only with -o wide. */
  priority: 0 | 1;
}

export interface ScaleSubresource {
  /** Dotted paths into the object. */
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

export interface KindDef {
  group: string; // "" for core
  version: string; // "v1"
  kind: string; // "Pod"
  listKind: string; // "PodList"
  resource: string; // "pods"
  singular: string; // "pod"
  namespaced: boolean;
  shortNames: string[];
  categories: string[]; // ["all"] for the workload kinds kubectl get all shows
  verbs: string[]; // create delete deletecollection get list patch update watch
  /** Subresources this kind serves (status, scale, binding, log, exec, eviction). */
  subresources: { status?: boolean; scale?: ScaleSubresource; extra?: string[] };
  /** Fills defaults in place (as Kubernetes' defaulting does), before validation. */
  defaults(obj: KubeObject): void;
  /** Schema and Kubernetes-rule validation; [] when valid. old is set on update. */
  validate(obj: KubeObject, old?: KubeObject): Cause[];
  /**
   * Whether a change between old and new counts as a spec change (bumps
   * metadata.generation). Kinds without spec (ConfigMap) may compare data.
   */
  specChanged?(oldObj: KubeObject, newObj: KubeObject): boolean;
  /** Whether the kind has a status stanza the main resource must not write. */
  hasStatus: boolean;
  /** Extra field selectors beyond metadata.name/metadata.namespace. */
  fieldSelectors?: Record<string, (obj: KubeObject) => string | undefined>;
  /** kubectl table columns and the cells of one row. */
  table: { columns: TableColumn[]; row(obj: KubeObject, now: Date): unknown[] };
}
