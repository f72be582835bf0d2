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
  /** null where Go writes a zero metav1.Time (objects that are never stored: reviews, TokenRequest). */
  creationTimestamp?: string | null;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
  [field: string]: unknown;
}

/** metav1.Condition, and the shape every kind's own condition type shares. */
export interface Condition {
  type: string;
  /** "True", "False" or "Unknown". */
  status: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

/** metav1.Preconditions: a delete or update applies only to this uid / resourceVersion. */
export interface Preconditions {
  uid?: string;
  resourceVersion?: string;
}

/** metav1.DeleteOptions, as a DELETE's body or query carries it. */
export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: "Orphan" | "Background" | "Foreground";
  preconditions?: Preconditions;
}

/** core/v1 ObjectReference: what an Event, an Endpoints address or a claim points at. */
export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
  fieldPath?: string;
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
  /** Behaviour beyond the generic registry's; every kind, built-in or custom, goes through the same path. */
  hooks?: KindHooks;
  /** A custom resource's structural schema (apiextensions v1 JSONSchemaProps), for the OpenAPI documents and the unknown-field check. */
  openAPIV3Schema?: Record<string, unknown>;
  /** Served from a CustomResourceDefinition (no strategic merge patch, no protobuf). */
  custom?: boolean;
  /** Sent as a `Warning` header with every response for this kind (a deprecated CRD version). */
  deprecationWarning?: string;
}

/** Where a subresource request points. */
export interface SubresourceTarget {
  subresource: string;
  namespace?: string;
  name: string;
  dryRun: boolean;
}

/**
 * A kind's departures from the generic REST behaviour. The pure ones are set in the kind's file;
 * those needing the store (admission, subresources) are attached by the API server.
 */
export interface KindHooks {
  /** The status a client sends on create is kept (a Node reports its own); otherwise it starts empty. */
  keepStatusOnCreate?: boolean;
  /** Why the object named `name` may never be deleted (the system namespaces), or undefined. */
  deletionForbidden?(name: string): string | undefined;
  /** Seconds a delete waits (a pod bound to a node: its kubelet finishes it); 0 = at once. */
  deletionGrace?(obj: KubeObject, requested: number | undefined): number;
  /** Whether something besides metadata.finalizers keeps a deleted object (a namespace's spec.finalizers). */
  holdsDeletion?(obj: KubeObject): boolean;
  /** Marks an object whose deletion has started (a namespace's phase Terminating). */
  onDeleting?(obj: KubeObject): void;
  /** Admission that needs other objects, before create (old undefined) and update. */
  admit?(obj: KubeObject, old: KubeObject | undefined): Promise<void>;
  /** After a write reached the store; obj is undefined when the object was removed. */
  afterWrite?(obj: KubeObject | undefined, old: KubeObject | undefined): Promise<void>;
  /** What a read returns (a custom resource's defaults are applied on read too). */
  onRead?(obj: KubeObject): KubeObject;
  /**
   * Objects written after this store revision, at this kind's own apiVersion, read as stored
   * (onRead would not change them: they were defaulted by the current schema when written).
   */
  readAsStoredAfter?: number;
  /** POST to the collection served by other means than a create (Binding). */
  createFrom?(req: Request, namespace: string | undefined, dryRun: boolean): Promise<Response>;
  /** Subresources beyond status and scale (binding, eviction, log, exec, token, finalize). */
  subresources?: Record<string, (req: Request, at: SubresourceTarget) => Promise<Response>>;
}
