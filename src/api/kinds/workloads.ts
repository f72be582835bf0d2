// The controller kinds: ReplicationController (core/v1), ReplicaSet, Deployment, DaemonSet,
// StatefulSet (apps/v1) and Job (batch/v1). They share pod-template validation with Pod.
import type { Cause, Condition, KindDef, KubeObject, ObjectMeta } from "../types.ts";
import { selectorMatches, selectorToString, type LabelSelector } from "../selectors.ts";
import * as v from "../validation.ts";
import { Causes } from "../validation.ts";
import { shapeCauses, workloadSchema } from "../schema.ts";

const mapSelectorShape = workloadSchema(true);
const labelSelectorShape = workloadSchema(false);
import {
  age,
  ageColumn,
  col,
  defineKind,
  humanDuration,
  nameColumn,
  specChangedDefault,
  specOf,
  statusOf,
} from "./define.ts";
import { defaultPodSpec, validatePodTemplate, type PodSpec, type PodTemplateSpec } from "./pod.ts";
import type { PersistentVolumeClaimSpec } from "./storage.ts";

/** A workload's condition; deployments also stamp lastUpdateTime, jobs lastProbeTime. */
export interface WorkloadCondition extends Condition {
  lastUpdateTime?: string;
  lastProbeTime?: string;
}

export interface ReplicaSetSpec {
  replicas?: number;
  minReadySeconds?: number;
  selector: LabelSelector;
  template: PodTemplateSpec;
}
export interface ReplicaSetStatus {
  replicas?: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: WorkloadCondition[];
}
export interface ReplicaSet extends KubeObject {
  spec: ReplicaSetSpec;
  status?: ReplicaSetStatus;
}
/** core/v1 ReplicationControllerSpec: a ReplicaSet's, whose selector is a plain label map. */
export type ReplicationControllerSpec = Omit<ReplicaSetSpec, "selector"> & { selector?: Record<string, string> };
/** core/v1 ReplicationController; its status is a ReplicaSet's. */
export interface ReplicationController extends KubeObject {
  spec: ReplicationControllerSpec;
  status?: ReplicaSetStatus;
}

export interface DeploymentStrategy {
  type?: "RollingUpdate" | "Recreate";
  rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string };
}
export interface DeploymentSpec {
  replicas?: number;
  selector: LabelSelector;
  template: PodTemplateSpec;
  strategy?: DeploymentStrategy;
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  paused?: boolean;
  progressDeadlineSeconds?: number;
}
export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: WorkloadCondition[];
  collisionCount?: number;
}
export interface Deployment extends KubeObject {
  spec: DeploymentSpec;
  status?: DeploymentStatus;
}

export interface DaemonSetSpec {
  selector: LabelSelector;
  template: PodTemplateSpec;
  updateStrategy?: {
    type?: "RollingUpdate" | "OnDelete";
    rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string };
  };
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
}
export interface DaemonSetStatus {
  currentNumberScheduled?: number;
  numberMisscheduled?: number;
  desiredNumberScheduled?: number;
  numberReady?: number;
  observedGeneration?: number;
  updatedNumberScheduled?: number;
  numberAvailable?: number;
  numberUnavailable?: number;
  collisionCount?: number;
  conditions?: WorkloadCondition[];
}
export interface DaemonSet extends KubeObject {
  spec: DaemonSetSpec;
  status?: DaemonSetStatus;
}

/** A StatefulSet's claim template: a PersistentVolumeClaim without status. */
export interface PersistentVolumeClaimTemplate {
  metadata?: ObjectMeta;
  spec?: PersistentVolumeClaimSpec;
}
export interface StatefulSetSpec {
  replicas?: number;
  selector: LabelSelector;
  template: PodTemplateSpec;
  volumeClaimTemplates?: PersistentVolumeClaimTemplate[];
  serviceName?: string;
  podManagementPolicy?: "OrderedReady" | "Parallel";
  updateStrategy?: { type?: "RollingUpdate" | "OnDelete"; rollingUpdate?: { partition?: number } };
  revisionHistoryLimit?: number;
  minReadySeconds?: number;
  persistentVolumeClaimRetentionPolicy?: { whenDeleted?: "Retain" | "Delete"; whenScaled?: "Retain" | "Delete" };
}
export interface StatefulSetStatus {
  observedGeneration?: number;
  replicas?: number;
  readyReplicas?: number;
  currentReplicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  currentRevision?: string;
  updateRevision?: string;
  collisionCount?: number;
  conditions?: WorkloadCondition[];
}
export interface StatefulSet extends KubeObject {
  spec: StatefulSetSpec;
  status?: StatefulSetStatus;
}

export interface JobSpec {
  parallelism?: number;
  completions?: number;
  activeDeadlineSeconds?: number;
  backoffLimit?: number;
  selector?: LabelSelector;
  manualSelector?: boolean;
  template: PodTemplateSpec;
  ttlSecondsAfterFinished?: number;
  completionMode?: "NonIndexed" | "Indexed";
  suspend?: boolean;
}
export interface JobStatus {
  conditions?: WorkloadCondition[];
  startTime?: string;
  completionTime?: string;
  active?: number;
  succeeded?: number;
  failed?: number;
  ready?: number;
  terminating?: number;
}
export interface Job extends KubeObject {
  spec: JobSpec;
  status?: JobStatus;
}

/** What the kind's own code reads of a template before validation has vouched for it. */
type Template = Partial<PodTemplateSpec>;
/** The fields the checks and cells every workload kind here shares read (each kind has some of them). */
type WorkloadSpec = Pick<StatefulSetSpec, "replicas" | "minReadySeconds" | "template" | "volumeClaimTemplates"> & {
  selector?: LabelSelector | Record<string, string>;
};
const scale = {
  specReplicasPath: "spec.replicas",
  statusReplicasPath: "status.replicas",
  labelSelectorPath: "status.selector",
};

function templateOf(obj: KubeObject): Template | undefined {
  return specOf<WorkloadSpec>(obj).template;
}

function containersCells(obj: KubeObject): [string, string] {
  const cs = templateOf(obj)?.spec?.containers ?? [];
  return [cs.map((c) => c.name).join(","), cs.map((c) => c.image).join(",")];
}

/** selector required (unless defaulted), matching template labels; replicas >= 0. */
function validateSelectorAndTemplate(c: Causes, obj: KubeObject, opts: { mapSelector?: boolean } = {}): void {
  const spec = specOf<WorkloadSpec>(obj);
  const tpl = templateOf(obj);
  const sel = spec.selector;
  if (
    !sel ||
    (opts.mapSelector
      ? Object.keys(sel).length === 0
      : Object.keys((sel as LabelSelector).matchLabels ?? {}).length +
          ((sel as LabelSelector).matchExpressions ?? []).length ===
        0)
  )
    c.required("spec.selector");
  else if (opts.mapSelector) v.labels(c, "spec.selector", sel);
  else v.labels(c, "spec.selector.matchLabels", (sel as LabelSelector).matchLabels);
  const claims = (spec.volumeClaimTemplates ?? []).map((t) => t?.metadata?.name).filter((n): n is string => !!n);
  validatePodTemplate(c, "spec.template", tpl, claims);
  if (sel && tpl && !selectorMatches(sel, tpl.metadata?.labels ?? {}))
    c.invalid(
      "spec.template.metadata.labels",
      tpl.metadata?.labels ?? {},
      "`selector` does not match template `labels`",
    );
  v.nonNegativeInt(c, "spec.replicas", spec.replicas);
  v.nonNegativeInt(c, "spec.minReadySeconds", spec.minReadySeconds);
}

function immutableSelector(c: Causes, obj: KubeObject, old: KubeObject | undefined): void {
  const selector = (o: KubeObject) => specOf<WorkloadSpec>(o).selector;
  if (old && JSON.stringify(selector(old)) !== JSON.stringify(selector(obj)))
    c.invalid("spec.selector", selector(obj), "field is immutable");
}

/** Shape, metadata, selector and template checks every apps/v1 workload shares; `more` adds its own rules. */
function appsWorkload(obj: KubeObject, old: KubeObject | undefined, more: (c: Causes) => void): Cause[] {
  const shape = shapeCauses(labelSelectorShape, obj);
  if (shape.length) return shape;
  const c = new Causes();
  v.objectMeta(c, obj);
  validateSelectorAndTemplate(c, obj);
  immutableSelector(c, obj, old);
  more(c);
  return c.list;
}

function defaultTemplate(obj: KubeObject): void {
  const tpl = templateOf(obj);
  if (tpl && typeof tpl === "object") defaultPodSpec(tpl.spec);
}

const replicaCells = (o: KubeObject) => [
  specOf<ReplicaSetSpec>(o).replicas ?? 0,
  statusOf<ReplicaSetStatus>(o).replicas ?? 0,
  statusOf<ReplicaSetStatus>(o).readyReplicas ?? 0,
];

function replicaLike(kind: "ReplicationController" | "ReplicaSet"): KindDef {
  const rc = kind === "ReplicationController";
  return defineKind({
    group: rc ? "" : "apps",
    version: "v1",
    kind,
    resource: rc ? "replicationcontrollers" : "replicasets",
    namespaced: true,
    shortNames: [rc ? "rc" : "rs"],
    categories: ["all"],
    subresources: { status: true, scale },
    hasStatus: true,
    defaults(obj) {
      // Only the selector differs between the two, and only a ReplicationController's is defaulted.
      const spec = (obj.spec ??= {}) as Partial<ReplicationControllerSpec>;
      spec.replicas ??= 1;
      spec.minReadySeconds ??= 0;
      const labels = templateOf(obj)?.metadata?.labels;
      if (rc && labels) {
        if (!spec.selector || Object.keys(spec.selector).length === 0) spec.selector = { ...labels };
        if (!obj.metadata!.labels || Object.keys(obj.metadata!.labels).length === 0)
          obj.metadata!.labels = { ...labels };
      }
      defaultTemplate(obj);
      obj.status ??= { replicas: 0 };
    },
    validate(obj, old) {
      const shape = shapeCauses(rc ? mapSelectorShape : labelSelectorShape, obj);
      if (shape.length) return shape;
      const c = new Causes();
      v.objectMeta(c, obj);
      validateSelectorAndTemplate(c, obj, { mapSelector: rc });
      if (!rc) immutableSelector(c, obj, old);
      if (templateOf(obj)?.spec?.restartPolicy && templateOf(obj)?.spec?.restartPolicy !== "Always")
        c.notSupported("spec.template.spec.restartPolicy", templateOf(obj)?.spec?.restartPolicy, ["Always"]);
      return c.list;
    },
    specChanged: specChangedDefault,
    table: {
      columns: [
        nameColumn,
        col("Desired", 0, "integer"),
        col("Current", 0, "integer"),
        col("Ready", 0, "integer"),
        ageColumn,
        col("Containers", 1),
        col("Images", 1),
        col("Selector", 1),
      ],
      row: (o, now) => [
        o.metadata?.name,
        ...replicaCells(o),
        age(o, now),
        ...containersCells(o),
        selectorToString(specOf<WorkloadSpec>(o).selector) || "<none>",
      ],
    },
  });
}

export const replicationControllerKind = replicaLike("ReplicationController");
export const replicaSetKind = replicaLike("ReplicaSet");

export const deploymentKind = defineKind({
  group: "apps",
  version: "v1",
  kind: "Deployment",
  resource: "deployments",
  namespaced: true,
  shortNames: ["deploy"],
  categories: ["all"],
  subresources: { status: true, scale },
  hasStatus: true,
  defaults(obj) {
    const spec = (obj.spec ??= {}) as Partial<DeploymentSpec>;
    spec.replicas ??= 1;
    spec.strategy ??= { type: "RollingUpdate" };
    spec.strategy.type ??= "RollingUpdate";
    if (spec.strategy.type === "RollingUpdate") {
      spec.strategy.rollingUpdate ??= {};
      spec.strategy.rollingUpdate.maxSurge ??= "25%";
      spec.strategy.rollingUpdate.maxUnavailable ??= "25%";
    }
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
    spec.minReadySeconds ??= 0;
    defaultTemplate(obj);
  },
  validate(obj, old) {
    return appsWorkload(obj, old, (c) => {
      const spec = specOf<DeploymentSpec>(obj);
      const st = spec.strategy ?? {};
      v.oneOf(c, "spec.strategy.type", st.type, ["RollingUpdate", "Recreate"]);
      if (st.type === "Recreate" && st.rollingUpdate)
        c.forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'");
      if (st.rollingUpdate) {
        v.intOrPercent(c, "spec.strategy.rollingUpdate.maxSurge", st.rollingUpdate.maxSurge);
        v.intOrPercent(c, "spec.strategy.rollingUpdate.maxUnavailable", st.rollingUpdate.maxUnavailable);
        const zero = (x: unknown) => x === 0 || x === "0%";
        if (zero(st.rollingUpdate.maxSurge) && zero(st.rollingUpdate.maxUnavailable))
          c.invalid(
            "spec.strategy.rollingUpdate.maxUnavailable",
            st.rollingUpdate.maxUnavailable,
            "may not be 0 when `maxSurge` is 0",
          );
      }
      v.nonNegativeInt(c, "spec.revisionHistoryLimit", spec.revisionHistoryLimit);
      v.positiveInt(c, "spec.progressDeadlineSeconds", spec.progressDeadlineSeconds);
      if (templateOf(obj)?.spec?.restartPolicy && templateOf(obj)?.spec?.restartPolicy !== "Always")
        c.notSupported("spec.template.spec.restartPolicy", templateOf(obj)?.spec?.restartPolicy, ["Always"]);
    });
  },
  specChanged: specChangedDefault,
  table: {
    columns: [
      nameColumn,
      col("Ready"),
      col("Up-to-date", 0, "integer"),
      col("Available", 0, "integer"),
      ageColumn,
      col("Containers", 1),
      col("Images", 1),
      col("Selector", 1),
    ],
    row(o, now) {
      const st = statusOf<DeploymentStatus>(o);
      const spec = specOf<DeploymentSpec>(o);
      return [
        o.metadata?.name,
        `${st.readyReplicas ?? 0}/${spec.replicas ?? 0}`,
        st.updatedReplicas ?? 0,
        st.availableReplicas ?? 0,
        age(o, now),
        ...containersCells(o),
        selectorToString(spec.selector) || "<none>",
      ];
    },
  },
});

export const daemonSetKind = defineKind({
  group: "apps",
  version: "v1",
  kind: "DaemonSet",
  resource: "daemonsets",
  namespaced: true,
  shortNames: ["ds"],
  categories: ["all"],
  subresources: { status: true },
  hasStatus: true,
  defaults(obj) {
    const spec = (obj.spec ??= {}) as Partial<DaemonSetSpec>;
    spec.updateStrategy ??= { type: "RollingUpdate" };
    if (spec.updateStrategy.type === "RollingUpdate")
      spec.updateStrategy.rollingUpdate ??= { maxUnavailable: 1, maxSurge: 0 };
    spec.revisionHistoryLimit ??= 10;
    spec.minReadySeconds ??= 0;
    defaultTemplate(obj);
  },
  validate(obj, old) {
    return appsWorkload(obj, old, (c) => {
      v.oneOf(c, "spec.updateStrategy.type", specOf<DaemonSetSpec>(obj).updateStrategy?.type, [
        "RollingUpdate",
        "OnDelete",
      ]);
    });
  },
  specChanged: specChangedDefault,
  table: {
    columns: [
      nameColumn,
      col("Desired", 0, "integer"),
      col("Current", 0, "integer"),
      col("Ready", 0, "integer"),
      col("Up-to-date", 0, "integer"),
      col("Available", 0, "integer"),
      col("Node Selector"),
      ageColumn,
      col("Containers", 1),
      col("Images", 1),
      col("Selector", 1),
    ],
    row(o, now) {
      const st = statusOf<DaemonSetStatus>(o);
      const ns =
        Object.entries(templateOf(o)?.spec?.nodeSelector ?? {})
          .map(([k, val]) => `${k}=${val}`)
          .join(",") || "<none>";
      return [
        o.metadata?.name,
        st.desiredNumberScheduled ?? 0,
        st.currentNumberScheduled ?? 0,
        st.numberReady ?? 0,
        st.updatedNumberScheduled ?? 0,
        st.numberAvailable ?? 0,
        ns,
        age(o, now),
        ...containersCells(o),
        selectorToString(specOf<DaemonSetSpec>(o).selector) || "<none>",
      ];
    },
  },
});

export const statefulSetKind = defineKind({
  group: "apps",
  version: "v1",
  kind: "StatefulSet",
  resource: "statefulsets",
  namespaced: true,
  shortNames: ["sts"],
  categories: ["all"],
  subresources: { status: true, scale },
  hasStatus: true,
  defaults(obj) {
    const spec = (obj.spec ??= {}) as Partial<StatefulSetSpec>;
    spec.replicas ??= 1;
    spec.podManagementPolicy ??= "OrderedReady";
    spec.updateStrategy ??= { type: "RollingUpdate" };
    if (spec.updateStrategy.type === "RollingUpdate") spec.updateStrategy.rollingUpdate ??= { partition: 0 };
    spec.revisionHistoryLimit ??= 10;
    spec.persistentVolumeClaimRetentionPolicy ??= {};
    spec.persistentVolumeClaimRetentionPolicy.whenDeleted ??= "Retain";
    spec.persistentVolumeClaimRetentionPolicy.whenScaled ??= "Retain";
    for (const t of Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates : [])
      if (t?.spec && typeof t.spec === "object") t.spec.volumeMode ??= "Filesystem";
    defaultTemplate(obj);
  },
  validate(obj, old) {
    return appsWorkload(obj, old, (c) => {
      const spec = specOf<StatefulSetSpec>(obj);
      v.oneOf(c, "spec.podManagementPolicy", spec.podManagementPolicy, ["OrderedReady", "Parallel"]);
      v.oneOf(c, "spec.updateStrategy.type", spec.updateStrategy?.type, ["RollingUpdate", "OnDelete"]);
      if (old && specOf<StatefulSetSpec>(old).podManagementPolicy !== spec.podManagementPolicy)
        c.forbidden(
          "spec",
          "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        );
    });
  },
  specChanged: specChangedDefault,
  table: {
    columns: [nameColumn, col("Ready"), ageColumn, col("Containers", 1), col("Images", 1)],
    row: (o, now) => [
      o.metadata?.name,
      `${statusOf<StatefulSetStatus>(o).readyReplicas ?? 0}/${specOf<StatefulSetSpec>(o).replicas ?? 0}`,
      age(o, now),
      ...containersCells(o),
    ],
  },
});

/** Kubernetes generates a Job's selector from its uid unless manualSelector is set. */
export function jobAssignSelector(job: KubeObject): void {
  const spec = (job.spec ??= {}) as Partial<JobSpec>;
  if (spec.manualSelector) return;
  const uid = job.metadata!.uid!;
  const name = job.metadata!.name!;
  spec.selector = { matchLabels: { "batch.kubernetes.io/controller-uid": uid } };
  // Without a template, validation reports it; the labels still go on an empty one.
  const tpl: Template = (spec.template ??= {} as PodTemplateSpec);
  tpl.metadata ??= {};
  tpl.metadata.labels = {
    ...tpl.metadata.labels,
    "batch.kubernetes.io/controller-uid": uid,
    "batch.kubernetes.io/job-name": name,
    "controller-uid": uid,
    "job-name": name,
  };
}

export const jobKind = defineKind({
  group: "batch",
  version: "v1",
  kind: "Job",
  resource: "jobs",
  namespaced: true,
  categories: ["all"],
  subresources: { status: true },
  hasStatus: true,
  defaults(obj) {
    const spec = (obj.spec ??= {}) as Partial<JobSpec>;
    spec.completions ??= 1;
    spec.parallelism ??= 1;
    spec.backoffLimit ??= 6;
    spec.completionMode ??= "NonIndexed";
    spec.suspend ??= false;
    if (obj.metadata?.uid && !spec.selector) jobAssignSelector(obj);
    defaultTemplate(obj);
  },
  validate(obj, old) {
    const shape = shapeCauses(labelSelectorShape, obj);
    if (shape.length) return shape;
    const c = new Causes();
    v.objectMeta(c, obj);
    const spec = specOf<JobSpec>(obj);
    validatePodTemplate(c, "spec.template", spec.template);
    const rp = templateOf(obj)?.spec?.restartPolicy;
    if (rp !== "Never" && rp !== "OnFailure")
      c.notSupported("spec.template.spec.restartPolicy", rp, ["OnFailure", "Never"]);
    v.nonNegativeInt(c, "spec.parallelism", spec.parallelism);
    v.nonNegativeInt(c, "spec.completions", spec.completions);
    v.nonNegativeInt(c, "spec.backoffLimit", spec.backoffLimit);
    v.positiveInt(c, "spec.activeDeadlineSeconds", spec.activeDeadlineSeconds);
    if (spec.selector && templateOf(obj) && !selectorMatches(spec.selector, templateOf(obj)?.metadata?.labels ?? {}))
      c.invalid(
        "spec.template.metadata.labels",
        templateOf(obj)?.metadata?.labels,
        "`selector` does not match template `labels`",
      );
    if (old) {
      immutableSelector(c, obj, old);
      const was = specOf<JobSpec>(old);
      if (JSON.stringify(was.template) !== JSON.stringify(spec.template))
        c.invalid("spec.template", "", "field is immutable");
      if (was.completions !== spec.completions) c.invalid("spec.completions", spec.completions, "field is immutable");
    }
    return c.list;
  },
  specChanged: specChangedDefault,
  table: {
    columns: [
      nameColumn,
      col("Status"),
      col("Completions"),
      col("Duration"),
      ageColumn,
      col("Containers", 1),
      col("Images", 1),
      col("Selector", 1),
    ],
    row(o, now) {
      const st = statusOf<JobStatus>(o);
      const spec = specOf<JobSpec>(o);
      const conds = st.conditions ?? [];
      const status = conds.some((x) => x.type === "Complete" && x.status === "True")
        ? "Complete"
        : conds.some((x) => x.type === "Failed" && x.status === "True")
          ? "Failed"
          : spec.suspend
            ? "Suspended"
            : "Running";
      const start = st.startTime ? Date.parse(st.startTime) : undefined;
      const end = st.completionTime ? Date.parse(st.completionTime) : now.getTime();
      return [
        o.metadata?.name,
        status,
        `${st.succeeded ?? 0}/${spec.completions ?? 1}`,
        start ? humanDuration(end - start) : "",
        age(o, now),
        ...containersCells(o),
        selectorToString(spec.selector) || "<none>",
      ];
    },
  },
});
