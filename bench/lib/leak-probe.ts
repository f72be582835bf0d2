// A leak probe preloaded into a benchmark's `kube up` process (`--preload`, set by startKube when
// KUBE_LEAK_PROBE=FILE is in the environment): every 20 s, after a full GC, it appends one JSON line
// to FILE with the JS heap (size, object counts by type), the process's RSS and the allocator's
// large bins, and the summed size of every live Map and Set grouped by the source line that made
// it. A map that only grows across samples (keyed by pod uid, say) shows up by its line.
// Found this way: the event recorder's caches keyed by uid (10 hollow kubelets: 33 caches filling
// towards 4096 entries each). Debugging only: it replaces the global Map and Set constructors.
import { heapStats, memoryUsage } from "bun:jsc";
import { appendFileSync, readdirSync } from "node:fs";

const out = process.env.KUBE_LEAK_PROBE;
type Sized = { size: number };
const sites = new Map<string, WeakRef<Sized>[]>();

/** The caller of the Map/Set constructor: "src/components/events.ts:38:14". */
function site(): string | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 4;
  const line = new Error().stack?.split("\n")[4] ?? "";
  Error.stackTraceLimit = limit;
  const m = line.match(/\/(src\/[^)]+)\)?$/);
  return m?.[1];
}

function track(o: Sized): void {
  const s = site();
  if (!s) return;
  const list = sites.get(s) ?? [];
  if (list.length === 0) sites.set(s, list);
  list.push(new WeakRef(o));
}

if (out) {
  const OrigMap = Map;
  const OrigSet = Set;
  globalThis.Map = class TrackedMap<K, V> extends OrigMap<K, V> {
    constructor(entries?: Iterable<readonly [K, V]> | null) {
      super(entries);
      track(this);
    }
  } as MapConstructor;
  globalThis.Set = class TrackedSet<T> extends OrigSet<T> {
    constructor(values?: Iterable<T> | null) {
      super(values);
      track(this);
    }
  } as SetConstructor;
  // kill -USR2 PID: a V8-format heap snapshot (after a full GC) to FILE.heapsnapshot, for a look by type and shape.
  process.on("SIGUSR2", () => {
    Bun.gc(true);
    Bun.write(`${out}.${Date.now()}.heapsnapshot`, Bun.generateHeapSnapshot("v8"));
  });
  const t0 = Date.now();
  // KUBE_LEAK_PROBE_GC=0: sample as the process runs (no forced GC), every 10 s, to see what RSS is made of.
  const forceGc = process.env.KUBE_LEAK_PROBE_GC !== "0";
  setInterval(
    () => {
      if (forceGc) Bun.gc(true);
      const h = heapStats();
      const maps: Record<string, { live: number; entries: number }> = {};
      for (const [s, list] of sites) {
        const live = list.filter((w) => w.deref());
        sites.set(s, live);
        maps[s] = { live: live.length, entries: live.reduce((n, w) => n + (w.deref()?.size ?? 0), 0) };
      }
      const bins = (
        (h as unknown as { mimalloc?: { malloc_bins?: { block_size: number; current: number }[] } }).mimalloc
          ?.malloc_bins ?? []
      ).filter((b) => b.current * b.block_size > 2 ** 20);
      appendFileSync(
        out,
        `${JSON.stringify({
          minutes: (Date.now() - t0) / 60_000,
          rssMb: process.memoryUsage().rss / 2 ** 20,
          heapMb: h.heapSize / 2 ** 20,
          heapCapacityMb: h.heapCapacity / 2 ** 20,
          mallocMb: memoryUsage().current / 2 ** 20,
          mallocCommitMb: memoryUsage().currentCommit / 2 ** 20,
          objects: h.objectCount,
          extraMb: h.extraMemorySize / 2 ** 20,
          fds: readdirSync("/proc/self/fd").length,
          mallocBins: Object.fromEntries(bins.map((b) => [b.block_size, b.current])),
          types: h.objectTypeCounts,
          maps,
        })}\n`,
      );
    },
    forceGc ? 20_000 : 10_000,
  ).unref();
}
