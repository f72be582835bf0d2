// TCP forwarding with splice(2) on a relay thread (splice-worker.ts): the bytes go socket -> pipe ->
// socket inside the kernel, without a copy into JavaScript or a turn of this thread's event loop.
// This thread creates the listening socket (so bind errors reach the caller at once), hands it to
// the relay, and picks the endpoints of each accepted connection with the service's balancer.
// Used by tcp.ts where libc() is available (Linux with Bun); elsewhere Bun's sockets relay.
import { type MessagePort as NodePort, receiveMessageOnPort } from "node:worker_threads";
import type { Balancer } from "./balancer.ts";
import {
  AF_INET,
  AF_INET6,
  libc,
  parseSockaddr,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  sockaddr,
} from "./splice-libc.ts";
import type { Listener } from "./tcp.ts";

export type ToWorker =
  | { t: "listen"; lid: number; fd: number }
  | { t: "unlisten"; lid: number }
  | { t: "connect"; cid: number; eps: { ip: string; port: number }[] }
  | { t: "stop" };
export type ToMain =
  | { t: "accepted"; lid: number; cid: number; ip: string }
  | { t: "closed"; cid: number }
  | { t: "unlistened"; lid: number }
  | { t: "stopped" };

/** The relay thread could not start (e.g. a build without its entry point): use Bun's sockets instead. */
export class RelayUnavailable extends Error {}

const ERRNO: Record<number, string> = { 98: "EADDRINUSE", 99: "EADDRNOTAVAIL", 13: "EACCES", 24: "EMFILE" };

/** One relay thread, its wake-up eventfd and its notification pipe; it stops once its last listener is closed. */
class Relay {
  private worker: Worker;
  private port: NodePort;
  private balancers = new Map<number, Balancer>();
  private closing = new Map<number, () => void>();
  /** Set once the thread takes no more listeners. */
  retired = false;
  /** Settles when the thread runs (or cannot start). */
  readonly started: Promise<void>;

  constructor(
    /** eventfd this thread writes to wake the relay; closed here once the relay has stopped. */
    private wake: number,
    /** Pipe the relay writes a byte to after posting messages: [read end (ours), write end (the relay's)]. */
    private notify: [number, number],
    /** Called once the relay takes no more listeners (its thread is stopping). */
    private onRetired: () => void,
  ) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1 as unknown as NodePort;
    // Like a listening Bun socket, the thread keeps the process alive until its last listener is closed.
    this.worker = new Worker(new URL("./splice-worker.ts", import.meta.url).href);
    let running = false;
    this.started = new Promise((resolve, reject) => {
      this.worker.onmessage = () => {
        running = true;
        this.read();
        resolve();
      };
      this.worker.onerror = (e: ErrorEvent) => {
        reject(new RelayUnavailable(`splice relay thread: ${e.message}`));
        // After a start this is a bug in the relay: say so; the process goes on.
        if (running) console.error(`proxy: splice relay thread failed: ${e.message}`);
      };
    });
    this.worker.postMessage({ port: port2, wake, notify: notify[1] }, [port2]);
  }

  /**
   * The relay's messages, read synchronously from the port whenever its pipe has a byte: a message
   * event posted by a thread that then blocks in epoll_wait may wait for an unrelated wake-up here.
   */
  private async read(): Promise<void> {
    const C = libc()!.C;
    try {
      const reader = Bun.file(this.notify[0]).stream().getReader();
      for (;;) {
        const { done } = await reader.read();
        for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port))
          this.receive(m.message as ToMain);
        if (done) break;
      }
    } finally {
      C.close(this.notify[0]); // the relay closed its end (it stopped); Bun does not close what it did not open
    }
  }

  private send(m: ToWorker): void {
    this.port.postMessage(m);
    // Wake the relay out of epoll_wait; it then reads every queued command.
    libc()!.C.write(this.wake, new BigUint64Array([1n]), 8);
  }

  private receive(m: ToMain): void {
    switch (m.t) {
      case "accepted": {
        openConns++;
        const b = this.balancers.get(m.lid);
        this.send({ t: "connect", cid: m.cid, eps: b ? b.pick(m.ip) : [] });
        break;
      }
      case "closed":
        openConns--;
        break;
      case "unlistened":
        this.closing.get(m.lid)?.();
        this.closing.delete(m.lid);
        break;
      case "stopped":
        // The relay no longer reads the eventfd: only now is it closed (its number may be reused after).
        libc()!.C.close(this.wake);
        this.worker.terminate();
        break;
    }
  }

  listen(lid: number, fd: number, balancer: Balancer): void {
    this.balancers.set(lid, balancer);
    this.send({ t: "listen", lid, fd });
  }

  unlisten(lid: number): Promise<void> {
    return new Promise((resolve) => {
      this.closing.set(lid, resolve);
      this.send({ t: "unlisten", lid });
      this.balancers.delete(lid);
      if (this.balancers.size === 0) this.retire();
    });
  }

  /** Stops the thread (it closes what it owns, says "stopped" and closes its end of the pipe). */
  private retire(): void {
    if (this.retired) return;
    this.retired = true;
    this.send({ t: "stop" });
    this.onRetired();
  }

  /** The thread never ran: nothing else will close what was made for it. */
  private abandon(): void {
    this.retired = true;
    this.onRetired();
    this.worker.terminate();
    const C = libc()!.C;
    for (const fd of [this.wake, ...this.notify]) C.close(fd);
  }

  /** The running relay thread, started if there is none. */
  static async get(): Promise<Relay> {
    const L = libc()!;
    for (;;) {
      if (!relay) {
        const pipe = new Int32Array(2);
        if (L.C.pipe2(pipe, SOCK_NONBLOCK | SOCK_CLOEXEC) !== 0)
          throw new RelayUnavailable(`pipe2: errno ${L.errno()}`);
        const wake = L.C.eventfd(0, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (wake < 0) {
          const errno = L.errno();
          for (const fd of pipe) L.C.close(fd);
          throw new RelayUnavailable(`eventfd: errno ${errno}`);
        }
        const r: Relay = new Relay(wake, [pipe[0]!, pipe[1]!], () => {
          if (relay === r) relay = undefined;
        });
        relay = r;
      }
      const r = relay;
      try {
        await r.started;
      } catch (err) {
        if (!r.retired) r.abandon();
        throw err;
      }
      // Its last listener may have closed while this waited: then start another.
      if (!r.retired) return r;
    }
  }
}

let relay: Relay | undefined;
let nextLid = 1;
let openConns = 0;

/** Connections open on relay threads (tests wait for 0). */
export const spliceConnections = (): number => openConns;

/** The error Bun.listen throws for the same failure. */
function listenError(errno: number, host: string): Error {
  return Object.assign(new Error(`Failed to listen at ${host}`), {
    code: ERRNO[errno] ?? `E${errno}`,
    errno,
    syscall: "listen",
  });
}

/** Listens on host:port and relays each connection with splice; rejects as Bun.listen would throw. */
export async function listenSplice(host: string, port: number, balancer: Balancer): Promise<Listener> {
  const L = libc();
  const sa = sockaddr(host, port);
  if (!L || !sa) throw new RelayUnavailable("splice relay unavailable here");
  const r = await Relay.get();
  const { C } = L;
  const fd = C.socket(sa.length === 16 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw listenError(L.errno(), host);
  C.setsockopt(fd, 1 /* SOL_SOCKET */, 2 /* SO_REUSEADDR */, new Int32Array([1]), 4);
  if (C.bind(fd, sa, sa.length) !== 0 || C.listen(fd, 511) !== 0) {
    const code = L.errno();
    C.close(fd);
    throw listenError(code, host);
  }
  C.getsockname(fd, sa, new Int32Array([sa.length]));
  const lid = nextLid++;
  r.listen(lid, fd, balancer);
  let closed: Promise<void> | undefined;
  return {
    port: parseSockaddr(sa).port,
    close: () => {
      closed ??= r.unlisten(lid);
      return closed;
    },
  };
}
