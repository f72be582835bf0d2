// The scale subresource: an autoscaling/v1 Scale view of any kind whose entry names its
// replica paths, and writing a Scale back as a change of spec.replicas.
import type { KindDef, KubeObject } from "../../api/types.ts";
import { badRequest, conflict } from "./errors.ts";
import type { Stored } from "./objects.ts";

function at(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const part of path.split("."))
    cur = cur && typeof cur === "object" ? (cur as Record<string, unknown>)[part] : undefined;
  return cur;
}

function setAt(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let cur = obj;
  for (const part of parts.slice(0, -1)) cur = (cur[part] ??= {}) as Record<string, unknown>;
  cur[parts[parts.length - 1]!] = value;
}

/** A selector as the string Scale.status.selector carries ("app=x,tier in (a,b)"). */
function selectorString(sel: unknown): string {
  if (typeof sel === "string") return sel;
  if (!sel || typeof sel !== "object") return "";
  const s = sel as {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
  };
  if (!("matchLabels" in s) && !("matchExpressions" in s))
    return Object.entries(sel as Record<string, string>)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
  const parts = Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of s.matchExpressions ?? []) {
    if (e.operator === "In") parts.push(`${e.key} in (${(e.values ?? []).join(",")})`);
    else if (e.operator === "NotIn") parts.push(`${e.key} notin (${(e.values ?? []).join(",")})`);
    else if (e.operator === "Exists") parts.push(e.key);
    else if (e.operator === "DoesNotExist") parts.push(`!${e.key}`);
  }
  return parts.join(",");
}

export function scaleOf(kind: KindDef, s: Stored): KubeObject {
  const spec = kind.subresources.scale!;
  const m = s.obj.metadata!;
  const selector = (spec.labelSelectorPath && at(s.obj, spec.labelSelectorPath)) || at(s.obj, "spec.selector");
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      creationTimestamp: m.creationTimestamp,
    },
    spec: { replicas: Number(at(s.obj, spec.specReplicasPath) ?? 0) },
    status: { replicas: Number(at(s.obj, spec.statusReplicasPath) ?? 0), selector: selectorString(selector) },
  };
}

/** Applies a Scale to the stored object; returns the object to write (the caller validates). */
export function applyScale(kind: KindDef, scale: KubeObject, s: Stored): KubeObject {
  const replicas = (scale.spec as { replicas?: unknown } | undefined)?.replicas;
  if (replicas !== undefined && (typeof replicas !== "number" || !Number.isInteger(replicas)))
    throw badRequest("spec.replicas must be an integer");
  const rv = scale.metadata?.resourceVersion;
  if (rv && rv !== s.obj.metadata?.resourceVersion) throw conflict(kind.resource, kind.group, s.obj.metadata!.name!);
  const next = structuredClone(s.obj);
  setAt(next as Record<string, unknown>, kind.subresources.scale!.specReplicasPath, replicas ?? 0);
  return next;
}
