// Node lifecycle: a node whose heartbeat (its Lease, or the Ready condition's heartbeat) has not
// changed for the grace period becomes Ready=Unknown with the unreachable taints; after the
// eviction timeout its pods are deleted so their controllers recreate them elsewhere. Pods
// bound to nodes that no longer exist are removed (pod GC).
import { TAINT_UNREACHABLE } from "../../../api/well-known.ts";
import { rfc3339 } from "../../../api/time.ts";
import { isNotFound, keyOf, splitKey, ignore } from "../../../client/index.ts";
import { Controller } from "../base.ts";
import type { Lease, Node, NodeCondition } from "../../../api/kinds/core.ts";
import type { Pod } from "../../../api/kinds/pod.ts";

/**
 * What the controller last saw of a node, as upstream's nodeHealthData: `probe` is when (on this
 * controller's clock) it last saw a sign of life. Heartbeats are compared with the ones seen
 * before, never with this clock, so a kubelet's clock skew (or a test's stepped clock) cannot
 * make a live node look silent.
 */
interface NodeHealth {
  probe: number;
  /** The Ready condition seen, and its heartbeat (undefined: the node had no Ready condition). */
  ready?: { heartbeat?: string };
  renewTime?: string;
}

export class NodeLifecycleController extends Controller {
  readonly name = "node-lifecycle";
  private stopTimer = () => {};
  private readonly health = new Map<string, NodeHealth>();
  private stamp = () => rfc3339(this.ctx.clock.now());

  setup(): void {
    const nodes = this.ctx.informers.get<Node>("nodes");
    nodes.on({
      add: this.enqueue,
      update: (_, n) => this.enqueue(n),
      delete: (n) => {
        this.health.delete(n.metadata!.name!);
        this.queue.add("|podgc");
      },
    });
    this.ctx.informers.register("leases");
    const pods = this.ctx.informers.get<Pod>("pods");
    pods.on({ add: (p) => this.checkOrphanPod(p) });
  }

  override run(workers = 1): void {
    super.run(workers);
    const every = Math.max(100, Math.min(5000, this.ctx.config.nodeMonitorGracePeriodMs / 4));
    this.stopTimer = this.ctx.clock.every(every, () => {
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

  /**
   * Upstream's tryUpdateNodeHealth bookkeeping: when this controller last saw a sign of life. A
   * node first seen without a Ready condition counts from its creation (the startup grace period
   * applies); otherwise from the first sight, and again whenever its Ready condition appears or
   * goes, the condition's heartbeat differs from the one seen before, or its Lease is renewed.
   */
  private lastProbe(node: Node, ready: NodeCondition | undefined): number {
    const name = node.metadata!.name!;
    const now = this.ctx.clock.now();
    const renewTime = this.ctx.informers.get<Lease>("leases").get(`kube-node-lease/${name}`)?.spec?.renewTime;
    const seen = this.health.get(name);
    let probe: number;
    if (!seen) probe = ready ? now : Date.parse(node.metadata?.creationTimestamp ?? "") || now;
    else if (!ready !== !seen.ready || (ready && ready.lastHeartbeatTime !== seen.ready?.heartbeat)) probe = now;
    else probe = seen.probe;
    if (renewTime && renewTime !== seen?.renewTime) probe = now;
    this.health.set(name, { probe, ready: ready && { heartbeat: ready.lastHeartbeatTime }, renewTime });
    return probe;
  }

  async reconcile(key: string): Promise<void> {
    if (key === "|podgc") return this.podGc();
    const node = this.ctx.informers.get<Node>("nodes").get(key);
    if (!node) return;
    const conds = (node.status?.conditions ?? []).map((c) => ({ ...c }));
    const ready = conds.find((c) => c.type === "Ready");
    const silentFor = this.ctx.clock.now() - this.lastProbe(node, ready);
    const taints = (node.spec?.taints ?? []).map((t) => ({ ...t }));
    const tainted = taints.some((t) => t.key === TAINT_UNREACHABLE);
    // A node that never posted a Ready condition gets the (longer) startup grace period, as upstream.
    if (silentFor > (ready ? this.ctx.config.nodeMonitorGracePeriodMs : this.ctx.config.nodeStartupGracePeriodMs)) {
      if (markUnknown(conds, node.metadata?.creationTimestamp ?? undefined, this.stamp())) {
        // The Ready condition written here is what the next look compares with (no sign of life).
        const health = this.health.get(key);
        if (health) health.ready = { heartbeat: conds.find((c) => c.type === "Ready")?.lastHeartbeatTime };
        await this.ctx.client
          .resource("nodes")
          .patch(key, { status: { conditions: conds } }, "merge", { subresource: "status" })
          .catch(ignore(isNotFound));
      }
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
