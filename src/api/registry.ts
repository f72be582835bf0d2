// Every kind the cluster serves, and the lookups the API server, client and CLI share:
// by group/version/resource, and by any name a user may type (plural, singular, short, Kind).
// A registry is dynamic: the API server adds and removes custom resources' kinds at run time;
// lookups go through maps rebuilt on change, so they stay O(1) however many kinds there are.
import type { KindDef } from "./types.ts";
import {
  bindingKind,
  configMapKind,
  endpointsKind,
  eventKind,
  leaseKind,
  namespaceKind,
  nodeKind,
  secretKind,
} from "./kinds/core.ts";
import { podKind } from "./kinds/pod.ts";
import { serviceKind } from "./kinds/service.ts";
import {
  clusterRoleBindingKind,
  clusterRoleKind,
  roleBindingKind,
  roleKind,
  serviceAccountKind,
} from "./kinds/access.ts";
import { STORED_KINDS } from "./kinds/stored.ts";
import { horizontalPodAutoscalerV1Kind } from "./kinds/hpa-v1.ts";
import { EXTRA_KINDS } from "./kinds/extra.ts";
import { cronJobKind } from "./kinds/cronjob.ts";
import { persistentVolumeClaimKind, persistentVolumeKind } from "./kinds/storage.ts";
import { customResourceDefinitionKind } from "./kinds/crd.ts";
import {
  daemonSetKind,
  deploymentKind,
  jobKind,
  replicaSetKind,
  replicationControllerKind,
  statefulSetKind,
} from "./kinds/workloads.ts";

const BUILTIN: KindDef[] = [
  podKind,
  serviceKind,
  replicationControllerKind,
  nodeKind,
  endpointsKind,
  bindingKind,
  eventKind,
  namespaceKind,
  configMapKind,
  secretKind,
  deploymentKind,
  replicaSetKind,
  daemonSetKind,
  statefulSetKind,
  jobKind,
  cronJobKind,
  leaseKind,
  serviceAccountKind,
  roleKind,
  roleBindingKind,
  clusterRoleKind,
  clusterRoleBindingKind,
  persistentVolumeClaimKind,
  persistentVolumeKind,
  customResourceDefinitionKind,
  ...STORED_KINDS,
  ...EXTRA_KINDS,
  // After autoscaling/v2, which stays the preferred version and the one names resolve to.
  horizontalPodAutoscalerV1Kind,
];

export function apiVersionOf(kind: KindDef): string {
  return kind.group ? `${kind.group}/${kind.version}` : kind.version;
}

const gvr = (group: string, version: string, resource: string) => `${group}/${version}/${resource}`;

export class KindRegistry {
  private kinds: KindDef[] = [];
  private byGvr = new Map<string, KindDef>();
  private byGvk = new Map<string, KindDef>();
  private byResourceName = new Map<string, KindDef>();
  private resolved = new Map<string, KindDef | undefined>();
  private listeners = new Set<() => void>();
  /** Bumped on every change; caches derived from the registry (discovery) key on it. */
  generation = 0;

  constructor(kinds: KindDef[] = []) {
    for (const k of kinds) this.index(k);
  }

  private index(k: KindDef): void {
    this.kinds.push(k);
    this.byGvr.set(gvr(k.group, k.version, k.resource), k);
    this.byGvk.set(`${apiVersionOf(k)}/${k.kind}`, k);
    if (!this.byResourceName.has(k.resource)) this.byResourceName.set(k.resource, k);
  }

  private changed(): void {
    this.resolved.clear();
    this.generation++;
    for (const l of this.listeners) l();
  }

  /** Adds a kind, replacing the one with the same group/version/resource. */
  add(kind: KindDef): void {
    const old = this.byGvr.get(gvr(kind.group, kind.version, kind.resource));
    if (old) this.removeQuiet(old);
    this.index(kind);
    this.changed();
  }

  remove(kind: KindDef): void {
    this.removeQuiet(kind);
    this.changed();
  }

  private removeQuiet(kind: KindDef): void {
    const current = this.byGvr.get(gvr(kind.group, kind.version, kind.resource));
    if (!current) return;
    this.kinds = this.kinds.filter((k) => k !== current);
    this.byGvr.delete(gvr(kind.group, kind.version, kind.resource));
    this.byGvk.delete(`${apiVersionOf(current)}/${current.kind}`);
    this.byResourceName.delete(current.resource);
    const other = this.kinds.find((k) => k.resource === current.resource);
    if (other) this.byResourceName.set(other.resource, other);
  }

  /** Called after every add/remove. Returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  all(): KindDef[] {
    return this.kinds;
  }

  byResource(group: string, version: string, resource: string): KindDef | undefined {
    return this.byGvr.get(gvr(group, version, resource));
  }

  /** By plural resource name alone (first registered wins: built-ins before custom ones). */
  byPlural(resource: string): KindDef | undefined {
    return this.byResourceName.get(resource);
  }

  /** "pods", "pod", "po", "Pod", "deployments.apps", "deploy.apps" (case-insensitive). */
  resolve(name: string): KindDef | undefined {
    if (this.resolved.has(name)) return this.resolved.get(name);
    const kind = this.find(name);
    this.resolved.set(name, kind);
    return kind;
  }

  private find(name: string): KindDef | undefined {
    const lower = name.toLowerCase();
    const dot = lower.indexOf(".");
    const [base, group] = dot >= 0 ? [lower.slice(0, dot), lower.slice(dot + 1)] : [lower, undefined];
    return this.kinds.find(
      (k) =>
        (group === undefined || k.group === group) &&
        (k.resource === base || k.singular === base || k.kind.toLowerCase() === base || k.shortNames.includes(base)),
    );
  }

  /** The kind for an object's apiVersion + kind. */
  of(apiVersion: string | undefined, kind: string | undefined): KindDef | undefined {
    return this.byGvk.get(`${apiVersion}/${kind}`);
  }
}

/** The built-in kinds; the API server copies them into its own registry and adds CRDs there. */
export const builtinKinds = new KindRegistry(BUILTIN);

export function allKinds(): KindDef[] {
  return builtinKinds.all();
}

export function kindByResource(group: string, version: string, resource: string): KindDef | undefined {
  return builtinKinds.byResource(group, version, resource);
}

export function resolveKind(name: string): KindDef | undefined {
  return builtinKinds.resolve(name);
}

export function kindOf(apiVersion: string | undefined, kind: string | undefined): KindDef | undefined {
  return builtinKinds.of(apiVersion, kind);
}
