// The DaemonSet controller: one pod per eligible node (nodeSelector, required node affinity,
// taints tolerated), added when a node joins, removed when it leaves or stops matching; a
// rolling update replaces old pods at most maxUnavailable at a time. Pods are placed by setting
// spec.nodeName directly (the scheduler is not involved).
import {
  TAINT_DISK_PRESSURE,
  TAINT_MEMORY_PRESSURE,
  TAINT_NOT_READY,
  TAINT_UNREACHABLE,
  TAINT_UNSCHEDULABLE,
} from "../../../api/well-known.ts";
import { type Pod, podAvailable, podReady } from "../../../api/kinds/pod.ts";
import { scaledValue } from "../../../api/intstr.ts";
import type { Node } from "../../../api/kinds/core.ts";
import type { DaemonSet, DaemonSetSpec } from "../../../api/kinds/workloads.ts";
import { isNotFound, keyOf, splitKey, ignore } from "../../../client/index.ts";
import {
  type LabelledNode,
  nodeSelectorMatches,
  type Taint,
  type Toleration,
  tolerates,
} from "../../../api/scheduling.ts";
import { Controller } from "../base.ts";
import {
  createPods,
  enqueueOwnersOfPods,
  Expectations,
  indexPodsByController,
  ownedPods,
  podFromTemplate,
} from "../pods.ts";
import { ensureRevision, pruneRevisions, templateHash, templatePatch } from "../revision.ts";

/** Tolerations Kubernetes adds to every DaemonSet pod. */
const DEFAULT_TOLERATIONS: Toleration[] = [
  { key: TAINT_NOT_READY, operator: "Exists", effect: "NoExecute" },
  { key: TAINT_UNREACHABLE, operator: "Exists", effect: "NoExecute" },
  { key: TAINT_UNSCHEDULABLE, operator: "Exists", effect: "NoSchedule" },
  { key: TAINT_DISK_PRESSURE, operator: "Exists", effect: "NoSchedule" },
  { key: TAINT_MEMORY_PRESSURE, operator: "Exists", effect: "NoSchedule" },
];

export function nodeEligible(spec: DaemonSetSpec, node: LabelledNode): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(spec.template.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const req = spec.template.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (req && !nodeSelectorMatches(req, node)) return false;
  const tolerations = [...(spec.template.spec?.tolerations ?? []), ...DEFAULT_TOLERATIONS];
  return (node.spec?.taints ?? []).every((t: Taint) => t.effect === "PreferNoSchedule" || tolerates(tolerations, t));
}

const HASH = "controller-revision-hash";
const phase = (p: Pod) => p.status?.phase;

/** The DaemonSet controller's BurstReplicas upstream. */
const DAEMONSET_BURST = 250;

export class DaemonSetController extends Controller {
  readonly name = "daemonset";
  private expectations = new Expectations();

  setup(): void {
    const dss = this.ctx.informers.get<DaemonSet>("daemonsets");
    dss.on({ add: this.enqueue, update: (_, d) => this.enqueue(d) });
    const all = () => dss.list().forEach(this.enqueue);
    this.ctx.informers.get("nodes").on({
      add: all,
      update: (a, b) =>
        JSON.stringify([a.metadata?.labels, a.spec]) !== JSON.stringify([b.metadata?.labels, b.spec]) && all(),
      delete: all,
    });
    enqueueOwnersOfPods(this.ctx.informers.get<Pod>("pods"), "DaemonSet", (k) => this.queue.add(k), this.expectations);
    indexPodsByController(this.ctx.informers.get("controllerrevisions"));
  }

  async reconcile(key: string): Promise<void> {
    const ds = this.ctx.informers.get<DaemonSet>("daemonsets").get(key);
    if (!ds || ds.metadata?.deletionTimestamp) return;
    const { namespace } = splitKey(key);
    const spec = ds.spec;
    // History as upstream's constructHistory: the current template's ControllerRevision
    // (<name>-<hash>, data = the template patch); its hash labels the pods.
    const revisions = ownedPods(this.ctx.informers.get("controllerrevisions"), ds);
    const { revision: current, collisionCount } = await ensureRevision(
      this.ctx.client,
      ds,
      revisions,
      {
        data: templatePatch(spec.template),
        labels: spec.template.metadata?.labels,
        annotations: ds.metadata?.annotations,
        hash: (n) => templateHash(spec.template, n),
      },
      ds.status?.collisionCount ?? 0,
    );
    const hash = current.metadata!.labels![HASH]!;
    const nodes = this.ctx.informers.get<Node>("nodes").list();
    const pods = ownedPods(this.ctx.informers.get<Pod>("pods"), ds).filter((p) => !p.metadata?.deletionTimestamp);
    const byNode = new Map<string, Pod[]>();
    for (const p of pods) {
      const n = p.spec.nodeName ?? "";
      (byNode.get(n) ?? byNode.set(n, []).get(n)!).push(p);
    }
    const eligible = nodes.filter((n) => nodeEligible(spec, n)).map((n) => n.metadata!.name!);
    const eligibleSet = new Set(eligible);
    const toDelete: Pod[] = [];
    const toCreate: string[] = [];
    for (const n of eligible) {
      const mine = (byNode.get(n) ?? []).filter((p) => phase(p) !== "Failed");
      toDelete.push(...(byNode.get(n) ?? []).filter((p) => phase(p) === "Failed"));
      if (mine.length === 0) toCreate.push(n);
      else toDelete.push(...mine.slice(1)); // duplicates
    }
    for (const [n, ps] of byNode) if (!eligibleSet.has(n)) toDelete.push(...ps);

    // Rolling update: replace old pods while no more than maxUnavailable are unavailable.
    const minReady = spec.minReadySeconds ?? 0;
    if ((spec.updateStrategy?.type ?? "RollingUpdate") === "RollingUpdate") {
      const mu = spec.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1;
      const maxUnavailable = Math.max(1, scaledValue(mu, eligible.length, false));
      const current = pods.filter((p) => eligibleSet.has(p.spec.nodeName ?? ""));
      let unavailable = eligible.length - current.filter((p) => podAvailable(p, minReady)).length;
      for (const p of current) {
        if (p.metadata?.labels?.[HASH] === hash || toDelete.includes(p)) continue;
        if (!podAvailable(p, minReady)) toDelete.push(p);
        else if (unavailable < maxUnavailable) {
          toDelete.push(p);
          unavailable++;
        }
      }
    }

    if (this.expectations.satisfied(key) && toCreate.length) {
      // At most a burst per sync (upstream's BurstReplicas); the pods' add events bring the next.
      const burst = toCreate.slice(0, DAEMONSET_BURST);
      this.expectations.expectCreates(key, burst.length);
      const fresh = burst.map((node) =>
        podFromTemplate(ds, spec.template, {
          labels: { [HASH]: hash },
          spec: { nodeName: node, tolerations: [...(spec.template.spec?.tolerations ?? []), ...DEFAULT_TOLERATIONS] },
        }),
      );
      await createPods(this.ctx.client, namespace!, fresh, () => this.expectations.creationFailed(key));
    }
    for (const p of toDelete)
      await this.ctx.client.resource("pods", namespace).delete(p.metadata!.name!).catch(ignore(isNotFound));

    const liveHashes = new Set(pods.map((p) => p.metadata?.labels?.[HASH]));
    await pruneRevisions(
      this.ctx.client,
      revisions,
      (r) => r.metadata?.name === current.metadata?.name || liveHashes.has(r.metadata?.labels?.[HASH]),
      spec.revisionHistoryLimit ?? 10,
    );

    const scheduled = pods.filter((p) => eligibleSet.has(p.spec.nodeName ?? ""));
    const status = {
      ...ds.status,
      desiredNumberScheduled: eligible.length,
      currentNumberScheduled: new Set(scheduled.map((p) => p.spec.nodeName)).size,
      numberMisscheduled: pods.length - scheduled.length,
      numberReady: scheduled.filter(podReady).length,
      numberAvailable: scheduled.filter((p) => podAvailable(p, minReady)).length,
      numberUnavailable: Math.max(0, eligible.length - scheduled.filter((p) => podAvailable(p, minReady)).length),
      updatedNumberScheduled: scheduled.filter((p) => p.metadata?.labels?.[HASH] === hash).length,
      observedGeneration: ds.metadata?.generation,
      ...(collisionCount ? { collisionCount } : {}),
    };
    if (JSON.stringify(status) !== JSON.stringify(ds.status ?? {}))
      await this.ctx.client
        .resource<DaemonSet>("daemonsets", namespace)
        .updateStatus({ ...ds, status })
        .catch(ignore(isNotFound));
    if (minReady) this.queue.addAfter(keyOf(ds), minReady * 1000);
  }
}
