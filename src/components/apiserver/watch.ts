// Watch: a stream of newline-delimited JSON events read from the store's change log, filtered
// by the request's selectors. An object that stops matching a selector is sent as DELETED, one
// that starts matching as ADDED, as Kubernetes does. A compacted start revision ends the stream
// with an ERROR event carrying a 410 Expired Status (clients relist).
import type { KindDef, KubeObject } from "../../api/types.ts";
import { CompactedError, WatchLaggedError, type WatchEvent as StoreEvent, type Watcher } from "../../store/types.ts";
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

export function watchStream(objects: Objects, req: WatchRequest): ReadableStream<Uint8Array> {
  const abort = new AbortController();
  req.signal?.addEventListener("abort", () => abort.abort(), { once: true });
  const it = events(objects, req, abort.signal)[Symbol.asyncIterator]();
  const bytes = (v: Line | Encoded) =>
    v instanceof Uint8Array ? v : encoder.encode(`${typeof v === "string" ? v : JSON.stringify(v)}\n`);
  return new ReadableStream<Uint8Array>({
    start(controller) {
      // Bun sends the response headers with the first bytes; clients (kubectl) wait for the
      // headers before they consider the watch started, so a blank line (which JSON stream
      // decoders skip) goes out at once.
      controller.enqueue(encoder.encode("\n"));
    },
    async pull(controller) {
      // One event per pull. Taking every event already resolved into one write (a batch) made
      // test/e2e/hollow.test.ts's preemption case block the event loop; not understood yet.
      try {
        const { value, done } = await it.next();
        if (done) controller.close();
        else controller.enqueue(bytes(value));
      } catch {
        controller.close();
      }
    },
    cancel() {
      abort.abort();
      void it.return?.(undefined);
    },
  });
}

/**
 * What every watcher of the same event would compute alike, computed once per event: the
 * no-parse line, the decoded object and previous object (shared read-only: rendering and
 * matching never mutate), and each event type's line for untransformed objects.
 */
interface Shared {
  raw?: Encoded;
  kind?: KindDef;
  obj?: KubeObject;
  prev?: KubeObject;
  lines?: Partial<Record<EventName, Encoded>>;
}
const perEvent = new WeakMap<StoreEvent, Shared>();
const sharedOf = (ev: StoreEvent) => perEvent.get(ev) ?? perEvent.set(ev, {}).get(ev)!;

function rawLine(ev: StoreEvent): Encoded {
  const sh = sharedOf(ev);
  if (sh.raw) return sh.raw;
  const type = ev.type === "create" ? "ADDED" : ev.type === "update" ? "MODIFIED" : "DELETED";
  sh.raw = encoder.encode(`{"type":"${type}","object":${rawJson(ev.kv)}}\n`);
  return sh.raw;
}

async function* events(objects: Objects, req: WatchRequest, signal: AbortSignal): AsyncGenerator<Line | Encoded> {
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
    for (const obj of listed.items) yield { type: "ADDED", object: render(obj) };
    after = lastRv = listed.revision;
  }
  lastRv ||= after || (await objects.store.currentRevision());
  let watcher: Watcher | undefined;
  // timeoutSeconds 0 or absent: the server's own 30-60 minutes; a negative one ends the watch at once (as upstream).
  const deadline = req.timeoutSeconds
    ? Date.now() + req.timeoutSeconds * 1000
    : Date.now() + (1800 + Math.random() * 1800) * 1000;
  const bookmarkEvery = req.bookmarkIntervalMs ?? 60_000;
  let pending: Promise<IteratorResult<StoreEvent>> | undefined;
  // One timer for the next bookmark or the deadline, kept across events (a timer per event cost
  // more than the event with a thousand watchers).
  let tick: Promise<"tick"> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    watcher = objects.store.watch(listPrefix(req.kind, req.namespace), { afterRevision: lastRv, signal });
    const iter = watcher[Symbol.asyncIterator]();
    for (;;) {
      pending ??= iter.next();
      if (!tick) {
        // setTimeout takes at most 2^31-1 ms (longer fires at once); a tick before the deadline sends a bookmark only if asked.
        const wait = Math.max(
          0,
          Math.min(deadline - Date.now(), req.bookmarks ? bookmarkEvery : Infinity, 2 ** 31 - 1),
        );
        tick = new Promise<"tick">((resolve) => (timer = setTimeout(() => resolve("tick"), wait)));
      }
      const r = await Promise.race([pending, tick]);
      if (r === "tick") {
        tick = undefined;
        if (Date.now() >= deadline) return;
        if (!req.bookmarks) continue;
        yield {
          type: "BOOKMARK",
          object: {
            kind: req.kind.kind,
            apiVersion: apiVersion(req.kind),
            metadata: { resourceVersion: String(lastRv) },
          },
        };
        continue;
      }
      pending = undefined;
      if (r.done) return;
      lastRv = r.value.revision;
      // No selector and no table: the stored text goes out as it is, never parsed, encoded once for all watchers.
      if (req.raw && !req.match && !needsOnRead(req.kind, r.value.kv)) {
        yield rawLine(r.value);
        continue;
      }
      const line = toLine(req.kind, r.value, req.match ?? (() => true));
      if (!line) continue;
      if (!req.raw) {
        yield { type: line.type, object: render(line.object) };
        continue;
      }
      yield lineOf(r.value, line);
    }
  } catch (err) {
    if (err instanceof CompactedError) {
      yield {
        type: "ERROR",
        object: expired(`too old resource version: ${err.requested} (${err.compacted})`).toStatus(),
      };
      return;
    }
    if (err instanceof WatchLaggedError) return;
    throw err;
  } finally {
    clearTimeout(timer);
    watcher?.close();
  }
}

/** An untransformed event line, encoded once per event and type. */
function lineOf(ev: StoreEvent, line: { type: EventName; object: KubeObject }): Encoded {
  const sh = sharedOf(ev);
  sh.lines ??= {};
  const done = sh.lines[line.type];
  if (done) return done;
  const bytes = encoder.encode(`${JSON.stringify(line)}\n`);
  sh.lines[line.type] = bytes;
  return bytes;
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
