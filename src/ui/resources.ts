// The kinds the dashboard shows and the REST paths it calls; custom resources get the same shape
// from their CustomResourceDefinition.
import type { K8sObject } from "./api.ts";

export interface Res {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  /** Has a scale subresource the page offers. */
  scalable?: boolean;
  /** Rolls out a pod template: "restart" patches kubectl.kubernetes.io/restartedAt. */
  restartable?: boolean;
}

const core = (plural: string, kind: string, namespaced = true): Res => ({
  group: "",
  version: "v1",
  plural,
  kind,
  namespaced,
});
const apps = (plural: string, kind: string, extra: Partial<Res>): Res => ({
  group: "apps",
  version: "v1",
  plural,
  kind,
  namespaced: true,
  ...extra,
});

export const R = {
  nodes: core("nodes", "Node", false),
  namespaces: core("namespaces", "Namespace", false),
  pods: core("pods", "Pod"),
  services: core("services", "Service"),
  events: core("events", "Event"),
  deployments: apps("deployments", "Deployment", { scalable: true, restartable: true }),
  statefulsets: apps("statefulsets", "StatefulSet", { scalable: true, restartable: true }),
  daemonsets: apps("daemonsets", "DaemonSet", { restartable: true }),
  jobs: { group: "batch", version: "v1", plural: "jobs", kind: "Job", namespaced: true } as Res,
  cronjobs: { group: "batch", version: "v1", plural: "cronjobs", kind: "CronJob", namespaced: true } as Res,
  crds: {
    group: "apiextensions.k8s.io",
    version: "v1",
    plural: "customresourcedefinitions",
    kind: "CustomResourceDefinition",
    namespaced: false,
  } as Res,
};

export const WORKLOADS = [R.deployments, R.statefulsets, R.daemonsets, R.jobs, R.cronjobs];

const prefix = (r: Res) => (r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`);

/** The list (and watch) path; namespace "" means all namespaces. */
export function listPath(r: Res, namespace: string): string {
  return r.namespaced && namespace
    ? `${prefix(r)}/namespaces/${encodeURIComponent(namespace)}/${r.plural}`
    : `${prefix(r)}/${r.plural}`;
}

export function objectPath(r: Res, namespace: string | undefined, name: string): string {
  const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  return `${prefix(r)}${ns}/${r.plural}/${encodeURIComponent(name)}`;
}

/** The served storage version of a CRD as a Res. */
export function resOfCrd(crd: K8sObject): Res {
  const versions = (crd.spec?.versions ?? []) as { name: string; served?: boolean; storage?: boolean }[];
  const v = versions.find((x) => x.storage && x.served) ?? versions.find((x) => x.served) ?? versions[0];
  return {
    group: crd.spec?.group ?? "",
    version: v?.name ?? "v1",
    plural: crd.spec?.names?.plural ?? "",
    kind: crd.spec?.names?.kind ?? "",
    namespaced: crd.spec?.scope === "Namespaced",
  };
}

/** A resource named in a route: "apps/v1/deployments" or "v1/pods" (namespaced flag after a "~"). */
export const resKey = (r: Res) => `${r.group || "core"}~${r.version}~${r.plural}~${r.kind}~${r.namespaced ? 1 : 0}`;
export function resFromKey(key: string): Res | undefined {
  const [g, version, plural, kind, ns] = key.split("~");
  if (!version || !plural || !kind) return undefined;
  const known = Object.values(R).find((r) => r.plural === plural && r.group === (g === "core" ? "" : g));
  return known ?? { group: g === "core" ? "" : (g ?? ""), version, plural, kind, namespaced: ns === "1" };
}

export function age(ts: string | undefined, now = Date.now()): string {
  if (!ts) return "";
  const s = Math.max(0, Math.floor((now - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** Does the object's labels match a LabelSelector's matchLabels and simple matchExpressions? */
export function matches(
  selector:
    | {
        matchLabels?: Record<string, string>;
        matchExpressions?: { key: string; operator: string; values?: string[] }[];
      }
    | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!selector) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in l;
    if (e.operator === "In" && !(has && e.values?.includes(l[e.key]!))) return false;
    if (e.operator === "NotIn" && has && e.values?.includes(l[e.key]!)) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}
