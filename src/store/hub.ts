// The in-process watch hub: a committed write is handed to every matching watcher at once
// (no polling; the SQLite store). Each watcher (both backends) has a bounded buffer; one that falls too far behind is ended
// with WatchLaggedError so writers never wait for readers.
import type { WatchEvent, Watcher } from "./types.ts";
import { CompactedError, WatchLaggedError } from "./types.ts";

export class LiveWatcher {
  /** Events not read yet from `head` on; a read slot is emptied, so a read event is not kept alive by the watcher. */
  private buf: (WatchEvent | undefined)[] = [];
  private head = 0;
  private wake: (() => void) | undefined;
  lagged = false;
  closed = false;

  constructor(
    readonly prefix: string,
    private readonly maxBuffered: number,
  ) {}

  push(ev: WatchEvent): void {
    if (this.closed || this.lagged) return;
    if (this.buf.length - this.head >= this.maxBuffered) {
      this.lagged = true;
      this.buf = [];
      this.head = 0;
    } else this.buf.push(ev);
    this.notify();
  }

  close(): void {
    this.closed = true;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Next live event; undefined once closed. Throws when lagged (after buffered events are gone). */
  async next(lastRevision: () => number): Promise<WatchEvent | undefined> {
    for (;;) {
      if (this.head < this.buf.length) {
        const ev = this.buf[this.head]!;
        this.buf[this.head++] = undefined;
        this.trim();
        return ev;
      }
      if (this.lagged) throw new WatchLaggedError(lastRevision());
      if (this.closed) return undefined;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Up to `max` buffered events, without waiting ([] when none; a lag shows on the next next()). */
  take(max: number): WatchEvent[] {
    const n = Math.min(max, this.buf.length - this.head);
    if (n <= 0) return [];
    const out = this.buf.slice(this.head, this.head + n) as WatchEvent[];
    this.buf.fill(undefined, this.head, this.head + n);
    this.head += n;
    this.trim();
    return out;
  }

  /** Nothing buffered, not lagged, not closed: every event pushed so far has been read. */
  get idle(): boolean {
    return this.head === this.buf.length && !this.lagged && !this.closed;
  }

  /** Starts over once everything is read; else drops the read part of the buffer once it is most of it. */
  private trim(): void {
    if (this.head === this.buf.length) {
      this.buf.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.buf.length) {
      this.buf = this.buf.slice(this.head);
      this.head = 0;
    }
  }
}

export class Hub {
  private watchers = new Set<LiveWatcher>();

  add(w: LiveWatcher): void {
    this.watchers.add(w);
  }
  remove(w: LiveWatcher): void {
    this.watchers.delete(w);
  }
  publish(ev: WatchEvent): void {
    for (const w of this.watchers) if (ev.kv.key.startsWith(w.prefix)) w.push(ev);
  }
  closeAll(): void {
    for (const w of this.watchers) w.close();
    this.watchers.clear();
  }
  get size(): number {
    return this.watchers.size;
  }
}

/**
 * A Watcher reading a LiveWatcher fed from a stream (etcd): fails at once with CompactedError when
 * `start` is compacted, ends with the stream's failure (if any) once the buffer is drained, and
 * calls `close` when the consumer stops.
 */
export function streamedWatcher(
  live: LiveWatcher,
  start: number,
  compactedRevision: () => Promise<number>,
  failure: () => unknown,
  close: () => void,
): Watcher {
  let last = start;
  let reading = false;
  async function* iterate(): AsyncGenerator<WatchEvent> {
    try {
      const compacted = await compactedRevision().catch(() => 0);
      if (start < compacted) throw new CompactedError(start, compacted);
      reading = true;
      for (;;) {
        const ev = await live.next(() => last);
        if (!ev) {
          const f = failure();
          if (f) throw f;
          return;
        }
        last = ev.revision;
        yield ev;
      }
    } finally {
      close();
    }
  }
  const gen = iterate();
  return {
    [Symbol.asyncIterator]: () => gen,
    close,
    takeReady: (max) => takeLive(reading ? live : undefined, max, (r) => (last = r)),
  };
}

/**
 * A Watcher's takeReady: buffered live events taken without waiting, once the watch reads live
 * events (`live` undefined before: replayed or checked events come first); `seen` notes the last
 * revision handed out.
 */
export function takeLive(live: LiveWatcher | undefined, max: number, seen: (revision: number) => void): WatchEvent[] {
  const evs = live?.take(max) ?? [];
  if (evs.length) seen(evs[evs.length - 1]!.revision);
  return evs;
}
