// A work queue of string keys, as client-go's: a key waiting is queued once however often it is
// added; a key is never handed to two workers at once (added while processing, it is queued
// again after done()); failures retry with per-key exponential back-off. Delays run on the given
// clock (client-go's delaying queue takes one too).
import { realClock, type Clock } from "./clock.ts";

export interface RateLimiterOptions {
  /** First retry delay; doubles per consecutive failure. client-go: 5ms. */
  baseDelayMs?: number;
  /** Cap. client-go: 1000s. */
  maxDelayMs?: number;
  /** The clock addAfter waits on; real time by default. */
  clock?: Clock;
}

export class WorkQueue {
  private queue: string[] = [];
  /** Keys that need processing (queued, or re-added while processing). */
  private dirty = new Set<string>();
  private processing = new Set<string>();
  private waiters: ((key: string | undefined) => void)[] = [];
  private delayed = new Map<string, { at: number; cancel: () => void }>();
  private failures = new Map<string, number>();
  private shuttingDown = false;
  /** Keys accepted by add() (not already waiting), and rate-limited re-adds: workqueue_adds_total / retries_total. */
  adds = 0;
  retries = 0;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly clock: Clock;

  constructor(opts: RateLimiterOptions = {}) {
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 1_000_000;
    this.clock = opts.clock ?? realClock;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.adds++;
    this.dirty.add(key);
    if (this.processing.has(key)) return; // done() queues it again
    this.queue.push(key);
    this.handOut();
  }

  /** Adds the key after ms; a key already waiting keeps the earlier of the two times. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.clock.now() + ms;
    const pending = this.delayed.get(key);
    if (pending) {
      if (pending.at <= at) return;
      pending.cancel();
    }
    const cancel = this.clock.after(ms, () => {
      this.delayed.delete(key);
      this.add(key);
    });
    this.delayed.set(key, { at, cancel });
  }

  /** Re-adds the key after its back-off: base * 2^failures, capped. */
  addRateLimited(key: string): void {
    this.retries++;
    this.addAfter(key, this.when(key));
  }

  /** The back-off for the key's next retry; counts one more failure. */
  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    return Math.min(this.baseDelayMs * 2 ** n, this.maxDelayMs);
  }

  /** Clears the key's failure count (call after a success). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key, waiting for one; undefined once shut down. Call done(key) when finished. */
  get(): Promise<string | undefined> {
    const key = this.take();
    if (key !== undefined) return Promise.resolve(key);
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) {
      this.queue.push(key);
      this.handOut();
    }
  }

  /** Keys waiting to be handed out (not the ones being processed or delayed). */
  len(): number {
    return this.queue.length;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Stops handing out keys: waiting and future get() calls return undefined. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { cancel } of this.delayed.values()) cancel();
    this.delayed.clear();
    this.queue = [];
    for (const wake of this.waiters.splice(0)) wake(undefined);
  }

  private take(): string | undefined {
    if (this.shuttingDown) return undefined;
    const key = this.queue.shift();
    if (key === undefined) return undefined;
    this.dirty.delete(key);
    this.processing.add(key);
    return key;
  }

  private handOut(): void {
    while (this.waiters.length > 0 && this.queue.length > 0) this.waiters.shift()!(this.take());
  }
}

/**
 * Runs n workers until the queue shuts down: each takes a key, reconciles it, forgets its
 * failures on success and re-adds it rate-limited on a throw. Resolves when all workers exit.
 */
export async function runWorkers(
  queue: WorkQueue,
  n: number,
  reconcile: (key: string) => Promise<void>,
  onError?: (key: string, err: unknown) => void,
): Promise<void> {
  const worker = async () => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await reconcile(key);
        queue.forget(key);
      } catch (err) {
        try {
          onError?.(key, err);
        } catch {
          // a failing error handler must not stop the worker
        }
        queue.addRateLimited(key);
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, n) }, worker));
}
