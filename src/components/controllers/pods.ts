// Helpers the workload controllers share for the pods they own: an index of pods by
// controller uid, pod creation from a template, and creation expectations (a controller does
// not create again until the informer has seen its last creations).
import type { Pod, PodSpec, PodTemplateSpec } from "../../api/kinds/pod.ts";
import type { KubeObject } from "../../api/types.ts";
import type { InformerView } from "../../client/index.ts";
import type { Client } from "../../client/index.ts";
import { controllerRef } from "./base.ts";
import { cloneJson } from "../../api/clone.ts";

export function controllerUid(o: KubeObject): string[] {
  const ref = (o.metadata?.ownerReferences ?? []).find((r) => r.controller);
  return ref ? [ref.uid] : [];
}

/** Adds the by-controller index to the shared pods informer (idempotent). */
export function indexPodsByController<T extends KubeObject>(pods: InformerView<T>): void {
  pods.addIndexer("controller", controllerUid);
}

export function ownedPods<T extends KubeObject>(pods: InformerView<T>, owner: KubeObject): T[] {
  return pods.byIndex("controller", owner.metadata!.uid!);
}

/**
 * Adds an index of pods without a controller by namespace (the ones an owner may adopt), so a sync
 * looks at the few orphans of its namespace instead of every pod of the cluster (100k pods: a sync
 * of each ReplicaSet walked them all).
 */
export function indexOrphansByNamespace<T extends KubeObject>(pods: InformerView<T>): void {
  pods.addIndexer("orphans", (o) => (controllerUid(o).length ? [] : [o.metadata?.namespace ?? ""]));
}

/** The pods of a namespace that no controller owns (see indexOrphansByNamespace). */
export function orphanPods<T extends KubeObject>(pods: InformerView<T>, namespace: string): T[] {
  return pods.byIndex("orphans", namespace);
}

/** The "namespace/name" key of a pod's controlling owner of the given kind, if any. */
export function ownerKey(pod: KubeObject, kind: string): string | undefined {
  const ref = pod.metadata?.ownerReferences?.find((r) => r.controller && r.kind === kind);
  return ref ? `${pod.metadata!.namespace}/${ref.name}` : undefined;
}

/** Enqueues the owner (of `kind`) of every pod that appears, changes or goes; new pods settle expectations. */
export function enqueueOwnersOfPods<T extends KubeObject>(
  pods: InformerView<T>,
  kind: string,
  enqueue: (key: string) => void,
  expectations?: Expectations,
): void {
  indexPodsByController(pods);
  const each = (p: KubeObject, created = false) => {
    const k = ownerKey(p, kind);
    if (!k) return;
    if (created) expectations?.observedCreate(k);
    enqueue(k);
  };
  pods.on({ add: (p) => each(p, true), update: (_, p) => each(p), delete: (p) => each(p) });
}

export function podFromTemplate(
  owner: KubeObject,
  template: PodTemplateSpec,
  extra: { name?: string; generateName?: string; labels?: Record<string, string>; spec?: Partial<PodSpec> } = {},
): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      ...(extra.name ? { name: extra.name } : { generateName: extra.generateName ?? `${owner.metadata!.name}-` }),
      namespace: owner.metadata!.namespace,
      labels: { ...template.metadata?.labels, ...extra.labels },
      annotations: template.metadata?.annotations,
      ownerReferences: [controllerRef(owner)],
    },
    spec: { ...cloneJson(template.spec), ...extra.spec },
  };
}

/**
 * Counts creations a controller is waiting to see, per owner key (client-go's expectations). An
 * expectation lapses after 30 s of real time, not of ctx.clock: it guards against a watch event
 * that never arrives, which is a matter of the informer's real latency (upstream's isExpired also
 * reads clock.RealClock). On a test's stepped clock it would lapse at each step and let the
 * controller create the same pods twice.
 */
export class Expectations {
  private pending = new Map<string, { adds: number; until: number }>();
  expectCreates(key: string, n: number): void {
    this.pending.set(key, { adds: n, until: Date.now() + 30_000 });
  }
  observedCreate(key: string): void {
    const p = this.pending.get(key);
    if (p && --p.adds <= 0) this.pending.delete(key);
  }
  creationFailed(key: string): void {
    this.observedCreate(key);
  }
  /** True when nothing is outstanding (or the expectation expired). */
  satisfied(key: string): boolean {
    const p = this.pending.get(key);
    if (!p) return true;
    if (Date.now() > p.until) {
      this.pending.delete(key);
      return true;
    }
    return false;
  }
  forget(key: string): void {
    this.pending.delete(key);
  }
}

/** Most pods a controller creates or deletes in one sync (upstream's burstReplicas / MaxPodCreateDeletePerSync). */
export const BURST_REPLICAS = 500;

export async function createPods(
  client: Client,
  namespace: string,
  pods: KubeObject[],
  onFail: (err: unknown) => void,
): Promise<void> {
  // Slow start: 1, 2, 4, ... so a broken template fails fast instead of N times.
  let batch = 1;
  for (let i = 0; i < pods.length; ) {
    const slice = pods.slice(i, i + batch);
    const results = await Promise.allSettled(slice.map((p) => client.resource("pods", namespace).create(p)));
    const failed = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    for (const f of failed) onFail(f.reason);
    i += slice.length;
    if (failed.length) {
      for (let k = i; k < pods.length; k++) onFail(failed[0]!.reason);
      return;
    }
    batch *= 2;
  }
}
