// The scheduler's view of the cluster: each node with the pods bound or assumed on it. A pod
// is assumed on its node as soon as it is chosen, so the next decision already counts it;
// the assumption is confirmed when the informer sees it bound, or forgotten when binding fails.
import { keyOf } from "../../client/index.ts";
import { allocatable, hostPorts, podRequests } from "./resources.ts";
import type { NodeInfo, SchedNode, SchedPod } from "./types.ts";

interface Placed {
  node: string;
  cpu: number;
  memory: number;
  ports: string[];
  assumed: boolean;
}

export class NodeCache {
  private readonly infos = new Map<string, NodeInfo>();
  private readonly placed = new Map<string, Placed>();
  private list: NodeInfo[] = [];
  private dirty = true;

  nodes(): NodeInfo[] {
    if (this.dirty) {
      this.list = [...this.infos.values()];
      this.dirty = false;
    }
    return this.list;
  }

  get(name: string): NodeInfo | undefined {
    return this.infos.get(name);
  }

  upsertNode(node: SchedNode): void {
    const name = node.metadata!.name!;
    const info = this.infos.get(name);
    if (info) {
      info.node = node;
      info.allocatable = allocatable(node);
      return;
    }
    this.infos.set(name, {
      name,
      node,
      allocatable: allocatable(node),
      requested: { cpu: 0, memory: 0, pods: 0 },
      usedPorts: new Set(),
      pods: new Map(),
    });
    // Pods seen before their node (informer order) are counted now.
    for (const [key, p] of this.placed) if (p.node === name) this.account(key, p, 1, undefined);
    this.dirty = true;
  }

  removeNode(name: string): void {
    this.infos.delete(name);
    this.dirty = true;
  }

  private account(
    key: string,
    p: Placed,
    sign: 1 | -1,
    labels: { labels: Record<string, string>; namespace: string } | undefined,
  ): void {
    const info = this.infos.get(p.node);
    if (!info) return;
    info.requested.cpu += sign * p.cpu;
    info.requested.memory += sign * p.memory;
    info.requested.pods += sign;
    for (const port of p.ports) sign > 0 ? info.usedPorts.add(port) : info.usedPorts.delete(port);
    if (sign > 0) info.pods.set(key, labels ?? info.pods.get(key) ?? { labels: {}, namespace: "" });
    else info.pods.delete(key);
  }

  /** A pod seen through the informer: bound pods count on their node, others are not placed. */
  upsertPod(pod: SchedPod): void {
    const key = keyOf(pod);
    const nodeName = pod.spec?.nodeName;
    const done = pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
    const existing = this.placed.get(key);
    if (!nodeName || done) {
      if (existing && !existing.assumed) this.removePod(key);
      if (existing && done) this.removePod(key);
      return;
    }
    if (existing && existing.node === nodeName) {
      existing.assumed = false;
      return;
    }
    if (existing) this.removePod(key);
    this.place(key, pod, nodeName, false);
  }

  removePod(key: string): void {
    const p = this.placed.get(key);
    if (!p) return;
    this.account(key, p, -1, undefined);
    this.placed.delete(key);
  }

  assume(pod: SchedPod, nodeName: string): void {
    this.place(keyOf(pod), pod, nodeName, true);
  }

  /** Undo an assumption whose binding failed. */
  forget(key: string): void {
    if (this.placed.get(key)?.assumed) this.removePod(key);
  }

  isAssumed(key: string): boolean {
    return this.placed.get(key)?.assumed === true;
  }

  private place(key: string, pod: SchedPod, nodeName: string, assumed: boolean): void {
    const req = podRequests(pod);
    const p: Placed = { node: nodeName, cpu: req.cpu, memory: req.memory, ports: hostPorts(pod), assumed };
    this.placed.set(key, p);
    this.account(key, p, 1, { labels: pod.metadata?.labels ?? {}, namespace: pod.metadata?.namespace ?? "" });
  }
}
