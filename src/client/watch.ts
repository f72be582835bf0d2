// A watch as an async iterable: the request starts at once (so the server registers the watch
// before the caller goes on to write), events are read as NDJSON, close() ends it from anywhere.
import { apiErrorFrom } from "./errors.ts";
import { ndjson, sharedNdjson } from "./ndjson.ts";
import type { WatchEvent, WatchStream } from "./types.ts";

/**
 * open: sends the watch request with the given signal. A non-2xx answer makes iteration throw
 * an ApiError (e.g. 410 when the resourceVersion is too old); a 200 answer may still carry an
 * ERROR event, which is yielded like any other event. shared: object events may be deeply frozen
 * values other shared watchers of this process are given as well (WatchOptions.shared).
 */
export function openWatch<T>(
  open: (signal: AbortSignal) => Promise<Response>,
  outer?: AbortSignal,
  shared = false,
): WatchStream<T> {
  const abort = new AbortController();
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    abort.abort();
    // Cancelling the reader ends a pending read at once, also for the in-process transport where
    // the request's signal does not reach the response stream.
    if (reader) reader.cancel().catch(() => {});
    else
      response
        .then(
          (res) => res.body?.cancel(),
          () => {},
        )
        .catch(() => {});
  };
  const response = open(abort.signal);
  response.catch(() => {}); // reported when iterated; never an unhandled rejection
  if (outer) {
    if (outer.aborted) close();
    else outer.addEventListener("abort", close, { once: true });
  }

  async function* events(): AsyncGenerator<WatchEvent<T>> {
    let res: Response;
    try {
      res = await response;
    } catch (err) {
      if (closed) return;
      throw err;
    }
    if (!res.ok) {
      if (closed) return;
      throw await apiErrorFrom(res);
    }
    if (!res.body || closed) {
      await res.body?.cancel().catch(() => {});
      return;
    }
    reader = res.body.getReader();
    try {
      for await (const event of (shared ? sharedNdjson : ndjson)<WatchEvent<T>>(reader)) {
        if (closed) return;
        yield event;
      }
    } catch (err) {
      if (closed) return; // the abort surfaces as a read error
      throw err;
    } finally {
      close();
      outer?.removeEventListener("abort", close);
    }
  }

  let iterated = false;
  return {
    close,
    [Symbol.asyncIterator]() {
      if (iterated) throw new Error("a watch stream can be iterated only once");
      iterated = true;
      return events();
    },
  };
}
