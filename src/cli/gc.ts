// kube up's forced garbage collection (--gc-interval), held while the API server writes a whole LIST.
import { heapSize } from "../util/jsc.ts";

/** A forced collection that stops the process this long is left to JSC from then on (see below). */
export const SLOW_COLLECTION_MS = 100;

/**
 * A full, synchronous garbage collection every `ms` (none for 0). JSC's own full collections run
 * when the heap has doubled and leave what they free with the allocator, so under steady churn the
 * process's RSS was a 60 MB sawtooth that kept climbing for minutes (`bun run bench soak`: +11
 * MB/min); Bun.gc(true) also hands the freed pages back (same load, every 20 s: flat at ~150 MB
 * instead of 160-220 MB). The price is a pause of some tens of ms of CPU with a 25 MB live heap.
 *
 * With a big heap the pause is seconds (2-3 s at 100k pods, a 1.4 GB heap: every API call waits
 * through it, the mutating p99 was these pauses). So a forced collection that took longer than
 * `slowMs` gives what one costs per byte of the heap it kept, and a due collection runs only while
 * the heap's size (garbage included: at least what a collection keeps) predicts a pause within
 * `slowMs`; JSC's concurrent collector, sized for kube up by src/cli/heap-size.ts, keeps a bigger
 * heap. Holding off only while the heap was as big as the slow one's was not enough: when JSC's
 * own collections brought it under that, a forced one ran again (bench scale at 100k pods: 289 ms
 * at 210 MB, then 983 ms at 144 MB, the run's slowest patch; two other runs had a stop of 4.3 and
 * 4.9 s with the CPU of a parallel full collection, likely the same).
 *
 * While `busy()` says so (a LIST of every pod being written), a due collection waits, checking
 * every `retryMs`, for at most one more interval: a pause of seconds in the middle of the response
 * added all of it to the LIST. The collections keep their rate (the next is due `ms` after the
 * last one was due, not after it ran).
 */
export function collectGarbage(
  ms: number,
  opts: {
    busy?: () => boolean;
    collect?: () => void;
    retryMs?: number;
    /** The heap's size now, garbage included (bun:jsc's heapSize()). */
    heapBytes?: () => number;
    slowMs?: number;
    /** Told when a collection took `ms`, keeping `bytes`: heaps over `maxBytes` are left to JSC from then on. */
    onSlow?: (ms: number, bytes: number, maxBytes: number) => void;
  } = {},
): () => void {
  const collect = opts.collect ?? (typeof Bun === "undefined" ? undefined : () => Bun.gc(true));
  if (!ms || !collect) return () => {};
  const heapBytes = opts.heapBytes ?? heapSize;
  const slowMs = opts.slowMs ?? SLOW_COLLECTION_MS;
  const retryMs = opts.retryMs ?? 250;
  /** What a forced collection costs per byte of heap, from the slow ones (0: none was slow). */
  let msPerByte = 0;
  let due = performance.now() + ms;
  let timer: ReturnType<typeof setTimeout>;
  const schedule = (wait: number) => {
    timer = setTimeout(tick, Math.max(0, wait));
    (timer as { unref?: () => void }).unref?.();
  };
  const tick = () => {
    const now = performance.now();
    if (heapBytes() * msPerByte <= slowMs) {
      if (opts.busy?.() && now - due < ms) return schedule(retryMs);
      collect();
      const took = performance.now() - now;
      if (took > slowMs) {
        const kept = Math.max(1, heapBytes());
        msPerByte = Math.max(msPerByte, took / kept);
        opts.onSlow?.(took, kept, slowMs / msPerByte);
      }
    }
    due += ms;
    if (due <= performance.now()) due = performance.now() + ms;
    schedule(due - performance.now());
  };
  schedule(ms);
  return () => clearTimeout(timer);
}
