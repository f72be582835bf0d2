// Watch: a stream of newline-delimited JSON events read from the store's change log, filtered
// by the request's selectors. An object that stops matching a selector is sent as DELETED, one
// that starts matching as ADDED, as Kubernetes does. A compacted start revision ends the stream
// with an ERROR event carrying a 410 Expired Status (clients relist).
import type { KindDef, KubeObject } from "../../api/types.ts";
import { CompactedError, WatchLaggedError, type WatchEvent as StoreEvent, type Watcher } from "../../store/types.ts";
import { decode, rawJson } from "./codec.ts";
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

export function watchStream(objects: Objects, req: WatchRequest): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const abort = new AbortController();
  req.signal?.addEventListener("abort", () => abort.abort(), { once: true });
  const it = events(objects, req, abort.signal)[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    start(controller) {
      // Bun sends the response headers with the first bytes; clients (kubectl) wait for the
      // headers before they consider the watch started, so a blank line (which JSON stream
      // decoders skip) goes out at once.
      controller.enqueue(encoder.encode("\n"));
    },
    async pull(controller) {
      try {
        const { value, done } = await it.next();
        if (done) controller.close();
        else controller.enqueue(encoder.encode((typeof value === "string" ? value : JSON.stringify(value)) + "\n"));
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

async function* events(objects: Objects, req: WatchRequest, signal: AbortSignal): AsyncGenerator<Line> {
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
  try {
    watcher = objects.store.watch(listPrefix(req.kind, req.namespace), { afterRevision: lastRv, signal });
    const iter = watcher[Symbol.asyncIterator]();
    for (;;) {
      pending ??= iter.next();
      // setTimeout takes at most 2^31-1 ms (longer fires at once); a tick before the deadline sends a bookmark only if asked.
      const wait = Math.max(0, Math.min(deadline - Date.now(), req.bookmarks ? bookmarkEvery : Infinity, 2 ** 31 - 1));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const tick = new Promise<"tick">((resolve) => (timer = setTimeout(() => resolve("tick"), wait)));
      const r = await Promise.race([pending, tick]);
      clearTimeout(timer);
      if (r === "tick") {
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
      if (req.raw && !req.match && !needsOnRead(req.kind, r.value.kv)) {
        // No selector and no table: the stored text goes out as it is, never parsed.
        const type = r.value.type === "create" ? "ADDED" : r.value.type === "update" ? "MODIFIED" : "DELETED";
        yield `{"type":"${type}","object":${rawJson(r.value.kv)}}`;
        continue;
      }
      const line = toLine(req.kind, r.value, req.match ?? (() => true));
      if (line) yield { type: line.type, object: render(line.object) };
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
    watcher?.close();
  }
}

function toLine(
  kind: KindDef,
  ev: StoreEvent,
  match: (o: KubeObject) => boolean,
): { type: EventName; object: KubeObject } | undefined {
  const obj = read(kind, ev.kv);
  if (ev.type === "delete") return match(obj) ? { type: "DELETED", object: obj } : undefined;
  const now = match(obj);
  if (ev.type === "create") return now ? { type: "ADDED", object: obj } : undefined;
  const before = ev.prevKv ? match(read(kind, ev.prevKv)) : false;
  if (now && before) return { type: "MODIFIED", object: obj };
  if (now) return { type: "ADDED", object: obj };
  if (before) return { type: "DELETED", object: obj };
  return undefined;
}

export function apiVersion(kind: KindDef): string {
  return kind.group ? `${kind.group}/${kind.version}` : kind.version;
}
