// The scale subresource: an autoscaling/v1 Scale view of any kind whose entry names its
// replica paths, and writing a Scale back as a change of spec.replicas.
import type { Scale } from "../../api/kinds/stored.ts";
import { type LabelSelector, SelectorError, selectorToString } from "../../api/selectors.ts";
import type { KindDef, KubeObject } from "../../api/types.ts";
import { badRequest, conflict } from "./errors.ts";
import type { Stored } from "./objects.ts";
import { cloneJson } from "../../api/clone.ts";

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

/** A selector as the string Scale.status.selector carries ("app=x,tier in (a,b)"); "" for what is not one. */
function selectorString(sel: unknown): string {
  if (typeof sel === "string") return sel;
  if (!sel || typeof sel !== "object") return "";
  try {
    return selectorToString(sel as LabelSelector);
  } catch (err) {
    if (err instanceof SelectorError) return "";
    throw err;
  }
}

export function scaleOf(kind: KindDef, s: Stored): Scale {
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
export function applyScale(kind: KindDef, scale: Partial<Scale>, s: Stored): KubeObject {
  // The client's body, decoded as a Scale already (replicas an int32 or nothing); checked again.
  const replicas: unknown = scale.spec?.replicas;
  if (replicas !== undefined && (typeof replicas !== "number" || !Number.isInteger(replicas)))
    throw badRequest("spec.replicas must be an integer");
  const rv = scale.metadata?.resourceVersion;
  if (rv && rv !== s.obj.metadata?.resourceVersion) throw conflict(kind.resource, kind.group, s.obj.metadata!.name!);
  const next = cloneJson(s.obj);
  setAt(next as Record<string, unknown>, kind.subresources.scale!.specReplicasPath, replicas ?? 0);
  return next;
}
