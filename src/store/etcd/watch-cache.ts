// The watch cache of an API server on etcd, as kube-apiserver's cacher: one etcd watch per
// resource (`/registry/pods/`, ...) feeds every watcher of that resource in this process, whatever
// its namespace or start revision, from a window of recent events kept in memory. So a thousand
// kubectl/informer watches on pods cost etcd one stream, and a watch that resumes from a recent
// resourceVersion is served without asking etcd. A watch from before the window (or of something
// that is not one resource) gets its own etcd watch, as without the cache.
import { LiveWatcher, streamedWatcher } from "../hub.ts";
import type { WatchEvent, Watcher } from "../types.ts";

/** How many recent events each resource's feed keeps to serve watches that resume from the past. */
export const WINDOW = 2000;

/**
 * The resource a watch prefix is inside: `/registry/pods/ns/` -> `/registry/pods/`; outside
 * /registry/ the first segment (`/w/x` -> `/w/`); undefined for a watch of everything.
 */
export function resourcePrefix(prefix: string): string | undefined {
  return /^\/registry\/[^/]+\//.exec(prefix)?.[0] ?? /^\/(?!registry\/)[^/]+\//.exec(prefix)?.[0];
}

export interface FeedSource {
  /**
   * Streams the etcd events of `prefix` after `after` into `onEvent`, reopening broken streams,
   * until `signal` aborts; resolves with the error that ended it (a compaction), if any.
   */
  stream(prefix: string, after: number, onEvent: (ev: WatchEvent) => void, signal: AbortSignal): Promise<unknown>;
  /** The oldest revision a watch may start after. */
  compactedRevision(): Promise<number>;
}

interface Subscriber {
  live: LiveWatcher;
  after: number;
}

export class ResourceFeed {
  private readonly ring: WatchEvent[] = [];
  private readonly subs = new Set<Subscriber>();
  private readonly abort = new AbortController();
  /** Every event after this revision is in the ring (or still to come). */
  complete: number;
  failed = false;

  constructor(
    private readonly source: FeedSource,
    readonly prefix: string,
    start: number,
    private readonly watchBuffer: number,
  ) {
    this.complete = start;
    void source
      .stream(prefix, start, (ev) => this.publish(ev), this.abort.signal)
      .then((failure) => {
        this.failure = failure;
        this.failed = true;
        for (const s of this.subs) s.live.close();
      });
  }

  private failure: unknown;

  get watchers(): number {
    return this.subs.size;
  }

  private publish(ev: WatchEvent): void {
    this.ring.push(ev);
    if (this.ring.length > WINDOW) this.complete = this.ring.shift()!.revision;
    for (const s of this.subs) {
      if (ev.revision <= s.after || !ev.kv.key.startsWith(s.live.prefix)) continue;
      s.live.push(ev);
      if (s.live.lagged) this.subs.delete(s);
    }
  }

  /** A watch of `prefix` (inside this resource) after `after`, which must be >= complete. */
  subscribe(prefix: string, after: number, signal?: AbortSignal): Watcher {
    const live = new LiveWatcher(prefix, this.watchBuffer);
    const sub: Subscriber = { live, after };
    // Replayed and joined in one turn of the event loop: nothing published in between is missed.
    for (const ev of this.ring) if (ev.revision > after && ev.kv.key.startsWith(prefix)) live.push(ev);
    this.subs.add(sub);
    const close = () => {
      live.close();
      this.subs.delete(sub);
    };
    signal?.addEventListener("abort", close, { once: true });
    if (this.failed) close();
    return streamedWatcher(
      live,
      after,
      () => this.source.compactedRevision(),
      () => this.failure,
      close,
    );
  }

  close(): void {
    this.abort.abort();
    for (const s of this.subs) s.live.close();
    this.subs.clear();
  }
}
