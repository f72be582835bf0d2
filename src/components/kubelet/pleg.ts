// The pod lifecycle event generator (upstream's pkg/kubelet/pleg, generic.go): one periodic list of
// the node's containers is the kubelet's only source of container state. Each relist is compared
// with the previous one pod by pod; a pod whose containers changed (appeared, went, changed state)
// is reported, and its worker syncs. Workers read their pod's containers from the last relist
// instead of listing themselves (a Podman list reads every container, ~28 ms of engine CPU at 100),
// waiting, as upstream's pod cache GetNewerThan, for a relist begun after their own last change.
// When the runtime tells of changes (the engine's event stream), a relist follows each change
// (request()) instead of every period, as upstream's evented PLEG; the period is then a safety net.
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
  /** When the last relist began, answered or not (performance.now()). */
  private began = NEVER;
  /** A requested relist waiting for minIntervalMs to pass. */
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** A relist was requested while one was under way: another follows it. */
  private pending = false;

  constructor(
    /** All of the node's containers (one list call). */
    private readonly list: () => Promise<ContainerInfo[]>,
    /**
     * A pod's containers changed since the previous relist: to these (none when it has none left),
     * as a relist begun at `began` (performance.now()) saw them.
     */
    private readonly changed: (podUid: string, containers: readonly ContainerInfo[], began: number) => void,
    private readonly log: (msg: string) => void,
    /** A list that has not answered by then is given up, so one hung call cannot stop relisting. */
    private readonly listTimeoutMs = 30_000,
    /**
     * Relists asked for (request(), and a reader waiting for a newer relist, which then asks for
     * one) begin at most this often. 0: request() relists at once, and readers only wait.
     */
    private readonly minIntervalMs = 0,
  ) {}

  /**
   * A relist soon (the runtime told of a change): now if the last began minIntervalMs ago, else
   * once it has; after the current one if one is under way. Many requests make one relist.
   */
  request(): void {
    if (this.stopped) return;
    if (this.relisting) {
      this.pending = true;
      return;
    }
    if (this.timer) return;
    const wait = this.began + this.minIntervalMs - performance.now();
    if (wait <= 0) void this.relist();
    else
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.relist();
      }, wait);
  }

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
    // This relist begins after any request made so far: it answers them.
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = false;
    try {
      const began = performance.now();
      this.began = began;
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
      for (const uid of changed) this.changed(uid, this.records.get(uid)?.containers ?? [], began);
    } catch (err) {
      this.log(`relisting the runtime's containers: ${(err as Error).message}`);
    } finally {
      this.relisting = false;
      // Readers still waiting (the list failed, or they changed something meanwhile) ask again.
      if (this.pending || (this.minIntervalMs > 0 && this.waiters.length)) this.request();
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
      const wait = new Promise<void>((resolve, reject) => this.waiters.push({ after, resolve, reject }));
      if (this.minIntervalMs > 0) this.request();
      await wait;
    }
    return this.records.get(podUid)?.containers ?? [];
  }

  /** Ends relisting; workers waiting for a relist get PlegStoppedError. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.waiters) w.reject(new PlegStoppedError());
    this.waiters = [];
  }
}
