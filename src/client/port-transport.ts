// Requests over a MessagePort: a component on a thread of its own (a Bun Worker, as upstream's
// kube-scheduler is a process of its own) reaches the API server on the process's main thread.
// The thread's side (portTransport) sends each request's method, path, headers and body text; the
// main side (servePort) sends it on through a Transport of its own (which adds the credentials the
// thread never sees: fetchLocal's priority levels, authn, authz, admission and audit all apply) and
// answers with the status, headers and body. A watch's or a followed log's body is streamed, one
// message per chunk; any other body is read whole on the main side and sent in one message.
import { bodySerializedByClient, markSerializedByClient } from "./client.ts";
import type { Transport } from "./transport.ts";

/** What both sides need of a MessagePort (the DOM's and node:worker_threads' both fit). */
export interface Port {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (e: MessageEvent) => void): void;
  removeEventListener(type: "message", listener: (e: MessageEvent) => void): void;
  start?(): void;
}

type Headers2 = [string, string][];
export type PortRequest =
  | {
      t: "req";
      id: number;
      method: string;
      /** Path and query, relative to the server root. */
      path: string;
      headers: Headers2;
      body?: string;
      /** The body was written by the client's JSON.stringify (bodySerializedByClient). */
      serialized?: true;
    }
  | { t: "cancel"; id: number };
export type PortAnswer =
  | { t: "res"; id: number; status: number; statusText: string; headers: Headers2; body?: string; stream?: true }
  | { t: "chunk"; id: number; chunk: Uint8Array }
  | { t: "end"; id: number; error?: string }
  | { t: "fail"; id: number; name: string; error: string };

type Message = PortRequest | PortAnswer;
/** A batch on the wire: its messages as JSON, a chunk's bytes beside it (the JSON holds its index). */
type Wire = string | [string, Uint8Array[]];

/**
 * Messages are sent in batches: the first of a turn of the event loop at once, the others of that
 * turn together at its end. Each postMessage costs the sender a clone and the receiver an event,
 * and a scheduling run sends several per pod (a binding, an Event, their answers, the pod's watch
 * events), mostly in bursts. A batch goes as one JSON string (a string is cloned with one copy; an
 * object's clone walks it, twice the cost for a binding's request), with the chunks of streamed
 * bodies beside it.
 */
function batcher(port: Port): (m: Message) => void {
  /** Set while a turn that already sent one goes on: what else it sends waits for the turn's end. */
  let outbox: unknown[] | undefined;
  let chunks: Uint8Array[] = [];
  const wire = (msgs: unknown[]): Wire => {
    if (!chunks.length) return JSON.stringify(msgs);
    const w: Wire = [JSON.stringify(msgs), chunks];
    chunks = [];
    return w;
  };
  const encoded = (m: Message) => (m.t === "chunk" ? { t: "chunk", id: m.id, c: chunks.push(m.chunk) - 1 } : m);
  const flush = () => {
    const batch = outbox!;
    outbox = undefined;
    if (batch.length) port.postMessage(wire(batch));
  };
  return (m) => {
    if (outbox) {
      outbox.push(encoded(m));
      return;
    }
    // The first at once: a lone request (a preemption's victim, one after the other) waits for no turn.
    port.postMessage(wire([encoded(m)]));
    outbox = [];
    setImmediate(flush);
  };
}

/** Each message of the batches `port` receives, in order. */
function onBatches<M extends Message>(port: Port, each: (m: M) => void): (e: MessageEvent) => void {
  const listener = (e: MessageEvent) => {
    const w = e.data as Wire;
    if (typeof w === "string") {
      for (const m of JSON.parse(w) as M[]) each(m);
      return;
    }
    const [json, chunks] = w;
    for (const m of JSON.parse(json) as (M & { c?: number })[]) {
      if (m.t === "chunk") (m as Extract<Message, { t: "chunk" }>).chunk = chunks[m.c!]!;
      each(m);
    }
  };
  port.addEventListener("message", listener);
  port.start?.();
  return listener;
}

/** Requests whose answer is read as it comes: watches and followed logs. */
const STREAMED = /[?&](watch|follow)=(true|1)(&|$)/;
const BASE = "http://port";

const failure = (name: string, message: string) =>
  name === "AbortError" ? new DOMException(message, "AbortError") : Object.assign(new Error(message), { name });

/** The thread's side: a Transport whose requests go over `port` to the main thread's servePort. */
export function portTransport(port: Port): Transport {
  let nextId = 1;
  const pending = new Map<number, { resolve: (r: Response) => void; reject: (e: Error) => void }>();
  const streams = new Map<number, ReadableStreamDefaultController<Uint8Array>>();
  const send: (m: PortRequest) => void = batcher(port);
  onBatches<PortAnswer>(port, (m) => {
    switch (m.t) {
      case "res": {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (!p) return;
        const init = { status: m.status, statusText: m.statusText, headers: m.headers };
        if (!m.stream) {
          p.resolve(new Response(m.body || null, init));
          return;
        }
        const body = new ReadableStream<Uint8Array>({
          start: (c) => void streams.set(m.id, c),
          cancel: () => {
            if (streams.delete(m.id)) send({ t: "cancel", id: m.id });
          },
        });
        p.resolve(new Response(body, init));
        return;
      }
      case "chunk":
        streams.get(m.id)?.enqueue(m.chunk);
        return;
      case "end": {
        const c = streams.get(m.id);
        streams.delete(m.id);
        if (m.error) c?.error(new Error(m.error));
        else c?.close();
        return;
      }
      case "fail": {
        const p = pending.get(m.id);
        pending.delete(m.id);
        p?.reject(failure(m.name, m.error));
        return;
      }
    }
  });
  return {
    baseUrl: BASE,
    async fetch(req) {
      const signal = req.signal;
      if (signal.aborted) throw failure("AbortError", "The operation was aborted.");
      const id = nextId++;
      const body = req.body ? await req.text() : undefined;
      const msg: PortRequest = {
        t: "req",
        id,
        method: req.method,
        path: req.url.startsWith(BASE) ? req.url.slice(BASE.length) : req.url.slice(new URL(req.url).origin.length),
        headers: [...req.headers],
        ...(body !== undefined ? { body } : {}),
        ...(bodySerializedByClient(req) ? { serialized: true as const } : {}),
      };
      return new Promise<Response>((resolve, reject) => {
        const onAbort = () => {
          // Before the answer: the request fails; after it, the body (if streamed) ends.
          if (pending.delete(id)) reject(failure("AbortError", "The operation was aborted."));
          const c = streams.get(id);
          if (c && streams.delete(id)) c.error(failure("AbortError", "The operation was aborted."));
          send({ t: "cancel", id });
        };
        pending.set(id, {
          resolve: (r) => {
            if (!r.body || !STREAMED.test(msg.path)) signal.removeEventListener("abort", onAbort);
            resolve(r);
          },
          reject: (e) => {
            signal.removeEventListener("abort", onAbort);
            reject(e);
          },
        });
        signal.addEventListener("abort", onAbort, { once: true });
        send(msg);
      });
    },
  };
}

/**
 * The main thread's side: answers the requests arriving on `port` through `transport`. Returns a
 * function that stops serving and ends the streams still open (their watches end on the server).
 */
export function servePort(port: Port, transport: Transport): () => void {
  /** Streamed requests in flight: cancelling one aborts its request and cancels its body. */
  const open = new Map<number, { abort: AbortController; reader?: ReadableStreamDefaultReader<Uint8Array> }>();
  const post: (m: PortAnswer) => void = batcher(port);

  async function answer(m: Extract<PortRequest, { t: "req" }>): Promise<void> {
    const streamed = STREAMED.test(m.path);
    const abort = streamed ? new AbortController() : undefined;
    if (abort) open.set(m.id, { abort });
    let res: Response;
    try {
      const req = new Request(transport.baseUrl + m.path, {
        method: m.method,
        headers: m.headers,
        body: m.body,
        signal: abort?.signal,
      });
      if (m.serialized) markSerializedByClient(req);
      res = await transport.fetch(req);
    } catch (err) {
      open.delete(m.id);
      const e = err as Error;
      post({ t: "fail", id: m.id, name: e?.name ?? "Error", error: e?.message ?? String(err) });
      return;
    }
    const head = { id: m.id, status: res.status, statusText: res.statusText, headers: [...res.headers] as Headers2 };
    const entry = open.get(m.id);
    if (streamed && !entry) {
      // Cancelled while the server was answering.
      await res.body?.cancel().catch(() => {});
      return;
    }
    if (!streamed || !res.body || !entry) {
      open.delete(m.id);
      let body: string;
      try {
        body = await res.text();
      } catch (err) {
        post({ t: "fail", id: m.id, name: "Error", error: (err as Error).message });
        return;
      }
      post({ t: "res", ...head, body });
      return;
    }
    const reader = res.body.getReader();
    entry.reader = reader;
    post({ t: "res", ...head, stream: true });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (!open.has(m.id)) return;
        post({ t: "chunk", id: m.id, chunk: value });
      }
      if (open.has(m.id)) post({ t: "end", id: m.id });
    } catch (err) {
      if (open.has(m.id)) post({ t: "end", id: m.id, error: (err as Error).message });
    } finally {
      open.delete(m.id);
    }
  }

  function cancel(id: number): void {
    const o = open.get(id);
    if (!o) return;
    open.delete(id);
    o.abort.abort();
    o.reader?.cancel().catch(() => {});
  }

  const listener = onBatches<PortRequest>(port, (m) => {
    if (m.t === "req") void answer(m);
    else if (m.t === "cancel") cancel(m.id);
  });
  return () => {
    port.removeEventListener("message", listener);
    for (const id of [...open.keys()]) cancel(id);
  };
}
