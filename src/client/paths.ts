// Kubernetes REST paths and query strings, built from a kind's registry entry. Pure: no I/O.
import type { KindDef } from "../api/types.ts";
import type { DeleteOptions, ListOptions, WatchOptions } from "./types.ts";

/** What path building needs from a registry entry. */
export type KindRef = Pick<KindDef, "group" | "version" | "resource" | "namespaced">;

/** /api/v1 for core, /apis/GROUP/VERSION otherwise. */
export function groupVersionPath(kind: KindRef): string {
  return kind.group ? `/apis/${kind.group}/${kind.version}` : `/api/${kind.version}`;
}

/**
 * The path of a collection (no name), an object, or an object's subresource.
 * namespace is ignored for cluster-scoped kinds; absent for a namespaced kind means all namespaces.
 */
export function resourcePath(kind: KindRef, namespace: string | undefined, name?: string, sub?: string): string {
  let path = groupVersionPath(kind);
  if (kind.namespaced && namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${kind.resource}`;
  if (name !== undefined) {
    if (name === "") throw new Error(`a ${kind.resource} name is required`);
    path += `/${encodeURIComponent(name)}`;
    if (sub) path += `/${sub}`;
  }
  return path;
}

export type Query = Record<string, string | undefined>;

/** "?a=1&b=2" from the defined entries, or "" when none. */
export function queryString(query: Query | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.append(k, v);
  const s = params.toString();
  return s ? `?${s}` : "";
}

const num = (n: number | undefined) => (n === undefined ? undefined : String(n));

export function listQuery(opts: ListOptions = {}): Query {
  return {
    labelSelector: opts.labelSelector || undefined,
    fieldSelector: opts.fieldSelector || undefined,
    limit: num(opts.limit),
    continue: opts.continue || undefined,
    resourceVersion: opts.resourceVersion,
  };
}

export function watchQuery(opts: WatchOptions = {}): Query {
  return {
    ...listQuery({ ...opts, limit: undefined, continue: undefined }),
    watch: "true",
    allowWatchBookmarks: opts.allowWatchBookmarks ? "true" : undefined,
    timeoutSeconds: num(opts.timeoutSeconds),
  };
}

/** The DeleteOptions body Kubernetes expects on DELETE. */
export function deleteBody(opts: DeleteOptions = {}): Record<string, unknown> {
  const body: Record<string, unknown> = { kind: "DeleteOptions", apiVersion: "v1" };
  if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
  if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
  if (opts.preconditions) body.preconditions = opts.preconditions;
  return body;
}

export const patchContentTypes = {
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
} as const;
