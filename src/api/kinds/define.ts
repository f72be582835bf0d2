// Shared pieces of kind entries: the standard verbs, a builder with sensible defaults, and
// the AGE cell as kubectl prints it.
import type { KindDef, KubeObject, TableColumn } from "../types.ts";

export const STANDARD_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

type KindInput = Omit<
  KindDef,
  "verbs" | "shortNames" | "categories" | "subresources" | "listKind" | "singular" | "defaults" | "hasStatus"
> &
  Partial<
    Pick<
      KindDef,
      "verbs" | "shortNames" | "categories" | "subresources" | "listKind" | "singular" | "defaults" | "hasStatus"
    >
  >;

export function defineKind(k: KindInput): KindDef {
  return {
    verbs: STANDARD_VERBS,
    shortNames: [],
    categories: [],
    subresources: {},
    listKind: `${k.kind}List`,
    singular: k.kind.toLowerCase(),
    defaults: () => {},
    hasStatus: false,
    ...k,
  };
}

/** kubectl's duration format: 45s, 5m, 3h, 2d4h, 400d. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 8) return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y${d % 365}d`;
}

export function age(obj: KubeObject, now: Date): string {
  const t = obj.metadata?.creationTimestamp;
  return t ? humanDuration(now.getTime() - Date.parse(t)) : "<unknown>";
}

export const nameColumn: TableColumn = {
  name: "Name",
  type: "string",
  format: "name",
  priority: 0,
  description: "Name must be unique within a namespace.",
};
export const ageColumn: TableColumn = {
  name: "Age",
  type: "string",
  priority: 0,
  description: "CreationTimestamp is a timestamp representing the server time when this object was created.",
};
export const col = (name: string, priority: 0 | 1 = 0, type: TableColumn["type"] = "string"): TableColumn => ({
  name,
  type,
  priority,
});

/**
 * An object's spec as its kind's type (k8s.io/api's XxxSpec); `{}` when absent, so every field may be
 * missing. The type must be named: an object the generic handler passes is only a KubeObject.
 */
export function specOf<T extends object>(obj: KubeObject): Partial<T> {
  return (obj.spec ?? {}) as Partial<T>;
}
/** An object's status as its kind's type (k8s.io/api's XxxStatus); `{}` when absent. */
export function statusOf<T extends object>(obj: KubeObject): Partial<T> {
  return (obj.status ?? {}) as Partial<T>;
}
export const specChangedDefault = (a: KubeObject, b: KubeObject) => JSON.stringify(a.spec) !== JSON.stringify(b.spec);
