// The pod lifecycle event generator (upstream's pkg/kubelet/pleg, generic.go): one periodic list of
// the node's containers is the kubelet's only source of container state. Each relist is compared
// with the previous one pod by pod; a pod whose containers changed (appeared, went, changed state)
// is reported, and its worker syncs. Workers read their pod's containers from the last relist
// instead of listing themselves (a Podman list reads every container, ~28 ms of engine CPU at 100),
// waiting, as upstream's pod cache GetNewerThan, for a relist begun after their own last change.
import type { ContainerInfo } from "./runtime/index.ts";

/** Stands for "no relist yet" and "no change yet". */
const NEVER = Number.NEGATIVE_INFINITY;

/** Thrown to a worker waiting for a relist when the kubelet stops. */
export class PlegStoppedError extends Error {
  override readonly name = "PlegStoppedError";
  constructor() {
    super("the kubelet is stopping");
  }
}

/** A pod's containers as one string (id and state of each), to tell whether anything changed. */
export function containerSignature(list: readonly ContainerInfo[]): string {
  return list
    .map((c) => `${c.id}:${c.state}`)
    .sort()
    .join(",");
}

interface PodRecord {
  signature: string;
  containers: ContainerInfo[];
}

export class Pleg {
  private records = new Map<string, PodRecord>();
  /** When the last successful relist began (performance.now()): its answer is no older than that. */
  private listedAt = NEVER;
  private relisting = false;
  private stopped = false;
  private waiters: { after: number; resolve: () => void; reject: (e: Error) => void }[] = [];

  constructor(
    /** All of the node's containers (one list call). */
    private readonly list: () => Promise<ContainerInfo[]>,
    /** A pod's containers changed since the previous relist. */
    private readonly changed: (podUid: string) => void,
    private readonly log: (msg: string) => void,
    /** A list that has not answered by then is given up, so one hung call cannot stop relisting. */
    private readonly listTimeoutMs = 30_000,
  ) {}

  /** The list, or an error once listTimeoutMs has passed without an answer. */
  private async listBounded(): Promise<ContainerInfo[]> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the runtime did not answer a container list within ${this.listTimeoutMs} ms`)),
        this.listTimeoutMs,
      );
    });
    try {
      return await Promise.race([this.list(), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Lists the node's containers once; reports each pod whose containers differ from the last relist. */
  async relist(): Promise<void> {
    if (this.relisting || this.stopped) return;
    this.relisting = true;
    try {
      const began = performance.now();
      const byPod = new Map<string, ContainerInfo[]>();
      for (const c of await this.listBounded()) (byPod.get(c.podUid) ?? byPod.set(c.podUid, []).get(c.podUid)!).push(c);
      const changed: string[] = [];
      for (const uid of this.records.keys()) if (!byPod.has(uid)) changed.push(uid);
      for (const uid of changed) this.records.delete(uid);
      for (const [uid, containers] of byPod) {
        const signature = containerSignature(containers);
        if (this.records.get(uid)?.signature !== signature) changed.push(uid);
        this.records.set(uid, { signature, containers });
      }
      // The cache is current before anyone hears of a change: a worker kicked now reads this relist.
      this.listedAt = began;
      this.waiters = this.waiters.filter((w) => (w.after < began ? (w.resolve(), false) : true));
      for (const uid of changed) this.changed(uid);
    } catch (err) {
      this.log(`relisting the runtime's containers: ${(err as Error).message}`);
    } finally {
      this.relisting = false;
    }
  }

  /**
   * The pod's containers as a relist begun after `after` (performance.now()) saw them: the last one
   * if it is new enough, else the next one. A worker passes the time its last change to the
   * runtime ended, so what it reads includes what it did.
   */
  async containers(podUid: string, after = NEVER): Promise<ContainerInfo[]> {
    if (this.listedAt <= after) {
      if (this.stopped) throw new PlegStoppedError();
      await new Promise<void>((resolve, reject) => this.waiters.push({ after, resolve, reject }));
    }
    return this.records.get(podUid)?.containers ?? [];
  }

  /** Ends relisting; workers waiting for a relist get PlegStoppedError. */
  stop(): void {
    this.stopped = true;
    for (const w of this.waiters) w.reject(new PlegStoppedError());
    this.waiters = [];
  }
}
