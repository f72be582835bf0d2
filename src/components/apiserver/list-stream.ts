// A whole (unpaged) list written to the response as it is read, as kube-apiserver's streaming
// collection encoding does: the store is read a page at a time and each page's items are
// encoded and sent before the next is read, so a LIST of 100k pods never exists in memory as
// one array or one string. The bytes are those of JSON.stringify({kind, apiVersion, metadata,
// items}), so clients see the same document as from a buffered list.
import type { KindDef } from "../../api/types.ts";
import type { KeyValue } from "../../store/types.ts";
import { withResourceVersionPieces } from "./codec.ts";
import type { Matcher } from "./filters.ts";
import { needsOnRead, type Objects, read } from "./objects.ts";
import { listPrefix } from "./paths.ts";
import { tableColumns, tableRow } from "./table.ts";
import { apiVersion } from "./watch.ts";
import { edenCollect } from "../../util/jsc.ts";

/** Store keys read per page: big enough to amortize the query, small enough to keep memory flat. */
const PAGE = 500;
/** Text written between waits for the client to drain it: a few pages of pods. */
const DRAIN_CHARS = 8 * 1024 * 1024;
/**
 * Text written between young-generation collections. Every item's text is garbage once written,
 * and with a big live heap (kube up at 100k pods: ~1.2 GB) JSC lets new garbage grow in
 * proportion to the heap before it collects: the final LIST of bench scale (184 MB) raised kube's
 * RSS by ~190 MB. bench list with BENCH_LIST_LIVE=400000, the server's peak RSS over its RSS before
 * the request: +85-227 MB over HTTPS and +334-413 MB read in process; with this +47-56 and +23-83 MB,
 * its CPU no higher. An eden collection visits only objects made since the last one.
 */
const COLLECT_CHARS = 32 * 1024 * 1024;

/**
 * One item as the list shows it: the stored text with its resourceVersion when it already is that
 * (no parse; as pieces, see withResourceVersionPieces), else re-encoded.
 */
export function itemJson(kind: KindDef, kv: KeyValue, head: string, match?: Matcher): string | string[] | undefined {
  if (match?.keyFilter && !match.keyFilter(kv.key)) return undefined;
  const stored = !needsOnRead(kind, kv) && kv.value.startsWith(head);
  if (stored && !match) return withResourceVersionPieces(kv.value, kv.modRevision);
  const obj = read(kind, kv);
  if (match && !match(obj)) return undefined;
  return stored
    ? withResourceVersionPieces(kv.value, kv.modRevision)
    : JSON.stringify({ ...obj, apiVersion: apiVersion(kind), kind: kind.kind });
}

/** The stored-text prefix of an object already in the list's apiVersion and kind. */
export const itemHead = (kind: KindDef) =>
  `{"apiVersion":${JSON.stringify(apiVersion(kind))},"kind":${JSON.stringify(kind.kind)},`;

/** How many whole-collection LISTs are being written now (kube up holds its forced GC meanwhile: gc.ts). */
export class ListStreams {
  active = 0;
}

/** How a streamed collection is written: its text up to the first item, and each item's text. */
interface Shape {
  open(revision: number): string;
  /** Its text, whole or in pieces; undefined: the item is not in the collection (a filter said no). */
  item(kv: KeyValue): string | string[] | undefined;
  contentType: string;
}

/**
 * Streams every object of `kind` under `ns` that passes `match`. The first page is read before
 * the response starts, so the list's resourceVersion is the revision of that read (later pages
 * may hold newer objects, whose events a watch from that revision delivers again).
 */
export function streamList(
  objects: Objects,
  kind: KindDef,
  ns: string | undefined,
  match: Matcher | undefined,
  signal?: AbortSignal,
  streams?: ListStreams,
): Promise<Response> {
  const head = itemHead(kind);
  return streamCollection(objects, kind, ns, signal, streams, {
    open: (rv) =>
      `{"kind":${JSON.stringify(kind.listKind)},"apiVersion":${JSON.stringify(apiVersion(kind))},"metadata":{"resourceVersion":"${rv}"},"items":[`,
    item: (kv) => itemJson(kind, kv, head, match),
    contentType: "application/json",
  });
}

/**
 * The same list as a meta.k8s.io/v1 Table (kubectl's `get` without --chunk-size): the bytes of
 * tableOf() of every object at once, with every row's age from one clock reading.
 */
export function streamTable(
  objects: Objects,
  kind: KindDef,
  ns: string | undefined,
  match: Matcher | undefined,
  includeObject: string | undefined,
  signal?: AbortSignal,
  streams?: ListStreams,
): Promise<Response> {
  const now = new Date();
  const columns = JSON.stringify(tableColumns(kind));
  return streamCollection(objects, kind, ns, signal, streams, {
    open: (rv) =>
      `{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"${rv}"},"columnDefinitions":${columns},"rows":[`,
    item: (kv) => {
      if (match?.keyFilter && !match.keyFilter(kv.key)) return undefined;
      const obj = read(kind, kv);
      return match && !match(obj) ? undefined : JSON.stringify(tableRow(kind, obj, now, includeObject));
    },
    // What Response.json() says, as the buffered Table did.
    contentType: "application/json;charset=utf-8",
  });
}

async function streamCollection(
  objects: Objects,
  kind: KindDef,
  ns: string | undefined,
  signal: AbortSignal | undefined,
  streams: ListStreams | undefined,
  shape: Shape,
): Promise<Response> {
  const prefix = listPrefix(kind, ns);
  const first = await objects.store.list(prefix, { limit: PAGE, countRemaining: false });
  // A direct stream: each item's text goes to the response's own buffer as it is made, one flush
  // per page. A page joined into one string and encoded to bytes made two more copies of every
  // object, and at 100k pods (~300 MB of text) that garbage outran the collector: a LIST raised
  // the peak RSS by ~500 MB.
  const source: Bun.DirectUnderlyingSource<Uint8Array> = {
    type: "direct",
    async pull(ctrl: ReadableStreamDirectController) {
      if (streams) streams.active++;
      try {
        ctrl.write(shape.open(first.revision));
        let page = first;
        let sent = 0;
        let slice = performance.now();
        let undrained = 0; // characters written since the client last drained the response
        let uncollected = 0; // characters drained since the last eden collection
        for (;;) {
          let wrote = false;
          let full = false; // the response's buffer is full: a write answered with a promise
          const write = (text: string) => {
            full = typeof ctrl.write(text) !== "number" || full;
            undrained += text.length;
          };
          for (const kv of page.kvs) {
            const text = shape.item(kv);
            if (text === undefined) continue;
            if (sent++) write(",");
            if (typeof text === "string") write(text);
            else for (const piece of text) write(piece);
            wrote = true;
          }
          if (!page.more || page.kvs.length === 0) break;
          // The client drains every DRAIN_CHARS or so (backpressure, and a bound on what is buffered);
          // waiting at every page put a turn of the event loop, busy at 100k pods, between pages: a
          // LIST of 100k pods took 40 s instead of 2-3 s under load.
          if (full || undrained > DRAIN_CHARS) {
            await ctrl.flush(true);
            uncollected += undrained;
            undrained = 0;
            if (uncollected > COLLECT_CHARS) {
              uncollected = 0;
              edenCollect();
            }
          } else if (wrote) ctrl.flush();
          // A filter that rejects page after page still lets other requests in (~20 ms slices).
          else if (performance.now() - slice > 20) {
            await new Promise((r) => setImmediate(r));
            slice = performance.now();
          }
          if (signal?.aborted) return ctrl.close();
          page = await objects.store.list(prefix, {
            limit: PAGE,
            startAfter: page.kvs[page.kvs.length - 1]!.key,
            countRemaining: false,
          });
        }
        ctrl.write("]}");
        // What the response still buffers goes to the socket before the LIST counts as written: a
        // forced collection held until now would otherwise keep the last megabytes from the client.
        await ctrl.flush(true);
        ctrl.close();
      } finally {
        if (streams) streams.active--;
      }
    },
  };
  // Bun's own kind of source, which the DOM types (tsconfig's lib) do not know.
  const body = new ReadableStream(source as unknown as UnderlyingDefaultSource<Uint8Array>);
  return new Response(body, { status: 200, headers: { "content-type": shape.contentType } });
}
