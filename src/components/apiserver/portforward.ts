// pods/{name}/portforward for kubectl 1.31+: SPDY/3.1 tunnelled through a WebSocket. kubectl
// opens an error stream and a data stream per local connection (paired by the requestid
// header); each data stream becomes a WebSocket to the pod's kubelet, which connects to the pod.
// An empty message to the kubelet means "the client finished sending" (TCP half-close).
import type { ServerWebSocket } from "bun";
import { FrameReader, FrameWriter, GOAWAY, PING, RST_STREAM, SYN_STREAM, type Frame } from "../../client/spdy.ts";

export const PORTFORWARD_PROTOCOL = "SPDY/3.1+portforward.k8s.io";

export interface PortForwardData {
  kind: "portforward";
  /** ws://kubelet/portForward/{ns}/{pod} */
  target: string;
  token: string;
  ports: number[];
  session?: PortForwardSession;
}

interface Pair {
  errorStream?: number;
  dataStream?: number;
  upstream?: WebSocket;
  pending: Uint8Array[];
  ended?: boolean;
}

/**
 * One forwarded connection through the pod's kubelet (ws://.../portForward/NS/POD): binary messages
 * are bytes, an empty message half-closes, a close with a reason says why the pod refused.
 */
export function openKubeletPortStream(target: string, token: string, port: number): WebSocket {
  const up = new WebSocket(`${target}?port=${port}`, {
    headers: { authorization: `Bearer ${token}` },
  } as unknown as string[]);
  up.binaryType = "arraybuffer";
  return up;
}

export class PortForwardSession {
  private reader = new FrameReader();
  private writer = new FrameWriter();
  private pairs = new Map<string, Pair>();
  private byStream = new Map<number, Pair>();

  constructor(private ws: ServerWebSocket<PortForwardData>) {}

  /** A malformed frame (or anything thrown handling one) ends this connection only. */
  receive(bytes: Uint8Array): void {
    try {
      for (const f of this.reader.push(bytes)) this.handle(f);
    } catch (err) {
      this.close();
      try {
        this.ws.close(1002, `malformed SPDY frame: ${err instanceof Error ? err.message : String(err)}`.slice(0, 120));
      } catch {}
    }
  }

  close(): void {
    for (const p of this.pairs.values()) p.upstream?.close();
    this.pairs.clear();
    this.byStream.clear();
  }

  private send(frame: Uint8Array): void {
    if (this.ws.readyState === 1) this.ws.send(frame);
  }

  private handle(f: Frame): void {
    if (f.kind === "data") {
      const pair = this.byStream.get(f.streamId);
      if (!pair || f.streamId !== pair.dataStream) return; // the error stream carries nothing from the client
      if (f.data.length) this.toUpstream(pair, f.data.slice());
      if (f.fin) this.toUpstream(pair, new Uint8Array(0));
      return;
    }
    if (f.type === PING) return this.send(this.writer.control(PING, 0, f.payload));
    if (f.type === GOAWAY) return this.ws.close(1000);
    if (f.type === RST_STREAM) {
      const pair = this.byStream.get(Buffer.from(f.payload).readUInt32BE(0) & 0x7fffffff);
      pair?.upstream?.close();
      return;
    }
    if (f.type !== SYN_STREAM) return;
    const streamId = Buffer.from(f.payload).readUInt32BE(0) & 0x7fffffff;
    const h = f.headers ?? {};
    const port = Number(h.port);
    const key = h.requestid ?? `port-${h.port}`;
    if (
      !Number.isInteger(port) ||
      port < 1 ||
      port > 65535 ||
      (this.ws.data.ports.length && !this.ws.data.ports.includes(port))
    ) {
      this.send(this.writer.rstStream(streamId, 1));
      return;
    }
    let pair = this.pairs.get(key);
    if (!pair) this.pairs.set(key, (pair = { pending: [] }));
    this.byStream.set(streamId, pair);
    this.send(this.writer.synReply(streamId));
    if (h.streamtype === "error") pair.errorStream = streamId;
    else if (h.streamtype === "data") {
      pair.dataStream = streamId;
      this.connect(key, pair, port);
    }
  }

  private connect(key: string, pair: Pair, port: number): void {
    const up = openKubeletPortStream(this.ws.data.target, this.ws.data.token, port);
    pair.upstream = up;
    up.onopen = () => {
      for (const m of pair.pending) up.send(m);
      pair.pending = [];
    };
    up.onmessage = (ev) =>
      pair.dataStream !== undefined &&
      this.send(this.writer.data(pair.dataStream, new Uint8Array(ev.data as ArrayBuffer)));
    up.onclose = (ev) => {
      // An error (the pod refused, say) goes on the error stream; closing both ends the connection for kubectl.
      if (ev.code !== 1000 && ev.reason && pair.errorStream !== undefined)
        this.send(this.writer.data(pair.errorStream, new TextEncoder().encode(ev.reason)));
      if (pair.dataStream !== undefined) this.send(this.writer.data(pair.dataStream, new Uint8Array(0), true));
      if (pair.errorStream !== undefined) this.send(this.writer.data(pair.errorStream, new Uint8Array(0), true));
      this.pairs.delete(key);
      for (const id of [pair.dataStream, pair.errorStream]) if (id !== undefined) this.byStream.delete(id);
    };
  }

  private toUpstream(pair: Pair, bytes: Uint8Array): void {
    if (pair.upstream?.readyState === WebSocket.OPEN) pair.upstream.send(bytes);
    else pair.pending.push(bytes);
  }
}
