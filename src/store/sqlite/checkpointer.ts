// WAL checkpoints on a thread of their own (checkpoint-worker.ts). With SQLite's automatic
// checkpoint, the commit that fills the WAL past 1,000 pages also copies them into the database
// and syncs both files before it returns: at 10k pods a run of SchedulingBasic made 23 such
// commits, 0.6 s of fsync with the event loop stopped (the main thread was idle ~18% of the time
// on an otherwise idle machine). The store asks this thread instead once it has written enough.
//
// Only PASSIVE checkpoints: they never hold the write lock. A TRUNCATE (or RESTART) checkpoint on
// this connection keeps writers out while it waits for readers to leave old snapshots, and the
// store's writer waits on its busy_timeout with the event loop stopped: with a reader holding a
// snapshot (a backup), every write after a compaction stalled 5 s. The WAL file is bounded by
// journal_size_limit instead (schema.ts), applied when the WAL starts over.
//
// The thread also starts the WAL over after a checkpoint (checkpoint-worker.ts), with a write of
// its own that takes SQLite's write lock for a moment: a store write meanwhile would wait for it in
// busy_timeout with the event loop stopped. A lock word both threads share keeps them apart
// without that: the store takes it around each write transaction, and while the thread holds it,
// the store's writes wait for the checkpoint to end (whenIdle) and the event loop goes on.
/** Who holds the shared write lock. */
export const WriteLock = { free: 0, store: 1, checkpointer: 2 } as const;
export type ToCheckpointer = { t: "open"; path: string; lock: SharedArrayBuffer } | { t: "checkpoint" } | { t: "stop" };
export type FromCheckpointer =
  | { t: "loaded" }
  | { t: "ready" }
  | { t: "failed"; error: string }
  | { t: "done" }
  | { t: "stopped" };

export interface Checkpointer {
  /** Asks for a checkpoint: PASSIVE passes copy what they can without waiting for anyone. */
  checkpoint(): void;
  /** A checkpoint asked for is not done yet. */
  readonly busy: boolean;
  /**
   * Takes the write lock for one synchronous write transaction of the store's connection: false
   * while the thread starts the WAL over (whenIdle tells when it is done). endWrite gives it back.
   */
  beginWrite(): boolean;
  endWrite(): void;
  /** The thread ended (failed or stopped): the store checkpoints itself again. */
  readonly ended: boolean;
  /** Calls fn once no checkpoint is running (or the thread ended). */
  whenIdle(fn: () => void): void;
  stop(): Promise<void>;
}

/** How long start waits for the thread to open the file, and stop for it to close it. */
const WAIT_MS = 5_000;

/** The checkpointer of the database file at `path`, or undefined where its thread cannot run (the store checkpoints itself). */
export async function startCheckpointer(path: string): Promise<Checkpointer | undefined> {
  if (typeof Bun === "undefined") return undefined;
  let worker: Worker;
  try {
    // Named, so that its thread is told apart from others (bench scheduler counts "Worker" threads as the scheduler's).
    worker = new Worker(new URL("./checkpoint-worker.ts", import.meta.url).href, {
      name: "sqlite-ckpt",
    } as WorkerOptions);
  } catch {
    return undefined;
  }
  let pending = 0;
  let ended = false;
  let idle: (() => void)[] = [];
  const settle = () => {
    const waiting = idle;
    idle = [];
    for (const fn of waiting) fn();
  };
  let stopped: (() => void) | undefined;
  const lock = new Int32Array(new SharedArrayBuffer(4));
  const ready = Promise.withResolvers<boolean>();
  worker.onmessage = (e: MessageEvent<FromCheckpointer>) => {
    const m = e.data;
    if (m.t === "loaded")
      worker.postMessage({ t: "open", path, lock: lock.buffer as SharedArrayBuffer } satisfies ToCheckpointer);
    else if (m.t === "ready") ready.resolve(true);
    else if (m.t === "failed") ready.resolve(false);
    else if (m.t === "done") {
      if (--pending > 0) return;
      pending = 0;
      settle();
    } else if (m.t === "stopped") stopped?.();
  };
  worker.onerror = () => ready.resolve(false);
  worker.addEventListener("close", () => {
    ended = true;
    // A thread that ended holding the lock (terminated mid-cycle) no longer keeps the store's writes out.
    Atomics.store(lock, 0, WriteLock.free);
    pending = 0;
    ready.resolve(false);
    stopped?.();
    settle();
  });
  const timer = setTimeout(() => ready.resolve(false), WAIT_MS);
  const ok = await ready.promise;
  clearTimeout(timer);
  if (!ok) {
    worker.terminate();
    return undefined;
  }
  // An idle checkpointer does not keep the process alive.
  (worker as { unref?: () => void }).unref?.();
  return {
    checkpoint() {
      if (ended) return;
      pending++;
      worker.postMessage({ t: "checkpoint" } satisfies ToCheckpointer);
    },
    get busy() {
      return pending > 0;
    },
    get ended() {
      return ended;
    },
    beginWrite() {
      return ended || Atomics.compareExchange(lock, 0, WriteLock.free, WriteLock.store) !== WriteLock.checkpointer;
    },
    endWrite() {
      if (Atomics.compareExchange(lock, 0, WriteLock.store, WriteLock.free) === WriteLock.store)
        Atomics.notify(lock, 0);
    },
    whenIdle(fn) {
      if (pending === 0) fn();
      else idle.push(fn);
    },
    async stop() {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = new Promise<void>((resolve) => {
        stopped = resolve;
        timer = setTimeout(resolve, WAIT_MS);
      });
      worker.postMessage({ t: "stop" } satisfies ToCheckpointer);
      await done;
      clearTimeout(timer);
      ended = true;
      worker.terminate();
      Atomics.store(lock, 0, WriteLock.free);
      settle();
    },
  };
}
