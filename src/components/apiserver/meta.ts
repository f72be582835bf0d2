// Server-side metadata rules: what the API server sets on create and keeps on update,
// the way Kubernetes' generic registry does.
import { now } from "../../api/time.ts";
import { randomUUID } from "node:crypto";
import type { KubeObject, ObjectMeta } from "../../api/types.ts";

const NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";
/** generateName + 5 characters from the alphabet Kubernetes uses (no vowels, no lookalikes). */
export function generateName(base: string): string {
  let s = base.length > 58 ? base.slice(0, 58) : base;
  for (let i = 0; i < 5; i++) s += NAME_ALPHABET[Math.floor(Math.random() * NAME_ALPHABET.length)];
  return s;
}

/** Fields a client may not set on create; the server owns them. */
export function prepareMetaForCreate(meta: ObjectMeta): void {
  delete meta.resourceVersion;
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  delete meta.managedFields;
  meta.uid = randomUUID();
  meta.creationTimestamp = now();
  meta.generation = 1;
}

/** On update the server keeps identity and lifecycle fields from the stored object. */
export function keepServerMeta(next: KubeObject, old: KubeObject): void {
  const m = (next.metadata ??= {});
  const o = old.metadata ?? {};
  m.name = o.name;
  if (o.namespace !== undefined) m.namespace = o.namespace;
  else delete m.namespace;
  m.uid = o.uid;
  m.creationTimestamp = o.creationTimestamp;
  m.generation = o.generation;
  for (const f of ["deletionTimestamp", "deletionGracePeriodSeconds"] as const) {
    if (o[f] !== undefined) (m as Record<string, unknown>)[f] = o[f];
    else delete m[f];
  }
  if (m.managedFields === undefined && o.managedFields !== undefined) m.managedFields = o.managedFields;
}

/**
 * A stable comparison of two objects, ignoring resourceVersion: what comparing their JSON with keys
 * sorted and undefined members left out would say, without building it (building it was the
 * biggest part of an update's CPU: every lease renewal and pod status write pays it).
 */
export function sameContent(a: KubeObject, b: KubeObject): boolean {
  return sameJson(a, b, "metadata");
}

/** Whether a and b have the same JSON (keys in any order); `meta` names a member compared without resourceVersion. */
function sameJson(a: unknown, b: unknown, meta?: string, skip?: string): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null)
    return JSON.stringify(a) === JSON.stringify(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let members = 0;
  for (const k of Object.keys(x)) {
    const v = x[k];
    if (v === undefined || k === skip) continue;
    if (!sameJson(v, y[k], undefined, k === meta ? "resourceVersion" : undefined)) return false;
    members++;
  }
  for (const k of Object.keys(y)) if (y[k] !== undefined && k !== skip) members--;
  return members === 0;
}
