// A client transport whose network can be cut, in front of a real one: cutting fails requests
// and breaks open response bodies, so tests can watch the client reconnect.
import type { Transport } from "../../src/client/transport.ts";

/** A transport whose network can be cut: cutting fails requests and breaks open response bodies. */
export function cuttableTransport(inner: Transport): Transport & { cut(): void; heal(): void; requests: number } {
  let up = true;
  const open = new Map<ReadableStreamDefaultController<Uint8Array>, ReadableStreamDefaultReader<Uint8Array>>();
  const t = {
    baseUrl: inner.baseUrl,
    requests: 0,
    cut() {
      up = false;
      for (const [c, reader] of open) {
        c.error(new TypeError("network cut"));
        reader.cancel().catch(() => {});
      }
      open.clear();
    },
    heal() {
      up = true;
    },
    async fetch(req: Request): Promise<Response> {
      t.requests++;
      if (!up) throw new TypeError("network cut");
      const res = await inner.fetch(req);
      if (!res.body) return res;
      const reader = res.body.getReader();
      let ctl!: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({
        start: (c) => {
          ctl = c;
          open.set(c, reader);
        },
        async pull(c) {
          try {
            const { done, value } = await reader.read();
            if (done) {
              open.delete(c);
              c.close();
            } else c.enqueue(value);
          } catch (err) {
            open.delete(c);
            c.error(err);
          }
        },
        cancel: () => {
          open.delete(ctl);
          return reader.cancel();
        },
      });
      return new Response(body, { status: res.status, headers: res.headers });
    },
  };
  return t;
}
