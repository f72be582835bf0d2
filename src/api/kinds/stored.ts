// Kinds that real manifests carry alongside their workloads: Ingress, IngressClass,
// NetworkPolicy, PodDisruptionBudget, HorizontalPodAutoscaler, ResourceQuota, LimitRange,
// PriorityClass, StorageClass. They are validated, stored, listed and watched like any object,
// so `kubectl apply` of a whole application works. Budgets and autoscalers have controllers;
// the rest are not acted on (no ingress controller, quota enforcement or network policy).
import { selectorToString } from "../selectors.ts";
import { MetaOnlySchema, shapeCauses } from "../schema.ts";
import type { Cause, Condition, DeleteOptions, KindDef, KubeObject } from "../types.ts";
import type { LabelSelector } from "../selectors.ts";
import type { LoadBalancerStatus } from "./service.ts";
import * as v from "../validation.ts";
import { Causes } from "../validation.ts";
import { age, ageColumn, col, defineKind, nameColumn, specChangedDefault, specOf, statusOf } from "./define.ts";

/**
 * Shape and metadata checks every such kind needs, then its own (`extra`), which adds to the
 * causes list or through `c`, the same list's helpers.
 */
export function checked(
  extra?: (obj: KubeObject, causes: Cause[], old: KubeObject | undefined, c: Causes) => void,
): (obj: KubeObject, old?: KubeObject) => Cause[] {
  return (obj, old) => {
    const shape = shapeCauses(MetaOnlySchema, obj);
    if (shape.length) return shape;
    const c = new Causes();
    v.objectMeta(c, obj);
    extra?.(obj, c.list, old, c);
    return c.list;
  };
}

const required = (field: string): Cause => ({ reason: "FieldValueRequired", field, message: "Required value" });

export interface IngressServiceBackend {
  name: string;
  port?: { number?: number; name?: string };
}
export interface IngressBackend {
  service?: IngressServiceBackend;
  resource?: { apiGroup?: string; kind: string; name: string };
}
export interface HTTPIngressPath {
  path?: string;
  pathType?: "Exact" | "Prefix" | "ImplementationSpecific";
  backend: IngressBackend;
}
export interface IngressRule {
  host?: string;
  http?: { paths: HTTPIngressPath[] };
}
export interface IngressSpec {
  ingressClassName?: string;
  defaultBackend?: IngressBackend;
  rules?: IngressRule[];
  tls?: { hosts?: string[]; secretName?: string }[];
}
export interface IngressStatus {
  loadBalancer?: LoadBalancerStatus;
}
export interface Ingress extends KubeObject {
  spec?: IngressSpec;
  status?: IngressStatus;
}
export const ingressKind = defineKind({
  group: "networking.k8s.io",
  version: "v1",
  kind: "Ingress",
  resource: "ingresses",
  namespaced: true,
  shortNames: ["ing"],
  subresources: { status: true },
  hasStatus: true,
  validate: checked(),
  specChanged: specChangedDefault,
  table: {
    columns: [nameColumn, col("Class"), col("Hosts"), col("Address"), col("Ports"), ageColumn],
    row: (o, now) => {
      const s = specOf<IngressSpec>(o);
      const hosts = (s.rules ?? []).map((r) => r.host ?? "*");
      const address = (statusOf<IngressStatus>(o).loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname).join(",");
      return [
        o.metadata?.name,
        s.ingressClassName ?? "<none>",
        hosts.length ? hosts.join(",") : "*",
        address,
        s.tls?.length ? "80, 443" : "80",
        age(o, now),
      ];
    },
  },
});

/** networking.k8s.io/v1 IngressClassSpec. */
export interface IngressClassSpec {
  controller?: string;
  parameters?: { apiGroup?: string; kind: string; name: string; namespace?: string; scope?: string };
}
export const ingressClassKind = defineKind({
  group: "networking.k8s.io",
  version: "v1",
  kind: "IngressClass",
  resource: "ingressclasses",
  namespaced: false,
  validate: checked(),
  specChanged: specChangedDefault,
  table: {
    columns: [nameColumn, col("Controller"), col("Parameters"), ageColumn],
    row: (o, now) => {
      const p = specOf<IngressClassSpec>(o);
      return [
        o.metadata?.name,
        p.controller ?? "",
        p.parameters ? `${p.parameters.kind}/${p.parameters.name}` : "<none>",
        age(o, now),
      ];
    },
  },
});

/** networking.k8s.io/v1 NetworkPolicySpec; the rules are stored, not enforced, so left opaque. */
export interface NetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes?: ("Ingress" | "Egress")[];
  ingress?: unknown[];
  egress?: unknown[];
}
export const networkPolicyKind = defineKind({
  group: "networking.k8s.io",
  version: "v1",
  kind: "NetworkPolicy",
  resource: "networkpolicies",
  namespaced: true,
  shortNames: ["netpol"],
  // SetDefaults_NetworkPolicy: Ingress always, Egress when egress rules are given.
  defaults(o) {
    const spec = (o.spec ??= {}) as Partial<NetworkPolicySpec>;
    spec.policyTypes ??= spec.egress?.length ? ["Ingress", "Egress"] : ["Ingress"];
  },
  validate: checked(),
  specChanged: specChangedDefault,
  table: {
    columns: [nameColumn, col("Pod-Selector"), ageColumn],
    row: (o, now) => [
      o.metadata?.name,
      selectorToString(specOf<NetworkPolicySpec>(o).podSelector) || "<none>",
      age(o, now),
    ],
  },
});

export interface PodDisruptionBudgetSpec {
  selector?: LabelSelector;
  minAvailable?: number | string;
  maxUnavailable?: number | string;
  unhealthyPodEvictionPolicy?: "IfHealthyBudget" | "AlwaysAllow";
}
export interface PodDisruptionBudgetStatus {
  observedGeneration?: number;
  /** Pods an eviction has let go, by name, with the time; the controller drops them once gone. */
  disruptedPods?: Record<string, string>;
  disruptionsAllowed?: number;
  currentHealthy?: number;
  desiredHealthy?: number;
  expectedPods?: number;
  conditions?: Condition[];
}
export interface PodDisruptionBudget extends KubeObject {
  spec?: PodDisruptionBudgetSpec;
  status?: PodDisruptionBudgetStatus;
}
/** policy/v1 Eviction, the body of pods/NAME/eviction (never stored). */
export interface Eviction extends KubeObject {
  deleteOptions?: DeleteOptions;
}

export const podDisruptionBudgetKind = defineKind({
  group: "policy",
  version: "v1",
  kind: "PodDisruptionBudget",
  resource: "poddisruptionbudgets",
  namespaced: true,
  shortNames: ["pdb"],
  subresources: { status: true },
  hasStatus: true,
  validate: checked((o, causes) => {
    const s = specOf<PodDisruptionBudgetSpec>(o);
    if (s.minAvailable !== undefined && s.maxUnavailable !== undefined)
      causes.push({
        reason: "FieldValueInvalid",
        field: "spec",
        message: "Invalid value: minAvailable and maxUnavailable cannot be both set",
      });
  }),
  specChanged: specChangedDefault,
  table: {
    columns: [
      nameColumn,
      col("Min Available"),
      col("Max Unavailable"),
      col("Allowed Disruptions", 0, "integer"),
      ageColumn,
    ],
    row: (o, now) => {
      const s = specOf<PodDisruptionBudgetSpec>(o);
      return [
        o.metadata?.name,
        s.minAvailable ?? "N/A",
        s.maxUnavailable ?? "N/A",
        statusOf<PodDisruptionBudgetStatus>(o).disruptionsAllowed ?? 0,
        age(o, now),
      ];
    },
  },
});

/** autoscaling/v2 SetDefaults_HorizontalPodAutoscaler: minReplicas 1, and CPU at 80% when no metric is given. */
export function defaultHpaV2(o: KubeObject): void {
  const s = (o.spec ??= {}) as HpaSpec;
  s.minReplicas ??= 1;
  if (!s.metrics?.length)
    s.metrics = [
      { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } },
    ];
}

/** autoscaling/v2 MetricTarget: Utilization (percent of the request), AverageValue or Value. */
export interface MetricTarget {
  type: "Utilization" | "AverageValue" | "Value" | string;
  averageUtilization?: number;
  averageValue?: string;
  value?: string;
}
export interface MetricSpec {
  type: "Resource" | "Pods" | "Object" | "External" | "ContainerResource" | string;
  resource?: { name: string; target: MetricTarget };
}
export interface MetricStatus {
  type: string;
  resource?: { name: string; current: { averageUtilization?: number; averageValue?: string; value?: string } };
}
export interface HorizontalPodAutoscalerSpec {
  scaleTargetRef: { apiVersion?: string; kind: string; name: string };
  minReplicas?: number;
  maxReplicas: number;
  metrics?: MetricSpec[];
  behavior?: Record<string, unknown>;
}
export interface HorizontalPodAutoscalerStatus {
  observedGeneration?: number;
  lastScaleTime?: string;
  currentReplicas?: number;
  desiredReplicas?: number;
  currentMetrics?: MetricStatus[];
  conditions?: Condition[];
}
export interface HorizontalPodAutoscaler extends KubeObject {
  spec: HorizontalPodAutoscalerSpec;
  status?: HorizontalPodAutoscalerStatus;
}
/** autoscaling/v1 Scale, the scale subresource of every scalable kind. */
export interface Scale extends KubeObject {
  spec: { replicas?: number };
  status: { replicas: number; selector?: string };
}
/** What validation and the table read before the spec is known to be complete. */
type HpaSpec = Partial<HorizontalPodAutoscalerSpec>;
export const horizontalPodAutoscalerKind = defineKind({
  group: "autoscaling",
  version: "v2",
  kind: "HorizontalPodAutoscaler",
  resource: "horizontalpodautoscalers",
  namespaced: true,
  shortNames: ["hpa"],
  categories: ["all"],
  subresources: { status: true },
  hasStatus: true,
  validate: checked((o, causes) => {
    const s = specOf<HpaSpec>(o);
    if (!s.scaleTargetRef?.name) causes.push(required("spec.scaleTargetRef.name"));
    if (!s.maxReplicas) causes.push(required("spec.maxReplicas"));
    else if (s.minReplicas !== undefined && s.minReplicas > s.maxReplicas)
      causes.push({
        reason: "FieldValueInvalid",
        field: "spec.maxReplicas",
        message: `Invalid value: ${s.maxReplicas}: must be greater than or equal to \`minReplicas\``,
      });
  }),
  defaults: (o) => defaultHpaV2(o),
  specChanged: specChangedDefault,
  table: {
    columns: [
      nameColumn,
      col("Reference"),
      col("Targets"),
      col("MinPods", 0, "integer"),
      col("MaxPods", 0, "integer"),
      col("Replicas", 0, "integer"),
      ageColumn,
    ],
    row: (o, now) => {
      const s = specOf<HpaSpec>(o);
      const current = statusOf<HorizontalPodAutoscalerStatus>(o).currentMetrics ?? [];
      const targets =
        (s.metrics ?? [])
          .map((m) => {
            const now = current.find((c) => c.resource?.name === m.resource?.name)?.resource?.current
              ?.averageUtilization;
            return `${now === undefined ? "<unknown>" : `${now}%`}/${m.resource?.target?.averageUtilization ?? "?"}%`;
          })
          .join(", ") || "<none>";
      return [
        o.metadata?.name,
        `${s.scaleTargetRef?.kind}/${s.scaleTargetRef?.name}`,
        targets,
        s.minReplicas ?? 1,
        s.maxReplicas,
        statusOf<HorizontalPodAutoscalerStatus>(o).currentReplicas ?? 0,
        age(o, now),
      ];
    },
  },
});

/** core/v1 ResourceQuotaSpec and ResourceQuotaStatus: quantities by resource name. */
export interface ResourceQuotaSpec {
  hard?: Record<string, string>;
  scopes?: string[];
  scopeSelector?: {
    matchExpressions?: { scopeName: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] }[];
  };
}
export interface ResourceQuotaStatus {
  hard?: Record<string, string>;
  used?: Record<string, string>;
}
export interface ResourceQuota extends KubeObject {
  spec?: ResourceQuotaSpec;
  status?: ResourceQuotaStatus;
}
export const resourceQuotaKind = defineKind({
  group: "",
  version: "v1",
  kind: "ResourceQuota",
  resource: "resourcequotas",
  namespaced: true,
  shortNames: ["quota"],
  subresources: { status: true },
  hasStatus: true,
  validate: checked(),
  specChanged: specChangedDefault,
  table: {
    columns: [nameColumn, ageColumn, col("Request"), col("Limit")],
    row: (o, now) => {
      const hard = specOf<ResourceQuotaSpec>(o).hard ?? {};
      const used = statusOf<ResourceQuotaStatus>(o).used ?? {};
      const fmt = (keys: string[]) => keys.map((k) => `${k}: ${used[k] ?? "0"}/${hard[k]}`).join(", ");
      const keys = Object.keys(hard).sort();
      return [
        o.metadata?.name,
        age(o, now),
        fmt(keys.filter((k) => !k.startsWith("limits."))),
        fmt(keys.filter((k) => k.startsWith("limits."))),
      ];
    },
  },
});

/** core/v1 LimitRangeItem: the bounds and defaults of one type of object (Container, Pod, PersistentVolumeClaim). */
export interface LimitRangeItem {
  type: string;
  max?: Record<string, string>;
  min?: Record<string, string>;
  default?: Record<string, string>;
  defaultRequest?: Record<string, string>;
  maxLimitRequestRatio?: Record<string, string>;
}
export interface LimitRangeSpec {
  limits: LimitRangeItem[];
}
export interface LimitRange extends KubeObject {
  spec?: LimitRangeSpec;
}

export const limitRangeKind = defineKind({
  group: "",
  version: "v1",
  kind: "LimitRange",
  resource: "limitranges",
  namespaced: true,
  shortNames: ["limits"],
  validate: checked(),
  specChanged: specChangedDefault,
  table: { columns: [nameColumn, col("Created At")], row: (o) => [o.metadata?.name, o.metadata?.creationTimestamp] },
});

/** scheduling.k8s.io/v1 PriorityClass: its fields are top-level (no spec). */
export interface PriorityClass extends KubeObject {
  value: number;
  globalDefault?: boolean;
  description?: string;
  preemptionPolicy?: "PreemptLowerPriority" | "Never";
}

export const priorityClassKind = defineKind({
  group: "scheduling.k8s.io",
  version: "v1",
  kind: "PriorityClass",
  resource: "priorityclasses",
  namespaced: false,
  shortNames: ["pc"],
  validate: checked((o, causes) => {
    if (!Number.isInteger(o.value)) causes.push(required("value"));
  }),
  defaults: (o) => {
    o.preemptionPolicy ??= "PreemptLowerPriority";
  },
  specChanged: (a, b) => a.value !== b.value,
  table: {
    columns: [nameColumn, col("Value", 0, "integer"), col("Global-Default", 0, "boolean"), ageColumn],
    row: (o, now) => [o.metadata?.name, o.value, !!o.globalDefault, age(o, now)],
  },
});

/** storage.k8s.io/v1 StorageClass: its fields are top-level (no spec). */
export interface StorageClass extends KubeObject {
  provisioner: string;
  parameters?: Record<string, string>;
  reclaimPolicy?: "Delete" | "Retain";
  volumeBindingMode?: "Immediate" | "WaitForFirstConsumer";
  allowVolumeExpansion?: boolean;
}
export const storageClassKind = defineKind({
  group: "storage.k8s.io",
  version: "v1",
  kind: "StorageClass",
  resource: "storageclasses",
  namespaced: false,
  shortNames: ["sc"],
  validate: checked((o, causes) => {
    if (!o.provisioner) causes.push(required("provisioner"));
  }),
  defaults: (o) => {
    o.reclaimPolicy ??= "Delete";
    o.volumeBindingMode ??= "Immediate";
  },
  specChanged: () => false,
  table: {
    columns: [
      nameColumn,
      col("Provisioner"),
      col("ReclaimPolicy"),
      col("VolumeBindingMode"),
      col("AllowVolumeExpansion", 0, "boolean"),
      ageColumn,
    ],
    row: (o, now) => [
      o.metadata?.name,
      o.provisioner,
      o.reclaimPolicy ?? "Delete",
      o.volumeBindingMode ?? "Immediate",
      !!o.allowVolumeExpansion,
      age(o, now),
    ],
  },
});

export const STORED_KINDS: KindDef[] = [
  ingressKind,
  ingressClassKind,
  networkPolicyKind,
  podDisruptionBudgetKind,
  horizontalPodAutoscalerKind,
  resourceQuotaKind,
  limitRangeKind,
  priorityClassKind,
  storageClassKind,
];
