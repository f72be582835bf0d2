// Watch: a stream of newline-delimited JSON events read from the store's change log, filtered
// by the request's selectors. An object that stops matching a selector is sent as DELETED, one
// that starts matching as ADDED, as Kubernetes does. A compacted start revision ends the stream
// with an ERROR event carrying a 410 Expired Status (clients relist).
import type { KindDef, KubeObject } from "../../api/types.ts";
import { CompactedError, WatchLaggedError, type WatchEvent as StoreEvent, type Watcher } from "../../store/types.ts";
import { endingStream } from "./body-end.ts";
import { rawJson } from "./codec.ts";
import { expired } from "./errors.ts";
import { needsOnRead, read, type Objects } from "./objects.ts";
import { listPrefix } from "./paths.ts";

export interface WatchRequest {
  kind: KindDef;
  namespace?: string;
  /** "" / undefined / "0": send the current state as ADDED first, then changes. */
  resourceVersion?: string;
  match?: (obj: KubeObject) => boolean;
  bookmarks: boolean;
  timeoutSeconds?: number;
  /** Shapes each event's object (a Table row for kubectl, or the object itself). */
  render: (obj: KubeObject, first: boolean) => unknown;
  signal?: AbortSignal;
  bookmarkIntervalMs?: number;
  /** Objects are sent as stored (no table rendering), which allows the no-parse fast path. */
  raw?: boolean;
}

type EventName = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
type Line = { type: EventName; object: unknown } | string;

/** A watch event already encoded as its line's bytes, shared by every watcher that sends it as is. */
type Encoded = Uint8Array;
const encoder = new TextEncoder();
const bytes = (v: Line | Encoded) =>
  v instanceof Uint8Array ? v : encoder.encode(`${typeof v === "string" ? v : JSON.stringify(v)}\n`);
/**
 * A burst (the events that have already arrived when a watcher is read) goes out as one write of
 * at most about this many bytes: a write's cost is mostly per write (TLS record, syscall, stream
 * turn), so a watcher that fell behind catches up in few writes. Bounded, as each write is a copy
 * per watcher.
 */
const BURST_BYTES = 32 * 1024;
/** Initial-list objects sent per write. */
const LIST_BURST = 64;

/** One write's bytes: the line alone (shared by every watcher) or the lines joined. */
function joined(lines: (Line | Encoded)[]): Uint8Array {
  if (lines.length === 1) return bytes(lines[0]!);
  const parts = lines.map(bytes);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Where the event generator is: bookmarks are sent only once the initial list is out, at the revision
 * sent last, or the store's newest when the watch has nothing left to send (caughtUp).
 */
interface Progress {
  watching: boolean;
  revision: number;
  caughtUp?: () => number | undefined;
}

/** A bookmark this long before the watch's deadline, so the client resumes from there (upstream's cacher: 2 s). */
const PRE_DEADLINE_MS = 2000;

export function watchStream(objects: Objects, req: WatchRequest): ReadableStream<Uint8Array> {
  const abort = new AbortController();
  req.signal?.addEventListener("abort", () => abort.abort(), { once: true });
  const progress: Progress = { watching: false, revision: 0 };
  const it = events(objects, req, progress, abort.signal)[Symbol.asyncIterator]();
  // timeoutSeconds 0 or absent: the server's own 30-60 minutes; a negative one ends the watch at once (as upstream).
  const deadline = req.timeoutSeconds
    ? Date.now() + req.timeoutSeconds * 1000
    : Date.now() + (1800 + Math.random() * 1800) * 1000;
  const bookmarkEvery = req.bookmarkIntervalMs ?? 60_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let ended = false;
  const end = () => {
    if (ended) return false;
    ended = true;
    clearTimeout(timer);
    abort.abort();
    void it.return?.(undefined);
    reportEnd();
    return true;
  };
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      // Bun sends the response headers with the first bytes; clients (kubectl) wait for the
      // headers before they consider the watch started, so a blank line (which JSON stream
      // decoders skip) goes out at once.
      controller.enqueue(encoder.encode("\n"));
      // One timer per watch for the next bookmark or the deadline, never raced against events: it
      // writes the bookmark itself. (A timer per event cost more than the event with a thousand
      // watchers; one promise raced against every event kept each event alive until it fired.)
      // The generator runs only inside pull, and pull enqueues what it yields in the same
      // microtask run, so when a timer fires every event up to progress.revision is sent.
      // Bookmarks every bookmarkEvery and once more PRE_DEADLINE_MS before the deadline (upstream's
      // nextBookmarkTime), so a watch that times out resumes from a revision still in the history.
      let preDeadlineSent = false;
      const arm = () => {
        const now = Date.now();
        const preDeadline = preDeadlineSent ? Infinity : deadline - PRE_DEADLINE_MS - now;
        // setTimeout takes at most 2^31-1 ms (longer fires at once).
        const wait = Math.max(
          0,
          Math.min(deadline - now, req.bookmarks ? Math.min(bookmarkEvery, preDeadline) : Infinity, 2 ** 31 - 1),
        );
        timer = setTimeout(() => {
          if (ended) return;
          const now = Date.now();
          if (now >= deadline) {
            if (end()) controller.close();
            return;
          }
          if (deadline - now <= PRE_DEADLINE_MS) preDeadlineSent = true;
          if (req.bookmarks && progress.watching) {
            progress.revision = Math.max(progress.revision, progress.caughtUp?.() ?? 0);
            controller.enqueue(bytes(bookmark(req.kind, progress.revision)));
          }
          arm();
        }, wait);
      };
      arm();
    },
    async pull(controller) {
      try {
        const { value, done } = await it.next();
        if (ended) return;
        if (!done) return controller.enqueue(joined(value));
      } catch {
        if (ended) return;
      }
      end();
      controller.close();
    },
    cancel() {
      end();
    },
  });
  // Flow control and metrics count the watch until it ends without wrapping its stream.
  const reportEnd = endingStream(stream);
  return stream;
}

function bookmark(kind: KindDef, revision: number): Line {
  return {
    type: "BOOKMARK",
    object: { kind: kind.kind, apiVersion: apiVersion(kind), metadata: { resourceVersion: String(revision) } },
  };
}

/**
 * What every watcher of the same event would compute alike, computed once per event: the
 * no-parse line, the decoded object and previous object (shared read-only: rendering and
 * matching never mutate), and each event type's line for untransformed objects. Held as long as
 * the event is (a watcher's buffer).
 */
interface Shared {
  raw?: Encoded;
  kind?: KindDef;
  obj?: KubeObject;
  prev?: KubeObject;
  lines?: Partial<Record<EventName, Encoded>>;
}
/**
 * Kept on the event itself, under a symbol only this module has: a WeakMap entry per event (looked
 * up by every watcher) cost more than a property, and weak-reference work for the collector.
 * Store events are plain objects that no one freezes; the store never reads the property.
 */
const SHARED = Symbol("shared");
type WithShared = StoreEvent & { [SHARED]?: Shared };
function sharedOf(ev: StoreEvent): Shared {
  const e = ev as WithShared;
  let sh = e[SHARED];
  if (!sh) {
    sh = {};
    // Not enumerable: a copy made by spreading the event must not share what belongs to this one.
    Object.defineProperty(e, SHARED, { value: sh, configurable: true, writable: true });
  }
  return sh;
}

function rawLine(ev: StoreEvent): Encoded {
  const sh = sharedOf(ev);
  if (sh.raw) return sh.raw;
  const type = ev.type === "create" ? "ADDED" : ev.type === "update" ? "MODIFIED" : "DELETED";
  sh.raw = encoder.encode(`{"type":"${type}","object":${rawJson(ev.kv)}}\n`);
  return sh.raw;
}

/** An untransformed event line, encoded once per event and type. */
function lineOf(ev: StoreEvent, line: { type: EventName; object: KubeObject }): Encoded {
  const sh = sharedOf(ev);
  sh.lines ??= {};
  const done = sh.lines[line.type];
  if (done) return done;
  const encoded = encoder.encode(`${JSON.stringify(line)}\n`);
  sh.lines[line.type] = encoded;
  return encoded;
}

async function* events(
  objects: Objects,
  req: WatchRequest,
  progress: Progress,
  signal: AbortSignal,
): AsyncGenerator<(Line | Encoded)[]> {
  let first = true;
  const render = (o: KubeObject) => {
    const r = req.render(o, first);
    first = false;
    return r;
  };
  let after = Number(req.resourceVersion || 0);
  if (!Number.isFinite(after) || after < 0) after = 0;
  let lastRv = after;
  if (!req.resourceVersion || req.resourceVersion === "0") {
    const listed = await objects.list(req.kind, req.namespace, { match: req.match });
    for (let i = 0; i < listed.items.length; i += LIST_BURST)
      yield listed.items.slice(i, i + LIST_BURST).map((obj) => ({ type: "ADDED", object: render(obj) }) as Line);
    after = lastRv = listed.revision;
  }
  lastRv ||= after || (await objects.store.currentRevision());
  progress.revision = lastRv;
  progress.watching = true;
  let watcher: Watcher | undefined;
  try {
    watcher = objects.store.watch(listPrefix(req.kind, req.namespace), { afterRevision: lastRv, signal });
    const w = watcher;
    progress.caughtUp = () => w.caughtUp?.();
    const iter = watcher[Symbol.asyncIterator]();
    for (;;) {
      const r = await iter.next();
      if (r.done) return;
      // The event waited for, then those already there, up to BURST_BYTES, for one write.
      const out: (Line | Encoded)[] = [];
      let size = 0;
      // The size is checked before taking more: events taken are gone from the watcher's buffer.
      for (let evs = [r.value]; evs.length; evs = size < BURST_BYTES ? watcher.takeReady(16) : []) {
        for (const ev of evs) {
          progress.revision = ev.revision;
          const line = lineFor(req, ev, render);
          if (!line) continue;
          out.push(line);
          size += line instanceof Uint8Array ? line.length : 1024;
        }
      }
      if (out.length) yield out;
    }
  } catch (err) {
    if (err instanceof CompactedError) {
      // Each answer here is a client's relist of the whole resource: worth a line (and it is rare when history is long enough).
      console.error(
        `apiserver: watch of ${req.kind.resource} from resourceVersion ${err.requested} answered 410 Expired (compacted at ${err.compacted})`,
      );
      yield [
        {
          type: "ERROR",
          object: expired(`too old resource version: ${err.requested} (${err.compacted})`).toStatus(),
        },
      ];
      return;
    }
    if (err instanceof WatchLaggedError) {
      console.error(
        `apiserver: watch of ${req.kind.resource} ended for lagging (its buffer full) at resourceVersion ${progress.revision}`,
      );
      return;
    }
    throw err;
  } finally {
    watcher?.close();
  }
}

/** What a watcher sends for a store event, if anything. */
function lineFor(req: WatchRequest, ev: StoreEvent, render: (o: KubeObject) => unknown): Line | Encoded | undefined {
  // No selector and no table: the stored text goes out as it is, never parsed, encoded once for all watchers.
  if (req.raw && !req.match && !needsOnRead(req.kind, ev.kv)) return rawLine(ev);
  const line = toLine(req.kind, ev, req.match ?? (() => true));
  if (!line) return undefined;
  return req.raw ? lineOf(ev, line) : { type: line.type, object: render(line.object) };
}

function toLine(
  kind: KindDef,
  ev: StoreEvent,
  match: (o: KubeObject) => boolean,
): { type: EventName; object: KubeObject } | undefined {
  // Decoded once per event and kind for all watchers (a custom resource's versions share keys).
  const sh = sharedOf(ev);
  if (sh.kind !== kind) Object.assign(sh, { kind, obj: undefined, prev: undefined, lines: undefined });
  sh.obj ??= read(kind, ev.kv);
  const obj = sh.obj;
  if (ev.type === "delete") return match(obj) ? { type: "DELETED", object: obj } : undefined;
  const now = match(obj);
  if (ev.type === "create") return now ? { type: "ADDED", object: obj } : undefined;
  if (ev.prevKv) sh.prev ??= read(kind, ev.prevKv);
  const before = sh.prev ? match(sh.prev) : false;
  if (now && before) return { type: "MODIFIED", object: obj };
  if (now) return { type: "ADDED", object: obj };
  if (before) return { type: "DELETED", object: obj };
  return undefined;
}

export function apiVersion(kind: KindDef): string {
  return kind.group ? `${kind.group}/${kind.version}` : kind.version;
}
