// ResourceQuota usage as upstream's evaluators count it (pkg/quota/v1/evaluator/core): what one
// object charges, which quotas and which hard resources it falls under, and the pod constraints
// (a quota on cpu/memory requires every container to say it). Shared by the admission step and
// the resourcequota controller, which recomputes status.used from the objects themselves.
import { cpuMillis, parseQuantity } from "./quantity.ts";
import { specOf } from "./kinds/define.ts";
import type { ServiceSpec } from "./kinds/service.ts";
import type { PersistentVolumeClaimSpec } from "./kinds/storage.ts";
import type { ResourceQuota } from "./kinds/stored.ts";
import type { KubeObject } from "./types.ts";

export type Usage = Record<string, number>;
type Res = Record<string, string>;
type PodLike = {
  spec?: {
    containers?: { name: string; resources?: { requests?: Res; limits?: Res } }[];
    initContainers?: { name: string; resources?: { requests?: Res; limits?: Res } }[];
    activeDeadlineSeconds?: number;
  };
  status?: { phase?: string };
};
export type Quota = ResourceQuota;

const CPU = new Set(["cpu", "requests.cpu", "limits.cpu"]);
const MEMORY_LIKE = /(^|\.)(memory|storage|ephemeral-storage)$/;

/** A quantity as a number: cpu in millicores, everything else in base units. */
export function amount(resource: string, q: string | number): number {
  return CPU.has(resource) ? cpuMillis(q) : Math.ceil(parseQuantity(q));
}

/** Back to the canonical text Kubernetes prints (500m, 2, 128Mi, 1G, 3). */
export function formatAmount(resource: string, n: number): string {
  if (CPU.has(resource)) return n % 1000 === 0 ? String(n / 1000) : `${n}m`;
  if (MEMORY_LIKE.test(resource) && n !== 0) {
    for (const [suffix, size] of [
      ["Ei", 2 ** 60],
      ["Pi", 2 ** 50],
      ["Ti", 2 ** 40],
      ["Gi", 2 ** 30],
      ["Mi", 2 ** 20],
      ["Ki", 2 ** 10],
    ] as const)
      if (n % size === 0) return `${n / size}${suffix}`;
    for (const [suffix, size] of [
      ["E", 1e18],
      ["P", 1e15],
      ["T", 1e12],
      ["G", 1e9],
      ["M", 1e6],
      ["k", 1e3],
    ] as const)
      if (n % size === 0) return `${n / size}${suffix}`;
  }
  return String(n);
}

/** `count/pods`, `count/deployments.apps`: the object-count name of a resource. */
export const countName = (resource: string, group: string) => `count/${resource}${group ? `.${group}` : ""}`;

/** Resources with a legacy object-count name (`pods`, `services`, ...). */
const LEGACY_COUNTS = new Set([
  "services",
  "configmaps",
  "secrets",
  "persistentvolumeclaims",
  "replicationcontrollers",
  "resourcequotas",
]);
const POD_RESOURCES = new Set([
  "pods",
  "cpu",
  "memory",
  "requests.cpu",
  "requests.memory",
  "limits.cpu",
  "limits.memory",
  "ephemeral-storage",
  "requests.ephemeral-storage",
  "limits.ephemeral-storage",
]);

/** The hard resources among `hard` that objects of this resource are charged for. */
export function matchingResources(resource: string, group: string, hard: string[]): string[] {
  return hard.filter((h) => {
    if (h === countName(resource, group)) return true;
    if (group) return false;
    if (resource === "pods") return POD_RESOURCES.has(h) || (h.startsWith("requests.") && h.includes("/"));
    if (resource === "services")
      return h === "services" || h === "services.nodeports" || h === "services.loadbalancers";
    if (resource === "persistentvolumeclaims") return h === "persistentvolumeclaims" || h === "requests.storage";
    return LEGACY_COUNTS.has(resource) && h === resource;
  });
}

/** Pods that have ended (Succeeded/Failed) are not charged compute resources or `pods`. */
const podCharged = (pod: PodLike) => pod.status?.phase !== "Succeeded" && pod.status?.phase !== "Failed";

/** Requests or limits of a pod: the sum over app containers, at least the largest init container (upstream's PodRequests). */
function podTotals(pod: PodLike, which: "requests" | "limits"): Usage {
  const sum: Usage = {};
  for (const c of pod.spec?.containers ?? [])
    for (const [k, q] of Object.entries(c.resources?.[which] ?? {})) sum[k] = (sum[k] ?? 0) + amount(k, q);
  for (const c of pod.spec?.initContainers ?? [])
    for (const [k, q] of Object.entries(c.resources?.[which] ?? {})) sum[k] = Math.max(sum[k] ?? 0, amount(k, q));
  return sum;
}

/** What one object charges (upstream's Usage). */
export function usageOf(resource: string, group: string, obj: KubeObject): Usage {
  const u: Usage = { [countName(resource, group)]: 1 };
  if (group) return u;
  if (resource === "pods") {
    const pod = obj as PodLike;
    if (!podCharged(pod)) return u;
    u.pods = 1;
    const req = podTotals(pod, "requests");
    const lim = podTotals(pod, "limits");
    for (const r of ["cpu", "memory", "ephemeral-storage"]) {
      if (req[r] !== undefined) u[r] = u[`requests.${r}`] = req[r]!;
      if (lim[r] !== undefined) u[`limits.${r}`] = lim[r]!;
    }
    for (const [k, n] of Object.entries(req)) if (k.includes("/")) u[`requests.${k}`] = n;
    return u;
  }
  if (LEGACY_COUNTS.has(resource)) u[resource] = 1;
  if (resource === "services") {
    const spec = specOf<ServiceSpec>(obj);
    if (spec.type === "LoadBalancer") u["services.loadbalancers"] = 1;
    if (spec.type === "NodePort" || spec.type === "LoadBalancer") u["services.nodeports"] = (spec.ports ?? []).length;
  }
  if (resource === "persistentvolumeclaims") {
    const storage = specOf<PersistentVolumeClaimSpec>(obj).resources?.requests?.storage;
    if (storage) u["requests.storage"] = amount("requests.storage", storage);
  }
  return u;
}

function bestEffort(pod: PodLike): boolean {
  return [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].every(
    (c) => !Object.keys(c.resources?.requests ?? {}).length && !Object.keys(c.resources?.limits ?? {}).length,
  );
}

/** Whether a quota's scopes select the object (scopes only select pods, as upstream's). */
export function scopesMatch(quota: Quota, resource: string, group: string, obj: KubeObject): boolean {
  const scopes = quota.spec?.scopes ?? [];
  if (!scopes.length) return true;
  if (resource !== "pods" || group) return false;
  const pod = obj as PodLike;
  const terminating = typeof pod.spec?.activeDeadlineSeconds === "number" && pod.spec.activeDeadlineSeconds >= 0;
  return scopes.every((s) => {
    if (s === "Terminating") return terminating;
    if (s === "NotTerminating") return !terminating;
    if (s === "BestEffort") return bestEffort(pod);
    if (s === "NotBestEffort") return !bestEffort(pod);
    return false;
  });
}

const VALIDATION_SET = new Set(["cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"]);

/** Upstream's pod Constraints: each container must state what a quota tracks; the message lists what is missing, by resource. */
export function podConstraints(required: string[], pod: PodLike): string | undefined {
  const need = required.filter((r) => VALIDATION_SET.has(r));
  if (!need.length) return undefined;
  const missing = new Map<string, Set<string>>();
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
    const has = new Set<string>();
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of ["cpu", "memory"]) {
      if (req[r] !== undefined) has.add(r).add(`requests.${r}`);
      if (lim[r] !== undefined) has.add(`limits.${r}`);
    }
    for (const r of need) if (!has.has(r)) (missing.get(r) ?? missing.set(r, new Set()).get(r)!).add(c.name);
  }
  if (!missing.size) return undefined;
  return `must specify ${[...missing.keys()]
    .sort()
    .map((r) => `${r} for: ${[...missing.get(r)!].sort().join(",")}`)
    .join("; ")}`;
}

/** `requests.cpu=500m,pods=1`: sorted by name, as upstream's prettyPrint. */
export function prettyPrint(u: Usage): string {
  return Object.keys(u)
    .sort()
    .map((k) => `${k}=${formatAmount(k, u[k]!)}`)
    .join(",");
}

/** Parses a hard/used list into numbers. */
export function toUsage(list: Res | undefined): Usage {
  const u: Usage = {};
  for (const [k, q] of Object.entries(list ?? {})) u[k] = amount(k, q);
  return u;
}

export function fromUsage(u: Usage): Res {
  return Object.fromEntries(
    Object.keys(u)
      .sort()
      .map((k) => [k, formatAmount(k, u[k]!)]),
  );
}

/** The usage of `keys` summed over objects (the controller's recomputation). */
export function sumUsage(resource: string, group: string, objects: KubeObject[], quota: Quota, keys: string[]): Usage {
  const out: Usage = Object.fromEntries(keys.map((k) => [k, 0]));
  for (const o of objects) {
    if (!scopesMatch(quota, resource, group, o)) continue;
    const u = usageOf(resource, group, o);
    for (const k of keys) out[k]! += u[k] ?? 0;
  }
  return out;
}
