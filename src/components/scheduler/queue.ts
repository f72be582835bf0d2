// The scheduling queue: pods waiting for a decision, higher priority first and FIFO among equals
// (upstream's PrioritySort), and pods that fit nowhere, which wait for a cluster change (a node
// added or changed, a pod deleted) or their back-off.
interface Entry {
  key: string;
  priority: number;
  seq: number;
}
const before = (a: Entry, b: Entry) => a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);

export class SchedulingQueue {
  /** A binary heap of the pods ready for a decision. */
  private heap: Entry[] = [];
  private seq = 0;
  private queued = new Set<string>();
  private priorities = new Map<string, number>();
  private unschedulable = new Map<string, { attempts: number; timer: ReturnType<typeof setTimeout> }>();
  private wake: (() => void) | undefined;
  private closed = false;

  add(key: string, priority?: number): void {
    if (priority !== undefined) this.priorities.set(key, priority);
    if (this.closed || this.queued.has(key)) return;
    const u = this.unschedulable.get(key);
    if (u) {
      clearTimeout(u.timer);
      this.unschedulable.delete(key);
    }
    this.queued.add(key);
    this.push({ key, priority: this.priorities.get(key) ?? 0, seq: this.seq++ });
    this.wake?.();
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private take(): string {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    this.queued.delete(top.key);
    return top.key;
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
    this.priorities.delete(key);
  }

  async pop(): Promise<string | undefined> {
    for (;;) {
      if (this.closed) return undefined;
      if (this.heap.length) return this.take();
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }

  /** Drains whatever is ready without waiting. */
  popReady(max: number): string[] {
    const out: string[] = [];
    while (out.length < max && this.heap.length) out.push(this.take());
    return out;
  }

  /** Pods waiting to be handed out. */
  get activeLength(): number {
    return this.heap.length;
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
