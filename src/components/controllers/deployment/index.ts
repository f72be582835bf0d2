// The Deployment controller: one ReplicaSet per pod template (named by its hash), rolled from
// old to new within maxSurge/maxUnavailable (or all at once with Recreate), revisions in
// annotations (so `rollout history|undo` work), old ReplicaSets pruned to revisionHistoryLimit,
// and the status and conditions `kubectl rollout status` reads.
import { rfc3339 } from "../../../api/time.ts";
import type { Deployment, ReplicaSet, WorkloadCondition } from "../../../api/kinds/workloads.ts";
import type { KubeObject } from "../../../api/types.ts";
import { isAlreadyExists, isNotFound, keyOf, splitKey, ignore, isConflict } from "../../../client/index.ts";
import { Controller, controllerRef } from "../base.ts";
import { templateHash } from "../revision.ts";
import { newReplicaCount, oldScaleDownBudget, surgeAndUnavailable } from "./rolling.ts";

const REVISION = "deployment.kubernetes.io/revision";
const HASH = "pod-template-hash";
const rev = (o: KubeObject) => Number(o.metadata?.annotations?.[REVISION] ?? 0);
const available = (r: ReplicaSet) => r.status?.availableReplicas ?? 0;

/** Sets condition c, stamping a change with the time t (RFC 3339). */
function setCondition(conds: WorkloadCondition[], c: WorkloadCondition, t: string): WorkloadCondition[] {
  const old = conds.find((x) => x.type === c.type);
  if (old && old.status === c.status && old.reason === c.reason)
    return conds.map((x) => (x.type === c.type ? { ...x, message: c.message } : x));
  const next = {
    ...c,
    lastUpdateTime: t,
    lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : t,
  };
  return [...conds.filter((x) => x.type !== c.type), next];
}

export class DeploymentController extends Controller {
  readonly name = "deployment";
  private setCondition = (conds: WorkloadCondition[], c: WorkloadCondition) =>
    setCondition(conds, c, rfc3339(this.ctx.clock.now()));

  setup(): void {
    this.ctx.informers.get("deployments").on({ add: this.enqueue, update: (_, d) => this.enqueue(d) });
    const rss = this.ctx.informers.get("replicasets");
    try {
      rss.addIndexer("controller", (o) =>
        (o.metadata?.ownerReferences ?? []).filter((r) => r.controller).map((r) => r.uid),
      );
    } catch {}
    const owner = (r: KubeObject) => {
      const ref = r.metadata?.ownerReferences?.find((x) => x.controller && x.kind === "Deployment");
      return ref ? `${r.metadata!.namespace}/${ref.name}` : undefined;
    };
    rss.on({
      add: (r) => owner(r) && this.queue.add(owner(r)!),
      update: (_, r) => owner(r) && this.queue.add(owner(r)!),
      delete: (r) => owner(r) && this.queue.add(owner(r)!),
    });
  }

  async reconcile(key: string): Promise<void> {
    const d = this.ctx.informers.get<Deployment>("deployments").get(key);
    if (!d || d.metadata?.deletionTimestamp) return;
    const { namespace, name } = splitKey(key);
    const ds = d.spec;
    const replicas = ds.replicas ?? 1;
    const rsApi = this.ctx.client.resource<ReplicaSet>("replicasets", namespace);
    const owned = this.ctx.informers
      .get<ReplicaSet>("replicasets")
      .byIndex("controller", d.metadata!.uid!)
      .filter((r) => !r.metadata?.deletionTimestamp);
    const hash = templateHash(ds.template);
    let newRS = owned.find((r) => r.metadata?.labels?.[HASH] === hash);
    const olds = owned.filter((r) => r !== newRS).sort((a, b) => rev(a) - rev(b));
    const maxRev = Math.max(0, ...owned.map(rev));
    // Desired replica counts as this pass changes them (informer objects are frozen).
    const planned = new Map<string, number>();
    const spec = (r: ReplicaSet) => planned.get(r.metadata!.name!) ?? r.spec.replicas ?? 0;
    const scale = async (r: ReplicaSet, n: number) => {
      if (spec(r) === n) return;
      planned.set(r.metadata!.name!, n);
      await rsApi
        .patch(r.metadata!.name!, { spec: { replicas: n } }, "merge", { subresource: "scale" })
        .catch(ignore(isNotFound, isConflict));
    };
    let conditions = (d.status?.conditions ?? []).map((c) => ({ ...c }));

    if (!ds.paused) {
      if (!newRS) {
        const labels = { ...ds.template.metadata?.labels, [HASH]: hash };
        const rs: ReplicaSet = {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          metadata: {
            name: `${name}-${hash}`,
            namespace,
            labels,
            annotations: {
              [REVISION]: String(maxRev + 1),
              "deployment.kubernetes.io/desired-replicas": String(replicas),
            },
            ownerReferences: [controllerRef(d)],
          },
          spec: {
            replicas: ds.strategy?.type === "Recreate" || olds.some((o) => spec(o) > 0) ? 0 : replicas,
            selector: { ...ds.selector, matchLabels: { ...ds.selector.matchLabels, [HASH]: hash } },
            template: { ...ds.template, metadata: { ...ds.template.metadata, labels } },
            minReadySeconds: ds.minReadySeconds ?? 0,
          },
        };
        newRS = await rsApi
          .create(rs)
          .catch(async (e) => (isAlreadyExists(e) ? rsApi.get(rs.metadata!.name!) : Promise.reject(e)));
        conditions = this.setCondition(conditions, {
          type: "Progressing",
          status: "True",
          reason: "NewReplicaSetCreated",
          message: `Created new replica set "${rs.metadata!.name}"`,
        });
      } else if (rev(newRS) < maxRev) {
        // A rollback to an older template: it becomes the newest revision again.
        await rsApi
          .patch(newRS.metadata!.name!, { metadata: { annotations: { [REVISION]: String(maxRev + 1) } } }, "merge")
          .catch(ignore(isNotFound, isConflict));
      }
      if (ds.strategy?.type === "Recreate") {
        for (const o of olds) await scale(o, 0);
        const oldPods = olds.reduce((n, o) => n + (o.status?.replicas ?? 0), 0);
        if (oldPods === 0) await scale(newRS!, replicas);
      } else {
        const { maxSurge, maxUnavailable } = surgeAndUnavailable(replicas, ds.strategy?.rollingUpdate);
        const total = owned.reduce((n, r) => n + spec(r), 0) + (owned.includes(newRS!) ? 0 : spec(newRS!));
        const target = newReplicaCount(replicas, spec(newRS!), total, maxSurge);
        if (spec(newRS!) > replicas) await scale(newRS!, replicas);
        else if (target !== spec(newRS!)) await scale(newRS!, target);
        const totalNow = olds.reduce((n, r) => n + spec(r), 0) + spec(newRS!);
        let budget = oldScaleDownBudget(
          replicas,
          maxUnavailable,
          totalNow,
          Math.max(0, spec(newRS!) - available(newRS!)),
        );
        // Unhealthy old replicas go first, without counting against availability.
        for (const o of olds) {
          const unhealthy = Math.max(0, spec(o) - available(o));
          if (unhealthy > 0) await scale(o, spec(o) - unhealthy);
        }
        for (const o of olds) {
          if (budget <= 0) break;
          const down = Math.min(spec(o), budget);
          if (down > 0) await scale(o, spec(o) - down);
          budget -= down;
        }
        if (newRS && olds.some((o) => spec(o) > 0))
          conditions = this.setCondition(conditions, {
            type: "Progressing",
            status: "True",
            reason: "ReplicaSetUpdated",
            message: `ReplicaSet "${newRS.metadata?.name}" is progressing.`,
          });
      }
      // History: keep revisionHistoryLimit old ReplicaSets that are scaled to zero.
      const idle = olds.filter((o) => spec(o) === 0 && (o.status?.replicas ?? 0) === 0);
      for (const o of idle.slice(0, Math.max(0, idle.length - (ds.revisionHistoryLimit ?? 10))))
        await rsApi.delete(o.metadata!.name!).catch(ignore(isNotFound, isConflict));
    }

    // Status from what the ReplicaSets report.
    const all = this.ctx.informers.get<ReplicaSet>("replicasets").byIndex("controller", d.metadata!.uid!);
    const fresh = all.find((r) => r.metadata?.labels?.[HASH] === hash);
    const sum = (f: (r: ReplicaSet) => number) => all.reduce((n, r) => n + f(r), 0);
    const specOf = (r: ReplicaSet) => planned.get(r.metadata!.name!) ?? r.spec.replicas ?? 0;
    const { maxUnavailable } = surgeAndUnavailable(
      replicas,
      ds.strategy?.type === "Recreate" ? { maxSurge: 0, maxUnavailable: replicas } : ds.strategy?.rollingUpdate,
    );
    const availableCount = sum(available);
    const updated = fresh?.status?.replicas ?? 0;
    const totalReplicas = sum((r) => r.status?.replicas ?? 0);
    conditions = this.setCondition(
      conditions,
      availableCount >= replicas - maxUnavailable
        ? {
            type: "Available",
            status: "True",
            reason: "MinimumReplicasAvailable",
            message: "Deployment has minimum availability.",
          }
        : {
            type: "Available",
            status: "False",
            reason: "MinimumReplicasUnavailable",
            message: "Deployment does not have minimum availability.",
          },
    );
    const complete =
      updated === replicas &&
      totalReplicas === replicas &&
      availableCount === replicas &&
      (fresh ? specOf(fresh) : 0) === replicas;
    if (complete && fresh)
      conditions = this.setCondition(conditions, {
        type: "Progressing",
        status: "True",
        reason: "NewReplicaSetAvailable",
        message: `ReplicaSet "${fresh.metadata?.name}" has successfully progressed.`,
      });
    else {
      const prog = conditions.find((c) => c.type === "Progressing");
      const deadline = (ds.progressDeadlineSeconds ?? 600) * 1000;
      if (
        prog?.status === "True" &&
        prog.lastUpdateTime &&
        this.ctx.clock.now() - Date.parse(prog.lastUpdateTime) > deadline &&
        !ds.paused
      )
        conditions = this.setCondition(conditions, {
          type: "Progressing",
          status: "False",
          reason: "ProgressDeadlineExceeded",
          message: `ReplicaSet "${fresh?.metadata?.name}" has timed out progressing.`,
        });
    }
    const status = {
      observedGeneration: d.metadata?.generation,
      replicas: totalReplicas,
      updatedReplicas: updated,
      readyReplicas: sum((r) => r.status?.readyReplicas ?? 0),
      availableReplicas: availableCount,
      unavailableReplicas: Math.max(0, replicas - availableCount),
      conditions,
    };
    const annotations = { ...d.metadata?.annotations, [REVISION]: String(fresh ? rev(fresh) || maxRev + 1 : maxRev) };
    if (fresh && d.metadata?.annotations?.[REVISION] !== annotations[REVISION])
      await this.ctx.client
        .resource("deployments", namespace)
        .patch(name, { metadata: { annotations: { [REVISION]: annotations[REVISION] } } }, "merge")
        .catch(ignore(isNotFound, isConflict));
    const strip = (s: unknown) =>
      JSON.stringify(s, (k, v) => (k === "lastUpdateTime" || k === "lastTransitionTime" ? undefined : v));
    if (strip(status) !== strip(d.status ?? {})) {
      await this.ctx.client
        .resource("deployments", namespace)
        .patch(name, { status }, "merge", { subresource: "status" })
        .catch(ignore(isNotFound, isConflict));
    }
    if (!complete && !ds.paused) this.queue.addAfter(keyOf(d), 1000);
  }
}
