// kube up's periodic full, synchronous garbage collection (--gc-interval). JSC's own full collections
// run when the heap has grown and leave what they free with the allocator, so under steady churn RSS
// was a 60 MB sawtooth that kept climbing for minutes (bench soak: +11 MB/min); Bun.gc(true) hands the
// freed pages back (every 20 s: flat at ~150 MB instead of 160-220 MB). But a full collection stops the
// process while it marks every live object: in bench scale at 15-25k pods it held the event loop
// 0.7-1.3 s of CPU every 20 s (the loop probe's longest turns came every 20 s), growing with the
// pods, and the API's mutating calls waited behind it. So a collection that held the process longer
// than PAUSE_BUDGET_MS makes the next one wait 4 times longer (up to MAX_STRETCH intervals); a quick
// one brings the wait back to the interval. JSC's own collections, concurrent, go on regardless.

/** A forced collection of this much CPU is worth its memory; a longer one is a stall the API feels. */
export const PAUSE_BUDGET_MS = 100;
const STRETCH = 4;
const MAX_STRETCH = 64;

/** The wait before the next forced collection, given the last wait and how long the last one took. */
export function nextGcDelay(interval: number, previous: number, pauseMs: number): number {
  return pauseMs > PAUSE_BUDGET_MS ? Math.min(previous * STRETCH, interval * MAX_STRETCH) : interval;
}

/** Starts the periodic collection (0: none); returns what stops it. */
export function collectGarbage(ms: number): () => void {
  if (!ms || typeof Bun === "undefined") return () => {};
  let delay = ms;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const run = () => {
    // CPU time, not wall time: on a loaded machine a small heap's collection may wait for a core.
    const before = process.cpuUsage();
    Bun.gc(true);
    const used = process.cpuUsage(before);
    delay = nextGcDelay(ms, delay, (used.user + used.system) / 1000);
    if (!stopped) schedule();
  };
  const schedule = () => {
    timer = setTimeout(run, delay);
    timer.unref?.();
  };
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
