// The StatefulSet controller: pods with stable names <name>-0..N-1; OrderedReady creates one at
// a time in order (each waits for the previous to be Running and Ready) and removes from the
// highest ordinal; Parallel does both at once. A deleted pod comes back with its name. A
// rolling update replaces pods from the highest ordinal down to the partition. Each ordinal keeps
// its own claims from volumeClaimTemplates.
import { type Pod, podReady } from "../../../api/kinds/pod.ts";
import type { StatefulSet } from "../../../api/kinds/workloads.ts";
import { isAlreadyExists, isNotFound, splitKey, ignore } from "../../../client/index.ts";
import { Controller } from "../base.ts";
import { BURST_REPLICAS, enqueueOwnersOfPods, indexPodsByController, ownedPods, podFromTemplate } from "../pods.ts";
import { ensureRevision, pruneRevisions, revisionHash, templateOfRevision, templatePatch } from "../revision.ts";
import { cloneJson } from "../../../api/clone.ts";

const HASH = "controller-revision-hash";
const phase = (p: Pod) => p.status?.phase;
const running = (p: Pod) => phase(p) === "Running" && podReady(p) && !p.metadata?.deletionTimestamp;

export function ordinalOf(setName: string, podName: string): number {
  const m = podName.match(/-(\d+)$/);
  return m && podName.slice(0, -m[0].length) === setName ? Number(m[1]) : -1;
}

export class StatefulSetController extends Controller {
  readonly name = "statefulset";

  setup(): void {
    this.ctx.informers.get<StatefulSet>("statefulsets").on({ add: this.enqueue, update: (_, s) => this.enqueue(s) });
    this.ctx.informers.register("persistentvolumeclaims");
    enqueueOwnersOfPods(this.ctx.informers.get<Pod>("pods"), "StatefulSet", (k) => this.queue.add(k));
    indexPodsByController(this.ctx.informers.get("controllerrevisions"));
  }

  /**
   * Each ordinal's claims from volumeClaimTemplates (<template>-<set>-<ordinal>), created before
   * its pod and kept when the pod or the set goes (the default Retain retention policy), so a
   * replacement pod finds its data.
   */
  private async ensureClaims(
    sts: StatefulSet,
    ordinal: number,
  ): Promise<{ name: string; persistentVolumeClaim: { claimName: string } }[]> {
    const spec = sts.spec;
    const namespace = sts.metadata!.namespace!;
    const out: { name: string; persistentVolumeClaim: { claimName: string } }[] = [];
    for (const t of spec.volumeClaimTemplates ?? []) {
      const volume = t.metadata?.name;
      if (!volume) continue;
      const claimName = `${volume}-${sts.metadata!.name}-${ordinal}`;
      if (!this.ctx.informers.get("persistentvolumeclaims").get(`${namespace}/${claimName}`))
        await this.ctx.client
          .resource("persistentvolumeclaims", namespace)
          .create({
            apiVersion: "v1",
            kind: "PersistentVolumeClaim",
            metadata: {
              name: claimName,
              namespace,
              labels: { ...spec.selector?.matchLabels, ...t.metadata?.labels },
              annotations: t.metadata?.annotations,
            },
            spec: cloneJson(t.spec ?? {}),
          })
          .catch(ignore(isAlreadyExists));
      out.push({ name: volume, persistentVolumeClaim: { claimName } });
    }
    return out;
  }

  async reconcile(key: string): Promise<void> {
    const sts = this.ctx.informers.get<StatefulSet>("statefulsets").get(key);
    if (!sts || sts.metadata?.deletionTimestamp) return;
    const { namespace, name } = splitKey(key);
    const spec = sts.spec;
    const replicas = spec.replicas ?? 1;
    const ordered = (spec.podManagementPolicy ?? "OrderedReady") === "OrderedReady";
    // Revisions as upstream's getStatefulSetRevisions: the update revision is the template's
    // (an equal older one comes back with the next number: a rollback); the current one is what
    // status names, until a rolling update completes.
    const revisions = ownedPods(this.ctx.informers.get("controllerrevisions"), sts);
    const data = templatePatch(spec.template);
    const prevStatus = sts.status ?? {};
    const { revision: update, collisionCount } = await ensureRevision(
      this.ctx.client,
      sts,
      revisions,
      { data, labels: spec.template.metadata?.labels, hash: (n) => revisionHash(data, n) },
      prevStatus.collisionCount ?? 0,
    );
    const revision = update.metadata!.name!;
    const current = revisions.find((r) => r.metadata?.name === prevStatus.currentRevision) ?? update;
    const rolling = (spec.updateStrategy?.type ?? "RollingUpdate") === "RollingUpdate";
    const partition = spec.updateStrategy?.rollingUpdate?.partition ?? 0;
    const pods = ownedPods(this.ctx.informers.get<Pod>("pods"), sts);
    const byOrdinal = new Map<number, Pod>();
    for (const p of pods) byOrdinal.set(ordinalOf(name, p.metadata!.name!), p);
    const podsApi = this.ctx.client.resource("pods", namespace);
    const del = (p: Pod) => podsApi.delete(p.metadata!.name!).catch(ignore(isNotFound));

    // Create missing pods and replace failed ones, in ordinal order; at most a burst per sync
    // (the pods' add events bring the next sync).
    let created = 0;
    for (let i = 0; i < replicas && created < BURST_REPLICAS; i++) {
      const p = byOrdinal.get(i);
      if (p && phase(p) === "Failed" && !p.metadata?.deletionTimestamp) {
        await del(p);
        if (ordered) break;
        continue;
      }
      if (!p) {
        const podName = `${name}-${i}`;
        const claims = await this.ensureClaims(sts, i);
        const volumes = [
          ...(spec.template.spec?.volumes ?? []).filter((v) => !claims.some((c) => c.name === v.name)),
          ...claims,
        ];
        // Below the partition a pod comes back at the current revision, as upstream's newVersionedStatefulSetPod.
        const atCurrent = rolling && i < partition && current.metadata!.name !== revision;
        const template = atCurrent ? templateOfRevision(current) : spec.template;
        const pod = podFromTemplate(sts, template, {
          name: podName,
          labels: {
            "statefulset.kubernetes.io/pod-name": podName,
            "apps.kubernetes.io/pod-index": String(i),
            [HASH]: atCurrent ? current.metadata!.name! : revision,
          },
          spec: {
            hostname: podName,
            ...(spec.serviceName ? { subdomain: spec.serviceName } : {}),
            ...(claims.length ? { volumes } : {}),
          },
        });
        await podsApi.create(pod).catch(ignore(isAlreadyExists));
        created++;
        if (ordered) break;
        continue;
      }
      if (ordered && !running(p)) break;
    }

    // Scale down from the highest ordinal; OrderedReady one at a time, only when the rest are ready.
    const extras = [...byOrdinal.entries()]
      .filter(([i, p]) => (i >= replicas || i < 0) && !p.metadata?.deletionTimestamp)
      .sort((a, b) => b[0] - a[0]);
    if (extras.length) {
      const keep = [...byOrdinal.entries()].filter(([i]) => i >= 0 && i < replicas).map(([, p]) => p);
      if (!ordered) for (const [, p] of extras) await del(p);
      else if (keep.every(running) && ![...byOrdinal.values()].some((p) => p.metadata?.deletionTimestamp))
        await del(extras[0]![1]);
    }

    // Rolling update: highest ordinal first, down to the partition, one at a time when ordered.
    if (rolling && !extras.length) {
      const all = [...byOrdinal.entries()].filter(([i]) => i >= 0 && i < replicas).sort((a, b) => b[0] - a[0]);
      const everyoneReady = all.length === replicas && all.every(([, p]) => running(p));
      for (const [i, p] of all) {
        if (i < partition || p.metadata?.labels?.[HASH] === revision) continue;
        if (ordered && !everyoneReady) break;
        await del(p);
        break;
      }
    }

    const live = pods.filter((p) => ordinalOf(name, p.metadata!.name!) < replicas && !p.metadata?.deletionTimestamp);
    const at = (rev: string) => live.filter((p) => p.metadata?.labels?.[HASH] === rev).length;
    const ready = live.filter(podReady).length;
    // A completed rolling update makes the update revision current (upstream's completeRollingUpdate).
    const done = rolling && at(revision) === replicas && ready === replicas && live.length === replicas;
    const currentName = done ? revision : current.metadata!.name!;
    const status = {
      observedGeneration: sts.metadata?.generation,
      replicas: live.length,
      readyReplicas: ready,
      currentReplicas: at(currentName),
      updatedReplicas: at(revision),
      currentRevision: currentName,
      updateRevision: revision,
      collisionCount,
      availableReplicas: ready,
    };
    const liveNames = new Set([currentName, revision, ...pods.map((p) => p.metadata?.labels?.[HASH])]);
    await pruneRevisions(
      this.ctx.client,
      revisions,
      (r) => liveNames.has(r.metadata?.name),
      spec.revisionHistoryLimit ?? 10,
    );
    if (JSON.stringify(status) !== JSON.stringify(sts.status ?? {}))
      await this.ctx.client
        .resource<StatefulSet>("statefulsets", namespace)
        .updateStatus({ ...sts, status })
        .catch(ignore(isNotFound));
  }
}
