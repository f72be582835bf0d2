// The scheduler component: watches nodes and pods, keeps the node cache, takes unscheduled
// pods one at a time through the plugins, and binds them through pods/{name}/binding (never
// by writing spec.nodeName). Bindings run concurrently; decisions stay sequential. A pod that
// fits nowhere may preempt lower-priority pods (DefaultPreemption), within PodDisruptionBudgets.
// `kube up` runs the loop on the main thread; KUBE_SCHEDULER_THREAD=1 puts it on a thread of its own (thread.ts).
import type { PodDisruptionBudget } from "../../api/kinds/stored.ts";
import { isPodPhaseTerminal } from "../../api/kinds/pod.ts";
import { now } from "../../api/time.ts";
import type { Client, InformerView, SharedInformerFactory } from "../../client/index.ts";
import { Informer, keyOf, splitKey, isConflict, isNotFound } from "../../client/index.ts";
import { clientOf, type Component, type ComponentContext } from "../types.ts";
import { forgetEvents, recordEvent } from "../events.ts";
import { NodeCache } from "./node-cache.ts";
import { defaultPlugins } from "./plugins/index.ts";
import { preempt, type Budget } from "./preemption.ts";
import { requirementsOf, type LabelSelector } from "../../api/selectors.ts";
import type { KubeObject } from "../../api/types.ts";
import { SchedulingQueue } from "./queue.ts";
import { Scheduler1 } from "./schedule-one.ts";
import type { SchedNode, SchedPod } from "./types.ts";
import { SchedulerMetrics } from "./metrics.ts";
import type { MetricsHub, Registry } from "../metrics/hub.ts";
import { type SchedulerStats, startSchedulerThread, ThreadUnavailable } from "./thread.ts";

const SCHEDULER_NAME = "default-scheduler";
const MAX_BINDS_IN_FLIGHT = 128;

function responsible(pod: SchedPod): boolean {
  return (
    !pod.spec?.nodeName &&
    !pod.metadata?.deletionTimestamp &&
    (pod.spec?.schedulerName ?? SCHEDULER_NAME) === SCHEDULER_NAME &&
    !isPodPhaseTerminal(pod.status?.phase)
  );
}

/** Node changes that can make a waiting pod fit. */
function nodeChanged(a: SchedNode, b: SchedNode): boolean {
  return (
    JSON.stringify(a.metadata?.labels) !== JSON.stringify(b.metadata?.labels) ||
    JSON.stringify(a.spec) !== JSON.stringify(b.spec) ||
    JSON.stringify(a.status?.allocatable) !== JSON.stringify(b.status?.allocatable) ||
    a.status?.conditions?.find((c) => c.type === "Ready")?.status !==
      b.status?.conditions?.find((c) => c.type === "Ready")?.status
  );
}

export class SchedulerLoop {
  readonly cache = new NodeCache();
  readonly queue = new SchedulingQueue();
  /** Bumped on every namespace change: memoised affinity results that read namespace labels expire. */
  private namespaceVersion = 0;
  private readonly algorithm = new Scheduler1(
    defaultPlugins,
    (ns) => this.namespaces.get(ns)?.metadata?.labels ?? undefined,
    () => this.namespaceVersion,
    () => this.cache.nodesWithTerms(),
  );
  private readonly nodes: InformerView<SchedNode>;
  private readonly pods: InformerView<SchedPod>;
  private readonly namespaces: InformerView<KubeObject>;
  private readonly pdbs: InformerView<PodDisruptionBudget>;
  private inFlight = 0;
  private slot: (() => void) | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  /** Last unschedulable message per pod, so status and events are written once per change. */
  private lastMessage = new Map<string, string>();
  private readonly metrics: SchedulerMetrics | undefined;
  /** When the current scheduling attempt began (performance.now()). */
  private attemptStart = 0;
  /** Time spent choosing victims (preemption's dry runs; wall ms of the synchronous call) and how often, for benchmarks. */
  readonly preemption = { ms: 0, runs: 0 };
  /** Time in the decisions (filter and score; wall ms of the synchronous call), for benchmarks. */
  readonly decisions = { ms: 0 };

  constructor(
    private readonly client: Client,
    private readonly log: (msg: string) => void = () => {},
    registry?: Registry,
    /**
     * The process's shared informers (kube up, scheduler on the main thread): the scheduler reads
     * the caches the controllers and hollow kubelets keep, so every pod and node event comes over
     * one watch and is dispatched from one cache, not two (the objects were already shared, see
     * freezeShared; the second watch, its event queue and its index of every key were not).
     */
    shared?: SharedInformerFactory,
  ) {
    this.metrics =
      registry &&
      new SchedulerMetrics(registry, () => ({ active: this.queue.activeLength, unschedulable: this.queue.parked }));
    // Without managedFields, as upstream's scheduler caches them (so do the shared informers).
    const informer = <T extends KubeObject>(resource: string): InformerView<T> =>
      shared
        ? shared.informer<T>(resource)
        : new Informer<T>(client.resource<T>(resource), { stripManagedFields: true });
    this.nodes = informer<SchedNode>("nodes");
    this.pods = informer<SchedPod>("pods");
    this.namespaces = informer<KubeObject>("namespaces");
    this.pdbs = informer<PodDisruptionBudget>("poddisruptionbudgets");
    const namespaceChanged = () => void this.namespaceVersion++;
    this.namespaces.on({ add: namespaceChanged, update: namespaceChanged, delete: namespaceChanged });
    this.nodes.on({
      add: (n) => {
        this.cache.upsertNode(n);
        this.queue.moveAllToActive();
      },
      update: (old, n) => {
        this.cache.upsertNode(n);
        if (nodeChanged(old, n)) this.queue.moveAllToActive();
      },
      delete: (n) => this.cache.removeNode(n.metadata!.name!),
    });
    this.pods.on({
      add: (p) => this.onPod(p),
      update: (_, p) => this.onPod(p),
      delete: (p) => {
        const key = keyOf(p);
        this.cache.removePod(key);
        this.cache.unnominate(key);
        this.queue.forget(key);
        this.lastMessage.delete(key);
        forgetEvents(this.client, p);
        if (p.spec?.nodeName) this.queue.moveAllToActive();
      },
    });
  }

  private onPod(p: SchedPod): void {
    const key = keyOf(p);
    if (p.spec?.nodeName) {
      this.cache.unnominate(key);
      this.cache.upsertPod(p);
      if (isPodPhaseTerminal(p.status?.phase)) this.queue.moveAllToActive();
    } else if (responsible(p)) {
      // A nomination made by this scheduler is kept in memory until the pod's status shows it.
      const nominated = p.status?.nominatedNodeName;
      if (nominated) this.cache.nominate(p, nominated, key);
      this.queue.add(key, p.spec?.priority ?? 0);
    } else this.cache.unnominate(key);
  }

  async start(): Promise<void> {
    for (const i of [this.nodes, this.pods, this.namespaces, this.pdbs]) i.start();
    await Promise.all([this.nodes, this.pods, this.namespaces, this.pdbs].map((i) => i.waitForSync()));
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    for (;;) {
      const key = await this.queue.pop();
      if (key === undefined || this.stopped) return;
      this.attemptStart = performance.now();
      try {
        await this.scheduleKey(key);
      } catch (err) {
        this.metrics?.attempt("error", this.attemptStart);
        this.log(`scheduling ${key} failed: ${(err as Error).message}`);
        this.queue.parkUnschedulable(key);
      }
    }
  }

  private async scheduleKey(key: string): Promise<void> {
    const pod = this.pods.get(key);
    if (!pod || !responsible(pod) || this.cache.isAssumed(key)) return;
    const nodes = this.cache.nodes();
    const nominated = this.cache.anyNominated() ? this.cache.nominatedOn : undefined;
    // The node preemption freed for it, tried first (the status may not show the nomination yet).
    const preferred = this.cache.nominatedNodeOf(key) ?? pod.status?.nominatedNodeName;
    const d0 = performance.now();
    const result = this.algorithm.schedule(
      pod,
      nodes,
      undefined,
      nominated,
      preferred === undefined ? undefined : this.cache.get(preferred),
    );
    this.decisions.ms += performance.now() - d0;
    if (result.node === undefined) {
      // PostFilter: preemption, whose verdict joins the message as upstream's does.
      const t0 = performance.now();
      const p = preempt(
        this.algorithm,
        result.state,
        nodes.length,
        result.resolvable,
        this.budgets(),
        (n) => this.cache.get(n),
        this.cache.nominatedOn,
      );
      this.preemption.ms += performance.now() - t0;
      this.preemption.runs++;
      if (p.node === undefined) return this.markUnschedulable(pod, `${result.message} ${p.message}.`);
      this.cache.nominate(pod, p.node, key);
      await this.evict(
        pod,
        p.node,
        p.victims.map((v) => v.pod),
      );
      return this.markUnschedulable(pod, result.message, p.node);
    }
    this.cache.unnominate(key);
    this.cache.assume(pod, result.node);
    this.metrics?.attempt("scheduled", this.attemptStart);
    this.lastMessage.delete(key);
    while (this.inFlight >= MAX_BINDS_IN_FLIGHT) await new Promise<void>((r) => (this.slot = r));
    this.inFlight++;
    void this.bind(pod, result.node).finally(() => {
      this.inFlight--;
      const s = this.slot;
      this.slot = undefined;
      s?.();
    });
  }

  private async bind(pod: SchedPod, node: string): Promise<void> {
    const key = keyOf(pod);
    const { namespace, name } = splitKey(key);
    try {
      await this.client.resource("pods", namespace).createSubresource(name, "binding", {
        apiVersion: "v1",
        kind: "Binding",
        metadata: { name, namespace },
        target: { apiVersion: "v1", kind: "Node", name: node },
      });
      recordEvent(this.client, SCHEDULER_NAME, pod, "Normal", "Scheduled", `Successfully assigned ${key} to ${node}`);
    } catch (err) {
      this.cache.forget(key);
      // Already bound or gone: the informer will tell us; anything else is retried.
      if (isNotFound(err) || isConflict(err)) return;
      this.log(`binding ${key} to ${node} failed: ${(err as Error).message}`);
      this.queue.parkUnschedulable(key);
    }
  }

  /** PodDisruptionBudgets as preemption reads them. */
  private budgets(): Budget[] {
    return this.pdbs.list().map((b) => {
      let selector: Budget["selector"] = [];
      try {
        selector = requirementsOf(b.spec?.selector);
      } catch {}
      const st = b.status ?? {};
      return {
        namespace: b.metadata?.namespace ?? "",
        selector,
        disruptionsAllowed: st.disruptionsAllowed ?? 0,
        disrupted: new Set(Object.keys(st.disruptedPods ?? {})),
      };
    });
  }

  /** Victims are told why (DisruptionTarget), then deleted gracefully; the preemptor is nominated to the node. */
  private async evict(preemptor: SchedPod, node: string, victims: SchedPod[]): Promise<void> {
    const at = now();
    const scheduler = preemptor.spec.schedulerName ?? SCHEDULER_NAME;
    await Promise.all(
      victims.map(async (v) => {
        const pods = this.client.resource("pods", v.metadata!.namespace!);
        const condition = {
          type: "DisruptionTarget",
          status: "True",
          reason: "PreemptionByScheduler",
          message: `${scheduler}: preempting to accommodate a higher priority pod`,
          lastTransitionTime: at,
        };
        await pods
          .patch(v.metadata!.name!, { status: { conditions: [condition] } }, "strategic", { subresource: "status" })
          .catch(() => {});
        await pods.delete(v.metadata!.name!).catch(() => {});
        recordEvent(
          this.client,
          SCHEDULER_NAME,
          v,
          "Normal",
          "Preempted",
          `Preempted by pod ${preemptor.metadata?.uid} on node ${node}`,
        );
      }),
    );
  }

  private async markUnschedulable(pod: SchedPod, message: string, nominated?: string): Promise<void> {
    const key = keyOf(pod);
    this.metrics?.attempt("unschedulable", this.attemptStart);
    this.queue.parkUnschedulable(key);
    if (this.lastMessage.get(key) === message && !nominated) return;
    this.lastMessage.set(key, message);
    const { namespace, name } = splitKey(key);
    const condition = {
      type: "PodScheduled",
      status: "False",
      reason: "Unschedulable",
      message,
      lastProbeTime: null,
      lastTransitionTime: now(),
    };
    await this.client
      .resource("pods", namespace)
      .patch(
        name,
        { status: { conditions: [condition], ...(nominated ? { nominatedNodeName: nominated } : {}) } },
        "strategic",
        { subresource: "status" },
      )
      .catch(() => {});
    recordEvent(this.client, SCHEDULER_NAME, pod, "Warning", "FailedScheduling", message);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.close();
    for (const i of [this.nodes, this.pods, this.namespaces, this.pdbs]) i.stop();
    await this.loop;
  }
}

export interface RunningScheduler {
  /** On a thread of its own (thread.ts, when asked and it could start), or on this one. */
  threaded: boolean;
  /** Its decisions' and preemption's times, for benchmarks. */
  stats(): Promise<SchedulerStats>;
  stop(): Promise<void>;
}

/**
 * Starts the scheduler with `client`'s identity: on this thread, or on a thread of its own when
 * `thread` is true (KUBE_SCHEDULER_THREAD=1), and then on this one if that thread cannot start (a
 * build without its entry point). Its metrics join `hub`. This thread by default: with the whole
 * cluster in one process (bench scale) the thread of its own scheduled no faster at a steady load,
 * cost ~150 MB more RSS and, alone (bench scheduler), ~18% more CPU per pod (docs/ARCHITECTURE.md).
 */
export async function runScheduler(
  client: Client,
  log: (msg: string) => void,
  hub?: MetricsHub,
  {
    thread = process.env.KUBE_SCHEDULER_THREAD === "1",
    shared,
  }: {
    thread?: boolean;
    /** The process's shared informers, read by a scheduler on this thread (kube up). */
    shared?: SharedInformerFactory;
  } = {},
): Promise<RunningScheduler> {
  if (thread) {
    try {
      const t = await startSchedulerThread(client, log, hub);
      return { threaded: true, stats: t.stats, stop: t.stop };
    } catch (err) {
      if (!(err instanceof ThreadUnavailable)) throw err;
      log(`${err.message}; scheduling on the main thread`);
    }
  }
  const registry = hub?.registry();
  const s = new SchedulerLoop(client, log, registry, shared);
  await s.start().catch(async (err) => {
    if (registry) hub?.remove(registry);
    await s.stop();
    throw err;
  });
  return {
    threaded: false,
    stats: async () => ({ decisions: { ...s.decisions }, preemption: { ...s.preemption } }),
    async stop() {
      if (registry) hub?.remove(registry);
      await s.stop();
    },
  };
}

export const schedulerComponent: Component = {
  name: "scheduler",
  async start(ctx: ComponentContext) {
    const s = await runScheduler(clientOf(ctx, "system:kube-scheduler"), (m) => ctx.log("scheduler", m), ctx.metrics, {
      shared: ctx.informers,
    });
    return { stop: () => s.stop() };
  },
};
