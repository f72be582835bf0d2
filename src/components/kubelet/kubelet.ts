// One node's kubelet: registers the node, keeps its heartbeat, runs a PodWorker per pod bound
// here, relists the runtime's containers (pleg.ts) so exits and crashes are noticed, adopts
// containers left running by a previous process and removes those whose pods are gone.
import type { Node } from "../../api/kinds/core.ts";
import { isPodPhaseTerminal, type Pod } from "../../api/kinds/pod.ts";
import type { Client } from "../../client/index.ts";
import { forgetEvents } from "../events.ts";
import type { KubeletListers } from "./listers.ts";
import { RestartBackoff } from "./backoff.ts";
import { nodeObject, postReady, registerNode, renewLease } from "./node.ts";
import { Pleg } from "./pleg.ts";
import { PodWorker } from "./pod-worker.ts";
import { LABELS, type ContainerRuntime } from "./runtime/index.ts";

export interface KubeletOptions {
  client: Client;
  runtime: ContainerRuntime;
  nodeName: string;
  nodeIP: string;
  dataDir: string;
  kubeletPort: number;
  /** The services and service accounts a pod start reads, from informer caches (listers.ts). */
  listers: Pick<KubeletListers, "services" | "serviceAccounts">;
  /** The node's address on the container network, where pods reach services with loopback cluster IPs. */
  serviceHost?: () => string | undefined;
  serviceAccounts?: { ca?: string };
  dns?: { domain: string; resolvConf: string };
  log: (msg: string) => void;
  /**
   * How often the node's containers are relisted (engine): the only source of container state
   * for the pod workers, which then never list; 0 disables (each sync lists its pod's containers).
   */
  pollMs?: number;
  leaseEveryMs?: number;
  capacity?: { cpu?: string; memory?: string; pods?: number };
  /**
   * The cluster gives nodes pod ranges (node IPAM is on): before any pod starts, wait for
   * Node.spec.podCIDR and put pods on it (ContainerRuntime.usePodCidr).
   */
  podCidr?: boolean;
  /** Told how long each pod took to start (kubelet_pod_start_duration_seconds). */
  podStarted?: (seconds: number) => void;
}

/**
 * Engine events that follow only the kubelet's own calls (its containers are created and started by
 * it alone) and ask for no relist: a sync after a worker's own change asks for the relist it reads
 * (Pleg.containers), so a burst of pod starts does not relist the node once a second (a Podman list
 * costs ~1.4 ms of engine CPU per container). Exec events (probes, kubectl exec) change no
 * container's state. Anything else (die, oom, kill, stop, remove, ...) relists, as does a line not
 * understood.
 */
const OWN_ACTIONS = new Set(["create", "init", "start"]);

/** With the runtime's events flowing, the periodic relist runs once in this many periods (30 s at 1 s). */
const EVENTED_PERIODS = 30;

export class Kubelet {
  readonly workers = new Map<string, PodWorker>();
  private timers: ReturnType<typeof setInterval>[] = [];
  private readonly backoff = new RestartBackoff();
  private pleg: Pleg | undefined;

  constructor(readonly opts: KubeletOptions) {}

  async register(): Promise<void> {
    const o = this.opts;
    const node = nodeObject({
      name: o.nodeName,
      runtime: o.runtime.kind,
      kubeletPort: o.kubeletPort,
      address: o.nodeIP,
      ...o.capacity,
    });
    await registerNode(o.client, node);
    if (o.podCidr && o.runtime.usePodCidr) {
      const cidr = await this.waitForPodCidr();
      await o.runtime.usePodCidr(o.nodeName, cidr);
      o.log(`node ${o.nodeName}: pods get addresses of ${cidr}`);
    }
    await renewLease(o.client, o.nodeName);
    const every = o.leaseEveryMs ?? 10_000;
    this.timers.push(
      setInterval(() => renewLease(o.client, o.nodeName).catch((e) => o.log(`lease: ${e.message}`)), every),
    );
    this.timers.push(
      setInterval(
        () => postReady(o.client, o.nodeName).catch((e) => o.log(`node status: ${e.message}`)),
        Math.max(every, 40_000),
      ),
    );
    if (o.pollMs) {
      const pleg = new Pleg(
        () => o.runtime.listContainers({ [LABELS.node]: o.nodeName }),
        (uid, containers, began) => this.workers.get(uid)?.relisted(containers, began),
        o.log,
        undefined,
        o.runtime.containerEvents ? o.pollMs : 0,
      );
      // Before any worker starts: a pod's first sync reads it (the containers an earlier run left).
      await pleg.relist();
      this.pleg = pleg;
      let ticks = 0;
      // While the runtime's events come, a relist follows each (at most one per pollMs) and the
      // periodic one only runs every EVENTED_PERIODS periods, in case an event was lost.
      this.timers.push(
        setInterval(() => (!this.evented || ++ticks % EVENTED_PERIODS === 0) && pleg.relist(), o.pollMs),
      );
      if (o.runtime.containerEvents) void this.followEvents(pleg);
    }
  }

  /** Whether the runtime's event stream is open (the periodic relist is then rare). */
  private evented = false;
  private readonly events = new AbortController();

  /** Follows the runtime's container events, asking the PLEG for a relist at each; reopens a broken stream. */
  private async followEvents(pleg: Pleg): Promise<void> {
    const { runtime, nodeName, log } = this.opts;
    const signal = this.events.signal;
    while (!signal.aborted) {
      try {
        // The first yield is the stream opening: the relist it asks for covers what came before.
        for await (const actions of runtime.containerEvents!([LABELS.node, nodeName], signal)) {
          this.evented = true;
          if (!actions.length || actions.some((a) => !OWN_ACTIONS.has(a) && !a.startsWith("exec"))) pleg.request();
        }
      } catch (err) {
        if (!signal.aborted) log(`container events: ${(err as Error).message}; relisting every period`);
      }
      this.evented = false;
      if (!signal.aborted) await Bun.sleep(1000);
    }
  }

  /** The node's podCIDR, once node IPAM has written it (upstream's kubelet waits the same way). */
  private async waitForPodCidr(): Promise<string> {
    const deadline = Date.now() + 60_000;
    for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
      const node = await this.opts.client.resource<Node>("nodes").get(this.opts.nodeName);
      const cidr = node.spec?.podCIDR;
      if (cidr) return cidr;
      if (Date.now() > deadline)
        throw new Error(
          `node ${this.opts.nodeName} got no spec.podCIDR in 60 s: is node IPAM (--cluster-cidr) running?`,
        );
      await Bun.sleep(wait);
    }
  }

  /** What each pod's worker is given: one object for all of them (one per pod was 112 bytes a pod). */
  private deps: ConstructorParameters<typeof PodWorker>[1] | undefined;
  private workerDeps(): ConstructorParameters<typeof PodWorker>[1] {
    this.deps ??= this.makeWorkerDeps();
    return this.deps;
  }

  private makeWorkerDeps(): ConstructorParameters<typeof PodWorker>[1] {
    const { client, runtime, nodeName, nodeIP, dataDir, serviceHost, serviceAccounts, dns, log, podStarted, listers } =
      this.opts;
    return {
      client,
      services: listers.services,
      accounts: listers.serviceAccounts,
      runtime,
      nodeName,
      nodeIP,
      dataDir,
      backoff: this.backoff,
      serviceHost,
      serviceAccounts,
      dns,
      log,
      podStarted,
      pleg: this.pleg,
    };
  }

  /** A pod bound here appeared or changed. */
  podChanged(pod: Pod): void {
    const uid = pod.metadata!.uid!;
    const w = this.workers.get(uid);
    if (w) return statusOnly(w.current, pod) ? w.observe(pod) : w.update(pod);
    const worker = new PodWorker(pod, this.workerDeps());
    this.workers.set(uid, worker);
    worker.kick();
  }

  /** A pod was removed from the API: its containers go too. */
  podDeleted(pod: Pod): void {
    const uid = pod.metadata!.uid!;
    const w = this.workers.get(uid);
    this.workers.delete(uid);
    void (w ?? new PodWorker(pod, this.workerDeps()))
      .shutdown()
      // Its events are done: the recorder's caches, keyed by the pod's uid, let it go.
      .finally(() => forgetEvents(this.opts.client, pod));
  }

  /** Removes containers whose pods this kubelet does not know (after the pod list synced). */
  async removeOrphans(): Promise<void> {
    const all = await this.opts.runtime.listContainers({ [LABELS.node]: this.opts.nodeName });
    for (const c of all)
      if (c.podUid && !this.workers.has(c.podUid) && c.labels[LABELS.podUid])
        await this.opts.runtime.removeContainer(c.id).catch(() => {});
  }

  async stop(clean: boolean): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.events.abort();
    this.pleg?.stop();
    await Promise.all([...this.workers.values()].map((w) => (clean ? w.shutdown() : w.detach())));
    if (clean) await this.opts.runtime.releasePodCidr?.(this.opts.nodeName).catch(() => {});
  }
}

/**
 * Whether `next` differs from `prev` only in its status (and resourceVersion, managedFields): the
 * echo of the kubelet's own status write, say. As upstream's pod config source (checkAndUpdatePod:
 * a change of status alone is a reconcile, not an update), that is no reason to sync, except a
 * phase made terminal by someone else, after which the sync stops the containers.
 */
export function statusOnly(prev: Pod, next: Pod): boolean {
  if (prev.status?.phase !== next.status?.phase && isPodPhaseTerminal(next.status?.phase)) return false;
  if (prev.spec !== next.spec && !Bun.deepEquals(prev.spec, next.spec)) return false;
  const a = prev.metadata ?? {};
  const b = next.metadata ?? {};
  return Bun.deepEquals(
    { ...a, resourceVersion: undefined, managedFields: undefined },
    { ...b, resourceVersion: undefined, managedFields: undefined },
  );
}
