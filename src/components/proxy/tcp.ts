// TCP forwarding for one service port on one address: each accepted connection goes to the
// balancer's first endpoint, or the next when one refuses; bytes flow both ways with
// back-pressure. Endpoint changes affect new connections only.
// Bun's own sockets, not node:net streams: each chunk read is written to the other socket at once
// in the same callback (no stream machinery, no extra copy); only what the kernel does not take is
// kept, and the sending side is paused until the `drain` of the receiving one.
import type { Socket, TCPSocketListener } from "bun";
import type { Balancer } from "./balancer.ts";
import { listenSplice, RelayUnavailable } from "./splice.ts";
import { libc, sockaddr } from "./splice-libc.ts";

export interface Listener {
  close(): Promise<void>;
  port: number;
}

/** What each socket keeps: its peer, and what is still waiting to be written to it. */
interface Side {
  peer?: Socket<Side>;
  /** Bytes for this socket that it has not taken yet (its peer is paused meanwhile). */
  pending: Uint8Array[];
  /** The peer sent its last byte: shut this socket's sending side once pending is written. */
  ending: boolean;
  /** This socket's sending side is shut (FIN sent). */
  shut: boolean;
  /** This socket sent its last byte (FIN received). */
  ended: boolean;
  closed: boolean;
  /** The peer's socket failed (reset, error): close this socket too once pending is written. */
  abort: boolean;
  /** This socket failed (Bun reported an error for it). */
  failed: boolean;
  /** Read from the client before its upstream connected. */
  early: Uint8Array[];
}

const side = (): Side => ({
  pending: [],
  ending: false,
  shut: false,
  ended: false,
  closed: false,
  abort: false,
  failed: false,
  early: [],
});

/** Writes what the socket takes; keeps (copies) the rest and pauses the sender until the socket drains. */
function send(to: Socket<Side>, chunk: Uint8Array, from: Socket<Side>): void {
  const d = to.data;
  if (d.closed) return;
  if (d.pending.length === 0) {
    const n = to.write(chunk);
    if (n >= chunk.length) return;
    chunk = chunk.subarray(Math.max(n, 0));
  }
  // The chunk may be a view of a buffer the runtime reuses: what waits is copied.
  d.pending.push(chunk.slice());
  from.pause();
}

/** Shuts the socket's sending side; once both directions are over, the socket is closed. */
function shut(s: Socket<Side>): void {
  if (s.data.shut || s.data.closed) return;
  s.data.shut = true;
  // Nobody would read what this socket still sends (its peer is gone): close it, do not half-close it.
  if (s.data.abort) s.terminate();
  else if (s.data.ended) s.end();
  else s.shutdown();
}

/** The socket can take more: writes what waits for it, then lets its peer send again. */
function flush(s: Socket<Side>): void {
  const d = s.data;
  while (d.pending.length) {
    const chunk = d.pending[0]!;
    const n = s.write(chunk);
    if (n < chunk.length) {
      d.pending[0] = chunk.subarray(Math.max(n, 0));
      return;
    }
    d.pending.shift();
  }
  if (d.ending) shut(s);
  else if (d.peer && !d.peer.data.closed) d.peer.resume();
}

/** The peer will send nothing more: shut this socket's sending side once what waits for it is written. */
function endTowards(s: Socket<Side> | undefined): void {
  if (!s || s.data.closed) return;
  s.data.ending = true;
  if (s.data.pending.length === 0) shut(s);
}

const relay = {
  data(s: Socket<Side>, chunk: Uint8Array) {
    const peer = s.data.peer;
    if (!peer) s.data.early.push(chunk.slice());
    // The peer is gone, so these bytes can go nowhere: reset the sender, as the kernel answers data for a closed socket.
    else if (peer.data.closed) s.terminate();
    else send(peer, chunk, s);
  },
  drain: flush,
  end(s: Socket<Side>) {
    s.data.ended = true;
    if (s.data.peer) endTowards(s.data.peer);
    if (s.data.shut) s.end();
  },
  close(s: Socket<Side>, error?: Error) {
    s.data.closed = true;
    const peer = s.data.peer;
    if (!peer || peer.data.closed) return;
    // Nothing more is relayed from the peer either: it is closed once what the closed side sent is written.
    if (error || s.data.failed) peer.data.abort = true;
    peer.data.ended = true;
    endTowards(peer);
    // A peer paused for back-pressure would never notice (Bun does not always report a reset as an error):
    // let it read, so that what it still sends resets it (data above) and its FIN closes it.
    if (!peer.data.closed) peer.resume();
  },
  error(s: Socket<Side>) {
    s.data.failed = true;
  },
};

/** The upstream is connected: what the client sent meanwhile goes first, then bytes flow both ways. */
function join(client: Socket<Side>, upstream: Socket<Side>): void {
  upstream.data.peer = client;
  client.data.peer = upstream;
  for (const chunk of client.data.early) send(upstream, chunk, client);
  client.data.early = [];
  if (client.data.ended) endTowards(upstream);
  if (upstream.data.pending.length === 0) client.resume();
}

/** Forwards host:port: with splice(2) on the relay thread where it is available, else with Bun's sockets. */
export function listenTcp(host: string, port: number, balancer: Balancer): Promise<Listener> {
  if (!libc() || !sockaddr(host, port) || spliceFailed) return listenBun(host, port, balancer);
  return listenSplice(host, port, balancer).catch((err) => {
    if (!(err instanceof RelayUnavailable)) throw err;
    // Said once: the fallback works, at about four times the CPU per byte.
    console.error(`proxy: ${err.message}; relaying with Bun sockets`);
    spliceFailed = true;
    return listenBun(host, port, balancer);
  });
}
let spliceFailed = false;

export function listenBun(host: string, port: number, balancer: Balancer): Promise<Listener> {
  const open = new Set<Socket<Side>>();
  const connect = (client: Socket<Side>, candidates: { ip: string; port: number }[], i: number) => {
    const ep = candidates[i];
    if (!ep || client.data.closed) return client.terminate();
    let connected = false;
    Bun.connect<Side>({
      hostname: ep.ip,
      port: ep.port,
      allowHalfOpen: true,
      data: side(),
      socket: {
        ...relay,
        open(upstream) {
          connected = true;
          if (client.data.closed) return upstream.terminate();
          upstream.setNoDelay(true);
          open.add(upstream);
          join(client, upstream);
        },
        close(upstream, error) {
          open.delete(upstream);
          relay.close(upstream, error);
        },
        connectError() {
          if (!connected) connect(client, candidates, i + 1);
        },
      },
    }).catch(() => {});
  };
  let server: TCPSocketListener<Side>;
  try {
    server = Bun.listen<Side>({
      hostname: host,
      port,
      allowHalfOpen: true,
      socket: {
        ...relay,
        open(client) {
          client.data = side();
          client.pause();
          client.setNoDelay(true);
          open.add(client);
          connect(client, balancer.pick(client.remoteAddress ?? ""), 0);
        },
        close(client, error) {
          open.delete(client);
          relay.close(client, error);
        },
      },
    });
  } catch (err) {
    return Promise.reject(err);
  }
  return Promise.resolve({
    port: server.port,
    close: async () => {
      server.stop(true);
      for (const s of open) s.terminate();
    },
  });
}
