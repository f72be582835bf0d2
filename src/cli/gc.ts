// kube up's forced garbage collection (--gc-interval), held while the API server writes a whole LIST.

/**
 * A full, synchronous garbage collection every `ms` (none for 0). JSC's own full collections run
 * when the heap has doubled and leave what they free with the allocator, so under steady churn the
 * process's RSS was a 60 MB sawtooth that kept climbing for minutes (`bun run bench soak`: +11
 * MB/min); Bun.gc(true) also hands the freed pages back (same load, every 20 s: flat at ~150 MB
 * instead of 160-220 MB). The price is a pause of some tens of ms of CPU (25 MB live heap) each,
 * and seconds at 100k pods (3.5-4.2 s of CPU with a ~1.4 GB heap).
 *
 * While `busy()` says so (a LIST of every pod being written), a due collection waits, checking
 * every `retryMs`, for at most one more interval: a pause of seconds in the middle of the response
 * added all of it to the LIST. The collections keep their rate (the next is due `ms` after the
 * last one was due, not after it ran).
 */
export function collectGarbage(
  ms: number,
  opts: { busy?: () => boolean; collect?: () => void; retryMs?: number } = {},
): () => void {
  const collect = opts.collect ?? (typeof Bun === "undefined" ? undefined : () => Bun.gc(true));
  if (!ms || !collect) return () => {};
  const retryMs = opts.retryMs ?? 250;
  let due = performance.now() + ms;
  let timer: ReturnType<typeof setTimeout>;
  const schedule = (wait: number) => {
    timer = setTimeout(tick, Math.max(0, wait));
    (timer as { unref?: () => void }).unref?.();
  };
  const tick = () => {
    const now = performance.now();
    if (opts.busy?.() && now - due < ms) return schedule(retryMs);
    collect();
    due += ms;
    if (due <= performance.now()) due = performance.now() + ms;
    schedule(due - performance.now());
  };
  schedule(ms);
  return () => clearTimeout(timer);
}
