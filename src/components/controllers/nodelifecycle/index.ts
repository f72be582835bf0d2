// Node lifecycle: a node whose heartbeat (its Lease, or the Ready condition's heartbeat) is
// older than the grace period becomes Ready=Unknown with the unreachable taints; after the
// eviction timeout its pods are deleted so their controllers recreate them elsewhere. Pods
// bound to nodes that no longer exist are removed (pod GC).
import { TAINT_UNREACHABLE } from "../../../api/well-known.ts";
import { rfc3339 } from "../../../api/time.ts";
import { isNotFound, keyOf, splitKey, ignore, realClock } from "../../../client/index.ts";
import { Controller } from "../base.ts";
import type { Lease, Node, NodeCondition } from "../../../api/kinds/core.ts";
import type { Pod } from "../../../api/kinds/pod.ts";

export class NodeLifecycleController extends Controller {
  readonly name = "node-lifecycle";
  private stopTimer = () => {};
  /**
   * Real time, not ctx.clock: kubelets stamp their heartbeats on real time, so a test's stepped
   * clock would make every live node look silent (and taint it). Upstream avoids this by timing
   * heartbeats from when it observed them (nodeHealthData.probeTimestamp); not done here yet.
   */
  private readonly clock = realClock;
  private stamp = () => rfc3339(this.clock.now());

  setup(): void {
    const nodes = this.ctx.informers.get<Node>("nodes");
    nodes.on({ add: this.enqueue, update: (_, n) => this.enqueue(n), delete: () => this.queue.add("|podgc") });
    this.ctx.informers.register("leases");
    const pods = this.ctx.informers.get<Pod>("pods");
    pods.on({ add: (p) => this.checkOrphanPod(p) });
  }

  override run(workers = 1): void {
    super.run(workers);
    const every = Math.max(100, Math.min(5000, this.ctx.config.nodeMonitorGracePeriodMs / 4));
    this.stopTimer = this.clock.every(every, () => {
      for (const n of this.ctx.informers.get("nodes").list()) this.enqueue(n);
      this.queue.add("|podgc");
    });
  }

  override async stop(): Promise<void> {
    this.stopTimer();
    await super.stop();
  }

  private checkOrphanPod(p: Pod): void {
    const node = p.spec?.nodeName;
    if (node && this.ctx.informers.get("nodes").hasSynced() && !this.ctx.informers.get("nodes").get(node))
      this.queue.add("|podgc");
  }

  /** The newest sign of life: the node's Lease renewTime or its Ready heartbeat. */
  private lastHeartbeat(node: Node): number {
    const ready = (node.status?.conditions ?? []).find((c) => c.type === "Ready");
    const lease = this.ctx.informers.get<Lease>("leases").get(`kube-node-lease/${node.metadata!.name}`);
    const renew = lease?.spec?.renewTime;
    return Math.max(
      ready?.lastHeartbeatTime ? Date.parse(ready.lastHeartbeatTime) : 0,
      renew ? Date.parse(renew) : 0,
      Date.parse(node.metadata!.creationTimestamp ?? "") || 0,
    );
  }

  async reconcile(key: string): Promise<void> {
    if (key === "|podgc") return this.podGc();
    const node = this.ctx.informers.get<Node>("nodes").get(key);
    if (!node) return;
    const silentFor = this.clock.now() - this.lastHeartbeat(node);
    const conds = (node.status?.conditions ?? []).map((c) => ({ ...c }));
    const ready = conds.find((c) => c.type === "Ready");
    const taints = (node.spec?.taints ?? []).map((t) => ({ ...t }));
    const tainted = taints.some((t) => t.key === TAINT_UNREACHABLE);
    // A node that never posted a Ready condition gets the (longer) startup grace period, as upstream.
    if (silentFor > (ready ? this.ctx.config.nodeMonitorGracePeriodMs : this.ctx.config.nodeStartupGracePeriodMs)) {
      if (markUnknown(conds, node.metadata?.creationTimestamp, this.stamp()))
        await this.ctx.client
          .resource("nodes")
          .patch(key, { status: { conditions: conds } }, "merge", { subresource: "status" })
          .catch(ignore(isNotFound));
      if (!tainted) {
        taints.push(
          { key: TAINT_UNREACHABLE, effect: "NoSchedule", timeAdded: this.stamp() },
          { key: TAINT_UNREACHABLE, effect: "NoExecute", timeAdded: this.stamp() },
        );
        await this.ctx.client.resource("nodes").patch(key, { spec: { taints } }, "merge").catch(ignore(isNotFound));
      }
      if (silentFor > this.ctx.config.nodeMonitorGracePeriodMs + this.ctx.config.podEvictionTimeoutMs)
        await this.evictPods(key);
    } else if (tainted && ready?.status === "True") {
      const rest = taints.filter((t) => t.key !== TAINT_UNREACHABLE);
      await this.ctx.client
        .resource("nodes")
        .patch(key, { spec: { taints: rest.length ? rest : null } }, "merge")
        .catch(ignore(isNotFound));
    }
  }

  private async evictPods(node: string): Promise<void> {
    for (const p of this.ctx.informers.get<Pod>("pods").list()) {
      if (p.spec.nodeName !== node) continue;
      const { namespace, name } = splitKey(keyOf(p));
      await this.ctx.client
        .resource("pods", namespace)
        .delete(name, { gracePeriodSeconds: 0 })
        .catch(ignore(isNotFound));
    }
  }

  private async podGc(): Promise<void> {
    const nodes = this.ctx.informers.get("nodes");
    for (const p of this.ctx.informers.get<Pod>("pods").list()) {
      const node = p.spec.nodeName;
      if (!node || nodes.get(node)) continue;
      // The cache may lag a just-registered node: confirm with the API.
      const live = await this.ctx.client.resource("nodes").get(node).catch(ignore(isNotFound));
      if (live) continue;
      const { namespace, name } = splitKey(keyOf(p));
      await this.ctx.client
        .resource("pods", namespace)
        .delete(name, { gracePeriodSeconds: 0 })
        .catch(ignore(isNotFound));
    }
  }
}

/** The conditions upstream's node lifecycle controller turns Unknown on a silent node (not NetworkUnavailable). */
const WATCHED = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

/**
 * Marks the watched conditions Unknown in place, as upstream's tryUpdateNodeHealth: one never
 * posted is added (NodeStatusNeverUpdated), a posted one flips (NodeStatusUnknown), at time `at`. True if any changed.
 */
export function markUnknown(conds: NodeCondition[], created: string | undefined, at: string): boolean {
  let changed = false;
  for (const type of WATCHED) {
    const c = conds.find((x) => x.type === type);
    if (!c)
      conds.push({
        type,
        status: "Unknown",
        lastHeartbeatTime: created,
        lastTransitionTime: at,
        reason: "NodeStatusNeverUpdated",
        message: "Kubelet never posted node status.",
      });
    else if (c.status !== "Unknown")
      Object.assign(c, {
        status: "Unknown",
        reason: "NodeStatusUnknown",
        message: "Kubelet stopped posting node status.",
        lastTransitionTime: at,
      });
    else continue;
    changed = true;
  }
  return changed;
}
