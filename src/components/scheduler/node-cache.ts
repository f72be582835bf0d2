// The scheduler's view of the cluster: each node with the pods bound or assumed on it. A pod
// is assumed on its node as soon as it is chosen, so the next decision already counts it;
// the assumption is confirmed when the informer sees it bound, or forgotten when binding fails.
import { isPodPhaseTerminal } from "../../api/kinds/pod.ts";
import { keyOf } from "../../client/index.ts";
import { podTerms } from "./pod-terms.ts";
import { allocatable, hostPorts, podRequests } from "./resources.ts";
import type { NodeInfo, PodInfo, SchedNode, SchedPod } from "./types.ts";

interface Placed {
  node: string;
  info: PodInfo;
  assumed: boolean;
}

export function podInfoOf(pod: SchedPod, key = keyOf(pod)): PodInfo {
  const req = podRequests(pod);
  return {
    key,
    pod,
    labels: pod.metadata?.labels ?? {},
    namespace: pod.metadata?.namespace ?? "",
    priority: pod.spec?.priority ?? 0,
    cpu: req.cpu,
    memory: req.memory,
    nonZeroCpu: req.nonZeroCpu,
    nonZeroMemory: req.nonZeroMemory,
    ports: hostPorts(pod),
    terminating: !!pod.metadata?.deletionTimestamp,
    terms: podTerms(pod),
  };
}

let stamps = 0;
/** A generation no node has had yet. */
const nextGeneration = () => ++stamps;

/**
 * The nodes whose generation changed, in order: plugins that keep counts over a node list from
 * cycle to cycle replay it (changedSince) instead of comparing every node's generation each cycle,
 * so a cycle costs O(nodes changed) rather than O(nodes). Only the latest entries are kept: a
 * reader that fell further behind looks at every node once.
 */
const journal = { base: 0, nodes: [] as NodeInfo[] };
const JOURNAL_KEEP = 16384;

/** Journals a node of the cache whose generation just changed (copies for what-ifs are not journaled). */
function journaled(info: NodeInfo): void {
  journal.nodes.push(info);
  if (journal.nodes.length >= 2 * JOURNAL_KEEP) {
    journal.nodes = journal.nodes.slice(JOURNAL_KEEP);
    journal.base += JOURNAL_KEEP;
  }
}

/** How far one reader of the journal got for one list: the journal position, and the list's length then. */
export interface JournalCursor {
  at: number;
  length: number;
}
export const journalCursor = (): JournalCursor => ({ at: -1, length: 0 });

/** Each list's node positions (lists only ever grow at the end: NodeCache's are replaced otherwise). */
const positions = new WeakMap<NodeInfo[], Map<NodeInfo, number>>();
function positionsOf(list: NodeInfo[]): Map<NodeInfo, number> {
  let pos = positions.get(list);
  if (!pos) positions.set(list, (pos = new Map()));
  for (let j = pos.size; j < list.length; j++) pos.set(list[j]!, j);
  return pos;
}

/**
 * Calls `visit` with the position of every node of `list` that may have changed since the cursor's
 * last call (each node at least once on the first call, or when the journal no longer reaches that
 * far back; some maybe more than once: the caller compares generations), and moves the cursor on.
 */
export function changedSince(list: NodeInfo[], cursor: JournalCursor, visit: (j: number) => void): void {
  if (cursor.at < journal.base) for (let j = 0; j < list.length; j++) visit(j);
  else {
    const pos = positionsOf(list);
    const nodes = journal.nodes;
    for (let i = cursor.at - journal.base; i < nodes.length; i++) {
      const j = pos.get(nodes[i]!);
      if (j !== undefined) visit(j);
    }
    for (let j = cursor.length; j < list.length; j++) visit(j);
  }
  cursor.at = journal.base + journal.nodes.length;
  cursor.length = list.length;
}
/** Memo entries kept per node before the oldest ones are dropped (one per distinct selector or term set). */
const MEMO_LIMIT = 64;

/**
 * A plugin's per-node result that depends only on the pods on the node and on `key` (say, how
 * many of them a selector matches): computed once, then reused until the node's pods change,
 * so a cycle costs O(nodes) instead of O(pods) for pods that look like the previous ones.
 */
export function memoized<T>(node: NodeInfo, key: string, compute: () => T): T {
  const hit = node.memo.get(key);
  if (hit && hit.gen === node.generation) return hit.value as T;
  const value = compute();
  if (!hit && node.memo.size >= MEMO_LIMIT) node.memo.delete(node.memo.keys().next().value!);
  node.memo.set(key, { gen: node.generation, value });
  return value;
}

const readyOf = (node: SchedNode) => node.status?.conditions?.find((c) => c.type === "Ready")?.status;
const hardTaintsOf = (node: SchedNode) => (node.spec?.taints ?? []).filter((t) => t.effect !== "PreferNoSchedule");
const preferTaintsOf = (node: SchedNode) => (node.spec?.taints ?? []).filter((t) => t.effect === "PreferNoSchedule");
const cleanOf = (info: NodeInfo) => !info.node.spec?.unschedulable && info.ready === "True" && !info.hardTaints.length;

export function emptyNodeInfo(node: SchedNode): NodeInfo {
  const info: NodeInfo = {
    name: node.metadata!.name!,
    node,
    allocatable: allocatable(node),
    ready: readyOf(node),
    hardTaints: hardTaintsOf(node),
    preferTaints: preferTaintsOf(node),
    clean: false,
    requested: { cpu: 0, memory: 0, nonZeroCpu: 0, nonZeroMemory: 0, pods: 0 },
    usedPorts: new Set(),
    pods: new Map(),
    withTerms: 0,
    generation: nextGeneration(),
    verdictVersion: -1,
    verdictGen: -1,
    verdict: undefined,
    memo: new Map(),
  };
  info.clean = cleanOf(info);
  return info;
}

/** Counts a pod on a node (sign 1) or takes it off (-1). */
export function accountPod(info: NodeInfo, p: PodInfo, sign: 1 | -1): void {
  info.requested.cpu += sign * p.cpu;
  info.requested.memory += sign * p.memory;
  info.requested.nonZeroCpu += sign * p.nonZeroCpu;
  info.requested.nonZeroMemory += sign * p.nonZeroMemory;
  info.requested.pods += sign;
  for (const port of p.ports) sign > 0 ? info.usedPorts.add(port) : info.usedPorts.delete(port);
  if (p.terms) info.withTerms += sign;
  if (sign > 0) info.pods.set(p.key, p);
  else info.pods.delete(p.key);
  info.generation = nextGeneration();
}

/** A copy of a node's info that preemption can change freely. */
export function cloneNodeInfo(info: NodeInfo): NodeInfo {
  return {
    ...info,
    requested: { ...info.requested },
    usedPorts: new Set(info.usedPorts),
    pods: new Map(info.pods),
    memo: new Map(),
  };
}

export class NodeCache {
  private readonly infos = new Map<string, NodeInfo>();
  private readonly placed = new Map<string, Placed>();
  /** Upstream's nominator: pods waiting for a node that preemption freed for them, by node. */
  private readonly nominations = new Map<string, Map<string, PodInfo>>();
  private readonly nominatedNode = new Map<string, string>();
  private list: NodeInfo[] = [];
  private dirty = true;
  /**
   * Nodes that have (or had, since the last rebuild) a pod with affinity terms, so pods without terms
   * need not look at every node. The array only grows in place while nodes gain such pods: plugins
   * keep counts per list (by identity and position), and a new array each time one more node had a
   * term-bearing pod made them recount every node each cycle. It is rebuilt when a node goes or
   * when most of it no longer has such pods.
   */
  private withTermsList: NodeInfo[] = [];
  private readonly inWithTerms = new Set<NodeInfo>();
  /** How many nodes of the list have no pod with terms now. */
  private staleWithTerms = 0;

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

  /** Every node where a placed pod has inter-pod affinity terms, and maybe some where none has any more (a subset of nodes()). */
  nodesWithTerms(): NodeInfo[] {
    return this.withTermsList;
  }

  /** accountPod, keeping the list of nodes with terms. */
  private account(info: NodeInfo, p: PodInfo, sign: 1 | -1): void {
    accountPod(info, p, sign);
    journaled(info);
    if (!p.terms) return;
    const before = info.withTerms - sign;
    if (before === 0 && info.withTerms > 0) {
      if (!this.inWithTerms.has(info)) {
        this.inWithTerms.add(info);
        this.withTermsList.push(info);
      } else this.staleWithTerms--;
    } else if (before > 0 && info.withTerms === 0 && this.inWithTerms.has(info)) {
      this.staleWithTerms++;
      if (this.withTermsList.length > 64 && this.staleWithTerms * 2 > this.withTermsList.length)
        this.rebuildWithTerms();
    }
  }

  /** A new list of the nodes that have pods with terms now (plugins' kept counts start over). */
  private rebuildWithTerms(): void {
    this.withTermsList = this.withTermsList.filter((n) => n.withTerms > 0 && this.infos.get(n.name) === n);
    this.inWithTerms.clear();
    for (const n of this.withTermsList) this.inWithTerms.add(n);
    this.staleWithTerms = 0;
  }

  upsertNode(node: SchedNode): void {
    const name = node.metadata!.name!;
    const info = this.infos.get(name);
    if (info) {
      info.node = node;
      info.allocatable = allocatable(node);
      info.ready = readyOf(node);
      info.hardTaints = hardTaintsOf(node);
      info.preferTaints = preferTaintsOf(node);
      info.clean = cleanOf(info);
      info.generation = nextGeneration(); // labels or taints may have changed what plugins count here
      journaled(info);
      return;
    }
    const fresh = emptyNodeInfo(node);
    this.infos.set(name, fresh);
    // Pods seen before their node (informer order) are counted now.
    for (const p of this.placed.values()) if (p.node === name) this.account(fresh, p.info, 1);
    this.dirty = true;
  }

  removeNode(name: string): void {
    const info = this.infos.get(name);
    this.infos.delete(name);
    if (info && this.inWithTerms.has(info)) this.rebuildWithTerms();
    this.dirty = true;
  }

  /** A pod seen through the informer: bound pods count on their node, others are not placed. */
  upsertPod(pod: SchedPod): void {
    const key = keyOf(pod);
    const nodeName = pod.spec?.nodeName;
    const done = isPodPhaseTerminal(pod.status?.phase);
    const existing = this.placed.get(key);
    if (!nodeName || done) {
      if (existing && (!existing.assumed || done)) this.removePod(key);
      return;
    }
    if (existing && existing.node === nodeName) {
      existing.assumed = false;
      // Labels and deletion may change; requests and affinity terms may not (pod spec).
      const info = existing.info;
      info.pod = pod;
      info.labels = pod.metadata?.labels ?? {};
      info.terminating = !!pod.metadata?.deletionTimestamp;
      const node = this.infos.get(nodeName);
      if (node) {
        node.generation = nextGeneration();
        journaled(node);
      }
      return;
    }
    if (existing) this.removePod(key);
    this.place(key, pod, nodeName, false);
  }

  removePod(key: string): void {
    const p = this.placed.get(key);
    if (!p) return;
    const node = this.infos.get(p.node);
    if (node) this.account(node, p.info, -1);
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

  /** Records that `pod` waits for `nodeName` (status.nominatedNodeName, or preemption just now). */
  nominate(pod: SchedPod, nodeName: string, key = keyOf(pod)): void {
    this.unnominate(key);
    this.nominatedNode.set(key, nodeName);
    (this.nominations.get(nodeName) ?? this.nominations.set(nodeName, new Map()).get(nodeName)!).set(
      key,
      podInfoOf(pod, key),
    );
  }

  /** The pod is bound, scheduled, gone or no longer waiting. */
  unnominate(key: string): void {
    const node = this.nominatedNode.get(key);
    if (node === undefined) return;
    this.nominatedNode.delete(key);
    const on = this.nominations.get(node);
    on?.delete(key);
    if (on?.size === 0) this.nominations.delete(node);
  }

  /** The node a pod is nominated to, if any. */
  nominatedNodeOf(key: string): string | undefined {
    return this.nominatedNode.get(key);
  }

  /** Whether any pod is nominated anywhere (most of the time none is: filters then skip the what-if). */
  anyNominated(): boolean {
    return this.nominations.size > 0;
  }

  /** The pods nominated to a node. */
  readonly nominatedOn = (nodeName: string): Iterable<PodInfo> | undefined => this.nominations.get(nodeName)?.values();

  private place(key: string, pod: SchedPod, nodeName: string, assumed: boolean): void {
    const p: Placed = { node: nodeName, info: podInfoOf(pod, key), assumed };
    this.placed.set(key, p);
    const node = this.infos.get(nodeName);
    if (node) this.account(node, p.info, 1);
  }
}
