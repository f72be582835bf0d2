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

/** A stable comparison of two objects, ignoring resourceVersion. */
export function sameContent(a: KubeObject, b: KubeObject): boolean {
  return stableJson(a, true) === stableJson(b, true);
}

function stableJson(v: unknown, top = false): string {
  if (Array.isArray(v)) return `[${v.map((x) => stableJson(x)).join(",")}]`;
  if (v && typeof v === "object") {
    const keys = Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort();
    return `{${keys
      .map((k) => {
        let val = (v as Record<string, unknown>)[k];
        if (top && k === "metadata" && val && typeof val === "object") {
          const { resourceVersion: _rv, ...rest } = val as ObjectMeta;
          val = rest;
        }
        return `${JSON.stringify(k)}:${stableJson(val)}`;
      })
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

export function deepClone<T>(v: T): T {
  return structuredClone(v);
}
