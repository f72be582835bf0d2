// Telling when a long-running response's body ends (its stream closes, fails or the client goes
// away), for the counters that hold a slot while it runs (flow control, request metrics). A body
// made by `endingStream` says so itself; any other is wrapped in a stream that reads it through.
// A watch is such a body: each wrapper would cost a stream turn per event per watcher.

const listeners = new WeakMap<ReadableStream<Uint8Array>, (() => void)[]>();

/**
 * Registers `stream` as one that reports its end; the returned function is to be called once
 * when it ends, whatever the reason.
 */
export function endingStream(stream: ReadableStream<Uint8Array>): () => void {
  const fns: (() => void)[] = [];
  listeners.set(stream, fns);
  return () => {
    listeners.delete(stream);
    for (const fn of fns.splice(0)) fn();
  };
}

/** `res` with `onEnd` called once when its body ends (a response without a body ends at once). */
export function whenBodyEnds(res: Response, onEnd: () => void): Response {
  const body = res.body;
  if (!body) {
    onEnd();
    return res;
  }
  const fns = listeners.get(body);
  if (fns) {
    fns.push(onEnd);
    return res;
  }
  // A stream that has already ended is no longer registered: it is wrapped, and the wrapper sees the end.
  let open = true;
  const end = () => {
    if (!open) return;
    open = false;
    onEnd();
  };
  const reader = body.getReader();
  const counted = new ReadableStream<Uint8Array>({
    async pull(ctl) {
      try {
        const { value, done } = await reader.read();
        if (!done) return ctl.enqueue(value);
        end();
        ctl.close();
      } catch (err) {
        end();
        ctl.error(err);
      }
    },
    cancel(reason) {
      end();
      return reader.cancel(reason);
    },
  });
  return new Response(counted, { status: res.status, statusText: res.statusText, headers: res.headers });
}
