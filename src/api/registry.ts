// Every kind the cluster serves, and the lookups the API server, client and CLI share:
// by group/version/resource, and by any name a user may type (plural, singular, short, Kind).
import type { KindDef } from "./types.ts";
import { bindingKind, configMapKind, endpointsKind, eventKind, leaseKind, namespaceKind, nodeKind, secretKind } from "./kinds/core.ts";
import { podKind } from "./kinds/pod.ts";
import { serviceKind } from "./kinds/service.ts";
import { clusterRoleBindingKind, clusterRoleKind, roleBindingKind, roleKind, serviceAccountKind } from "./kinds/access.ts";
import { STORED_KINDS } from "./kinds/stored.ts";
import { cronJobKind } from "./kinds/cronjob.ts";
import { persistentVolumeClaimKind, persistentVolumeKind } from "./kinds/storage.ts";
import { daemonSetKind, deploymentKind, jobKind, replicaSetKind, replicationControllerKind, statefulSetKind } from "./kinds/workloads.ts";

const KINDS: KindDef[] = [
  podKind, serviceKind, replicationControllerKind, nodeKind, endpointsKind, bindingKind, eventKind, namespaceKind, configMapKind, secretKind,
  deploymentKind, replicaSetKind, daemonSetKind, statefulSetKind, jobKind, cronJobKind, leaseKind,
  serviceAccountKind, roleKind, roleBindingKind, clusterRoleKind, clusterRoleBindingKind,
  persistentVolumeClaimKind, persistentVolumeKind,
  ...STORED_KINDS,
];

export function allKinds(): KindDef[] {
  return KINDS;
}

export function apiVersionOf(kind: KindDef): string {
  return kind.group ? `${kind.group}/${kind.version}` : kind.version;
}

export function kindByResource(group: string, version: string, resource: string): KindDef | undefined {
  return KINDS.find((k) => k.group === group && k.version === version && k.resource === resource);
}

/** "pods", "pod", "po", "Pod", "deployments.apps", "deploy.apps" (case-insensitive). */
const resolved = new Map<string, KindDef | undefined>();
export function resolveKind(name: string): KindDef | undefined {
  if (resolved.has(name)) return resolved.get(name);
  const kind = findKind(name);
  resolved.set(name, kind);
  return kind;
}

function findKind(name: string): KindDef | undefined {
  const lower = name.toLowerCase();
  const dot = lower.indexOf(".");
  const [base, group] = dot >= 0 ? [lower.slice(0, dot), lower.slice(dot + 1)] : [lower, undefined];
  return KINDS.find(
    (k) =>
      (group === undefined || k.group === group || (group === "" && k.group === "")) &&
      (k.resource === base || k.singular === base || k.kind.toLowerCase() === base || k.shortNames.includes(base)),
  );
}

/** The kind for an object's apiVersion + kind. */
export function kindOf(apiVersion: string | undefined, kind: string | undefined): KindDef | undefined {
  return KINDS.find((k) => apiVersionOf(k) === apiVersion && k.kind === kind);
}
