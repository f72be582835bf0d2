// A whole (unpaged) list written to the response as it is read, as kube-apiserver's streaming
// collection encoding does: the store is read a page at a time and each page's items are
// encoded and sent before the next is read, so a LIST of 100k pods never exists in memory as
// one array or one string. The bytes are those of JSON.stringify({kind, apiVersion, metadata,
// items}), so clients see the same document as from a buffered list.
import type { KindDef } from "../../api/types.ts";
import type { KeyValue } from "../../store/types.ts";
import { rawJson } from "./codec.ts";
import type { Matcher } from "./filters.ts";
import { needsOnRead, type Objects, read } from "./objects.ts";
import { listPrefix } from "./paths.ts";
import { apiVersion } from "./watch.ts";

/** Store keys read per page: big enough to amortize the query, small enough to keep memory flat. */
const PAGE = 500;

/** One item as the list shows it: the stored text when it already is that (no parse), else re-encoded. */
export function itemJson(kind: KindDef, kv: KeyValue, head: string, match?: Matcher): string | undefined {
  if (match?.keyFilter && !match.keyFilter(kv.key)) return undefined;
  const stored = !needsOnRead(kind, kv) && kv.value.startsWith(head);
  if (stored && !match) return rawJson(kv);
  const obj = read(kind, kv);
  if (match && !match(obj)) return undefined;
  return stored ? rawJson(kv) : JSON.stringify({ ...obj, apiVersion: apiVersion(kind), kind: kind.kind });
}

/** The stored-text prefix of an object already in the list's apiVersion and kind. */
export const itemHead = (kind: KindDef) =>
  `{"apiVersion":${JSON.stringify(apiVersion(kind))},"kind":${JSON.stringify(kind.kind)},`;

/**
 * Streams every object of `kind` under `ns` that passes `match`. The first page is read before
 * the response starts, so the list's resourceVersion is the revision of that read (later pages
 * may hold newer objects, whose events a watch from that revision delivers again).
 */
export async function streamList(
  objects: Objects,
  kind: KindDef,
  ns: string | undefined,
  match: Matcher | undefined,
  signal?: AbortSignal,
): Promise<Response> {
  const prefix = listPrefix(kind, ns);
  const head = itemHead(kind);
  const enc = new TextEncoder();
  let page = await objects.store.list(prefix, { limit: PAGE, countRemaining: false });
  const open = `{"kind":${JSON.stringify(kind.listKind)},"apiVersion":${JSON.stringify(apiVersion(kind))},"metadata":{"resourceVersion":"${page.revision}"},"items":[`;
  let sentOpen = false;
  let sent = 0;
  let next: string | undefined; // the key after which the next page starts
  const body = new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      // A page whose items all fail the filter sends nothing: read on until there is something.
      let slice = performance.now();
      for (;;) {
        if (signal?.aborted) return ctrl.close();
        // A filter that rejects page after page must still let other requests in (~20 ms slices).
        if (performance.now() - slice > 20) {
          await new Promise((r) => setImmediate(r));
          slice = performance.now();
        }
        if (next !== undefined)
          page = await objects.store.list(prefix, { limit: PAGE, startAfter: next, countRemaining: false });
        const parts: string[] = sentOpen ? [] : [open];
        sentOpen = true;
        for (const kv of page.kvs) {
          const text = itemJson(kind, kv, head, match);
          if (text !== undefined) parts.push(sent++ ? `,${text}` : text);
        }
        const last = !page.more || page.kvs.length === 0;
        if (last) parts.push("]}");
        else next = page.kvs[page.kvs.length - 1]!.key;
        if (parts.length) ctrl.enqueue(enc.encode(parts.join("")));
        if (last) return ctrl.close();
        if (parts.length) return;
      }
    },
  });
  return new Response(body, { status: 200, headers: { "content-type": "application/json" } });
}
