// The replication manager, for ReplicationControllers and ReplicaSets alike: exactly
// spec.replicas pods matching the selector, created from the template, extras deleted
// (least useful first), orphans adopted and non-matching pods released; status from what is seen.
import { type Pod, podActive, podAvailable, podReady } from "../../../api/kinds/pod.ts";
import type { ReplicaSet, ReplicationController } from "../../../api/kinds/workloads.ts";
import { requirementsOf, matchesLabels } from "../../../api/selectors.ts";
import { isNotFound, keyOf, splitKey, type InformerView, ignore, isConflict } from "../../../client/index.ts";
import { Controller, controllerRef } from "../base.ts";
import {
  BURST_REPLICAS,
  createPods,
  Expectations,
  indexOrphansByNamespace,
  indexPodsByController,
  orphanPods,
  ownedPods,
  podFromTemplate,
} from "../pods.ts";

const phaseRank: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/** Deletion order as Kubernetes ranks pods: unscheduled, pending, not ready, newest, most restarts first. */
export function deletionOrder(a: Pod, b: Pod): number {
  const node = (p: Pod) => (p.spec?.nodeName ? 1 : 0);
  if (node(a) !== node(b)) return node(a) - node(b);
  const phase = (p: Pod) => phaseRank[p.status?.phase ?? "Pending"] ?? 0;
  if (phase(a) !== phase(b)) return phase(a) - phase(b);
  if (podReady(a) !== podReady(b)) return podReady(a) ? 1 : -1;
  const restarts = (p: Pod) => (p.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  return Date.parse(b.metadata?.creationTimestamp ?? "") - Date.parse(a.metadata?.creationTimestamp ?? "");
}

const sameLabels = (a: Record<string, string> = {}, b: Record<string, string> = {}): boolean => {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const k of keys) if (a[k] !== b[k]) return false;
  return true;
};
const readyOf = (p: Pod) => p.status?.conditions?.find((c) => c.type === "Ready");
const controllerOf = (p: Pod) => p.metadata?.ownerReferences?.find((r) => r.controller);

/**
 * Whether a pod changed in anything a sync reads of it (whose it is, whether it matches and counts
 * as active, ready or available). Others (its binding, most status writes, a resync) need no sync:
 * upstream syncs the owner on every change of its pods, and each sync walks all of them.
 */
export function changedForOwner(old: Pod, p: Pod): boolean {
  if (old === p) return false;
  const a = old.metadata;
  const b = p.metadata;
  if (a?.deletionTimestamp !== b?.deletionTimestamp || !sameLabels(a?.labels, b?.labels)) return true;
  const ca = controllerOf(old);
  const cb = controllerOf(p);
  if (ca?.uid !== cb?.uid || ca?.kind !== cb?.kind || ca?.name !== cb?.name) return true;
  if (podActive(old) !== podActive(p)) return true;
  const ra = readyOf(old);
  const rb = readyOf(p);
  return ra?.status !== rb?.status || ra?.lastTransitionTime !== rb?.lastTransitionTime;
}

class ReplicaController extends Controller {
  private expectations = new Expectations();
  constructor(
    ctx: ConstructorParameters<typeof Controller>[0],
    readonly name: string,
    private readonly resource: "replicationcontrollers" | "replicasets",
    private readonly kind: string,
  ) {
    super(ctx);
  }

  private get owners(): InformerView<ReplicaSet | ReplicationController> {
    return this.ctx.informers.get(this.resource);
  }

  setup(): void {
    this.owners.on({
      add: this.enqueue,
      update: (_, o) => this.enqueue(o),
      delete: (o) => this.expectations.forget(keyOf(o)),
    });
    const pods = this.ctx.informers.get<Pod>("pods");
    indexPodsByController(pods);
    indexOrphansByNamespace(pods);
    const ownerKeys = (p: Pod): string[] => {
      const ref = p.metadata?.ownerReferences?.find((r) => r.controller);
      if (ref) return ref.kind === this.kind ? [`${p.metadata!.namespace}/${ref.name}`] : [];
      // An orphan: every owner whose selector matches may adopt it.
      return this.owners
        .list()
        .filter(
          (o) =>
            o.metadata?.namespace === p.metadata?.namespace &&
            matchesLabels(requirementsOf(o.spec.selector), p.metadata?.labels),
        )
        .map(keyOf);
    };
    pods.on({
      add: (p) => {
        for (const k of ownerKeys(p)) {
          this.expectations.observedCreate(k);
          this.queue.add(k);
        }
      },
      update: (old, p) => {
        if (!changedForOwner(old, p)) return;
        for (const k of new Set([...ownerKeys(old), ...ownerKeys(p)])) this.queue.add(k);
      },
      delete: (p) => ownerKeys(p).forEach((k) => this.queue.add(k)),
    });
  }

  async reconcile(key: string): Promise<void> {
    const owner = this.owners.get(key);
    if (!owner) return;
    const { namespace } = splitKey(key);
    const spec = owner.spec;
    const reqs = requirementsOf(spec.selector);
    const podsApi = this.ctx.client.resource("pods", namespace);
    const owned = ownedPods(this.ctx.informers.get<Pod>("pods"), owner);
    const mine: Pod[] = [];
    // Release owned pods that no longer match; adopt matching orphans.
    for (const p of owned) {
      if (matchesLabels(reqs, p.metadata?.labels)) mine.push(p);
      else if (!p.metadata?.deletionTimestamp)
        await podsApi
          .patch(
            p.metadata!.name!,
            {
              metadata: {
                ownerReferences: (p.metadata?.ownerReferences ?? []).filter((r) => r.uid !== owner.metadata?.uid),
                resourceVersion: p.metadata?.resourceVersion,
              },
            },
            "merge",
          )
          .catch(ignore(isNotFound, isConflict));
    }
    if (!owner.metadata?.deletionTimestamp)
      for (const p of orphanPods(this.ctx.informers.get<Pod>("pods"), namespace ?? "")) {
        if (p.metadata?.deletionTimestamp || !podActive(p)) continue;
        if (!matchesLabels(reqs, p.metadata?.labels)) continue;
        await podsApi
          .patch(
            p.metadata!.name!,
            {
              metadata: {
                ownerReferences: [...(p.metadata?.ownerReferences ?? []), controllerRef(owner)],
                resourceVersion: p.metadata?.resourceVersion,
              },
            },
            "merge",
          )
          .then(() => mine.push(p), ignore(isNotFound, isConflict));
      }

    const active = mine.filter(podActive);
    const want = owner.metadata?.deletionTimestamp ? active.length : (spec.replicas ?? 1);
    if (this.expectations.satisfied(key)) {
      if (active.length < want) {
        const n = Math.min(want - active.length, BURST_REPLICAS);
        this.expectations.expectCreates(key, n);
        const fresh = Array.from({ length: n }, () => podFromTemplate(owner, spec.template));
        await createPods(this.ctx.client, namespace!, fresh, (err) => {
          this.expectations.creationFailed(key);
          this.ctx.log(`${this.name}: creating a pod for ${key}: ${(err as Error).message}`);
        });
      } else if (active.length > want) {
        const extra = [...active].sort(deletionOrder).slice(0, Math.min(active.length - want, BURST_REPLICAS));
        await Promise.all(extra.map((p) => podsApi.delete(p.metadata!.name!).catch(ignore(isNotFound, isConflict))));
      }
    }

    const min = spec.minReadySeconds ?? 0;
    // One pass over the owner's pods: every sync walks all of them (hundreds for a big Deployment).
    const templateLabels = Object.entries(spec.template.metadata?.labels ?? {});
    const at = Date.now();
    let fullyLabeled = 0;
    let ready = 0;
    let available = 0;
    for (const p of active) {
      const labels = p.metadata?.labels;
      let all = true;
      for (const [k, v] of templateLabels) if (labels?.[k] !== v) all = false;
      if (all) fullyLabeled++;
      if (!podReady(p)) continue;
      ready++;
      if (podAvailable(p, min, at)) available++;
    }
    const status: Record<string, unknown> = {
      replicas: active.length,
      fullyLabeledReplicas: fullyLabeled,
      readyReplicas: ready,
      availableReplicas: available,
      observedGeneration: owner.metadata?.generation,
    };
    const conds = owner.status?.conditions ?? [];
    if (conds.length) status.conditions = conds;
    const old = owner.status ?? {};
    if (
      JSON.stringify({ ...old, ...status }) !== JSON.stringify(old) ||
      Object.keys(status).some((k) => (old as Record<string, unknown>)[k] !== status[k])
    )
      await this.ctx.client
        .resource(this.resource, namespace)
        .updateStatus({ ...owner, status: { ...old, ...status } })
        .catch(ignore(isNotFound, isConflict));
    if (min > 0 && status.readyReplicas !== status.availableReplicas) this.queue.addAfter(key, min * 1000);
  }
}

export class ReplicationManager extends ReplicaController {
  constructor(ctx: ConstructorParameters<typeof Controller>[0]) {
    super(ctx, "replicationmanager", "replicationcontrollers", "ReplicationController");
  }
}

export class ReplicaSetController extends ReplicaController {
  constructor(ctx: ConstructorParameters<typeof Controller>[0]) {
    super(ctx, "replicaset", "replicasets", "ReplicaSet");
  }
}
