// The scheduling queue: pods waiting for a decision (FIFO), and pods that fit nowhere, which
// wait for a cluster change (a node added or changed, a pod deleted) or their back-off.
export class SchedulingQueue {
  private active: string[] = [];
  private head = 0;
  private queued = new Set<string>();
  private unschedulable = new Map<string, { attempts: number; timer: ReturnType<typeof setTimeout> }>();
  private wake: (() => void) | undefined;
  private closed = false;

  add(key: string): void {
    if (this.closed || this.queued.has(key)) return;
    const u = this.unschedulable.get(key);
    if (u) {
      clearTimeout(u.timer);
      this.unschedulable.delete(key);
    }
    this.queued.add(key);
    this.active.push(key);
    this.wake?.();
  }

  /** Parks a pod that fits nowhere; it comes back after a back-off (1 s doubling to 10 s) or on moveAll(). */
  parkUnschedulable(key: string): void {
    if (this.closed) return;
    const attempts = (this.unschedulable.get(key)?.attempts ?? this.attempts.get(key) ?? 0) + 1;
    clearTimeout(this.unschedulable.get(key)?.timer);
    const delay = Math.min(10_000, 1000 * 2 ** (attempts - 1));
    const timer = setTimeout(() => this.retry(key, attempts), delay);
    (timer as { unref?: () => void }).unref?.();
    this.unschedulable.set(key, { attempts, timer });
  }

  private retry(key: string, attempts: number): void {
    this.unschedulable.delete(key);
    this.attempts.set(key, attempts);
    this.add(key);
  }
  /** Failed attempts per pod, kept across retries so the back-off grows. */
  private attempts = new Map<string, number>();

  /** A cluster change may make parked pods fit: retry them all now. */
  moveAllToActive(): void {
    for (const key of [...this.unschedulable.keys()]) this.add(key);
  }

  forget(key: string): void {
    const u = this.unschedulable.get(key);
    if (u) clearTimeout(u.timer);
    this.unschedulable.delete(key);
    this.attempts.delete(key);
  }

  async pop(): Promise<string | undefined> {
    for (;;) {
      if (this.closed) return undefined;
      if (this.head < this.active.length) {
        const key = this.active[this.head++]!;
        if (this.head > 4096) {
          this.active = this.active.slice(this.head);
          this.head = 0;
        }
        this.queued.delete(key);
        return key;
      }
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }

  /** Drains whatever is ready without waiting. */
  popReady(max: number): string[] {
    const out: string[] = [];
    while (out.length < max && this.head < this.active.length) {
      const key = this.active[this.head++]!;
      this.queued.delete(key);
      out.push(key);
    }
    return out;
  }

  /** Pods waiting to be handed out. */
  get activeLength(): number {
    return this.active.length - this.head;
  }

  get parked(): number {
    return this.unschedulable.size;
  }

  close(): void {
    this.closed = true;
    for (const u of this.unschedulable.values()) clearTimeout(u.timer);
    this.unschedulable.clear();
    this.wake?.();
  }
}
