// autoscaling/v1 HorizontalPodAutoscaler, served over the autoscaling/v2 objects in the store
// (upstream's storage version): a write through v1 is converted to v2 and defaulted as v2 (so
// an HPA without a target gets CPU at 80%), a read through v1 converts back. What v1 cannot
// say (other metrics, conditions, behavior) travels in upstream's annotations, as
// pkg/apis/autoscaling/v1/conversion.go does.
import type { KindDef, KubeObject } from "../types.ts";
import { defineKind } from "./define.ts";
import {
  defaultHpaV2,
  horizontalPodAutoscalerKind,
  type HorizontalPodAutoscalerSpec,
  type HorizontalPodAutoscalerStatus,
  type MetricSpec,
  type MetricStatus,
} from "./stored.ts";
import { cloneJson } from "../clone.ts";

const A = "autoscaling.alpha.kubernetes.io/";
const METRICS = `${A}metrics`;
const CURRENT_METRICS = `${A}current-metrics`;
const CONDITIONS = `${A}conditions`;
const BEHAVIOR = `${A}behavior`;

/** autoscaling/v1 HorizontalPodAutoscalerSpec: one CPU target instead of v2's metrics. */
export interface HorizontalPodAutoscalerV1Spec {
  scaleTargetRef: HorizontalPodAutoscalerSpec["scaleTargetRef"];
  minReplicas?: number;
  maxReplicas: number;
  targetCPUUtilizationPercentage?: number | null;
}
/** autoscaling/v1 HorizontalPodAutoscalerStatus. */
export interface HorizontalPodAutoscalerV1Status {
  observedGeneration?: number;
  lastScaleTime?: string;
  currentReplicas?: number;
  desiredReplicas?: number;
  currentCPUUtilizationPercentage?: number | null;
}
/** A spec or status while it is converted in place: it has both versions' fields. */
type Converting<V1, V2> = Partial<V1 & V2>;

const isCpuUtilization = (m: MetricSpec) =>
  m.type === "Resource" && m.resource?.name === "cpu" && m.resource.target?.type === "Utilization";
const cpuCurrent = (m: MetricStatus) =>
  m.type === "Resource" && m.resource?.name === "cpu" && m.resource.current?.averageUtilization !== undefined;

/** An annotation's JSON (taken off the annotations), or undefined when absent or not JSON. */
function takeJson(annotations: Record<string, string>, key: string): unknown {
  const text = annotations[key];
  delete annotations[key];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** v1 -> v2 in place. */
export function hpaV1ToV2(obj: KubeObject): void {
  if (obj.apiVersion === "autoscaling/v2") return;
  obj.apiVersion = "autoscaling/v2";
  const meta = (obj.metadata ??= {});
  const ann = { ...(meta.annotations ?? {}) };
  const spec = (obj.spec ?? {}) as Converting<HorizontalPodAutoscalerV1Spec, HorizontalPodAutoscalerSpec>;
  const metrics: MetricSpec[] = [];
  if (spec.targetCPUUtilizationPercentage !== undefined && spec.targetCPUUtilizationPercentage !== null)
    metrics.push({
      type: "Resource",
      resource: {
        name: "cpu",
        target: { type: "Utilization", averageUtilization: spec.targetCPUUtilizationPercentage },
      },
    });
  const others = takeJson(ann, METRICS);
  if (Array.isArray(others)) metrics.push(...others);
  delete spec.targetCPUUtilizationPercentage;
  if (metrics.length) spec.metrics = metrics;
  const behavior = takeJson(ann, BEHAVIOR);
  if (behavior) spec.behavior = behavior as HorizontalPodAutoscalerSpec["behavior"];
  const status = obj.status as Converting<HorizontalPodAutoscalerV1Status, HorizontalPodAutoscalerStatus> | undefined;
  const currentMetrics = takeJson(ann, CURRENT_METRICS);
  const conditions = takeJson(ann, CONDITIONS);
  if (status) {
    const current: MetricStatus[] = [];
    if (status.currentCPUUtilizationPercentage !== undefined && status.currentCPUUtilizationPercentage !== null)
      current.push({
        type: "Resource",
        resource: { name: "cpu", current: { averageUtilization: status.currentCPUUtilizationPercentage } },
      });
    if (Array.isArray(currentMetrics)) current.push(...currentMetrics);
    delete status.currentCPUUtilizationPercentage;
    if (current.length) status.currentMetrics = current;
    if (Array.isArray(conditions)) status.conditions = conditions;
  }
  if (Object.keys(ann).length) meta.annotations = ann;
  else delete meta.annotations;
}

/** v2 -> v1 (a copy). */
export function hpaV2ToV1(obj: KubeObject): KubeObject {
  if (obj.apiVersion !== "autoscaling/v2") return obj;
  const out = cloneJson(obj);
  out.apiVersion = "autoscaling/v1";
  const meta = (out.metadata ??= {});
  const ann: Record<string, string> = { ...(meta.annotations ?? {}) };
  const spec = (out.spec ?? {}) as Converting<HorizontalPodAutoscalerV1Spec, HorizontalPodAutoscalerSpec>;
  const metrics = spec.metrics ?? [];
  const cpu = metrics.find(isCpuUtilization);
  const others = metrics.filter((m) => m !== cpu);
  delete spec.metrics;
  if (cpu) spec.targetCPUUtilizationPercentage = cpu.resource!.target!.averageUtilization;
  if (others.length) ann[METRICS] = JSON.stringify(others);
  if (spec.behavior) ann[BEHAVIOR] = JSON.stringify(spec.behavior);
  delete spec.behavior;
  const status = out.status as Converting<HorizontalPodAutoscalerV1Status, HorizontalPodAutoscalerStatus> | undefined;
  if (status) {
    const current = status.currentMetrics ?? [];
    const cpuNow = current.find(cpuCurrent);
    const rest = current.filter((m) => m !== cpuNow);
    delete status.currentMetrics;
    if (cpuNow) status.currentCPUUtilizationPercentage = cpuNow.resource!.current!.averageUtilization;
    if (rest.length) ann[CURRENT_METRICS] = JSON.stringify(rest);
    if (Array.isArray(status.conditions) && status.conditions.length)
      ann[CONDITIONS] = JSON.stringify(status.conditions);
    delete status.conditions;
  }
  if (Object.keys(ann).length) meta.annotations = ann;
  return out;
}

const v2 = horizontalPodAutoscalerKind;
export const horizontalPodAutoscalerV1Kind: KindDef = defineKind({
  group: "autoscaling",
  version: "v1",
  kind: "HorizontalPodAutoscaler",
  resource: "horizontalpodautoscalers",
  namespaced: true,
  shortNames: v2.shortNames,
  // Not in `all`: kubectl get all lists the preferred version only.
  categories: [],
  subresources: v2.subresources,
  hasStatus: true,
  defaults(obj) {
    hpaV1ToV2(obj);
    defaultHpaV2(obj);
  },
  validate: (obj, old) => v2.validate(obj, old && hpaV1ToV2Copy(old)),
  specChanged: (a, b) => JSON.stringify(hpaV1ToV2Copy(a).spec) !== JSON.stringify(hpaV1ToV2Copy(b).spec),
  table: { columns: v2.table.columns, row: (o, now) => v2.table.row(hpaV1ToV2Copy(o), now) },
  hooks: { onRead: hpaV2ToV1 },
});

function hpaV1ToV2Copy(obj: KubeObject): KubeObject {
  const copy = cloneJson(obj);
  hpaV1ToV2(copy);
  return copy;
}
