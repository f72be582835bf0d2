// The kubelet's end of port-forward: one WebSocket per forwarded connection, bridged to a TCP
// connection to the pod's address and port. Binary messages are bytes; an empty message from the
// API server means its client finished sending (half-close). A refused connection closes the
// WebSocket with the reason, which kubectl shows.
import net from "node:net";
import type { ServerWebSocket } from "bun";
import { LABELS, type ContainerRuntime } from "./runtime/index.ts";

export interface PortForwardConn {
  kind: "portforward";
  ip: string;
  port: number;
  pod: string;
  socket?: net.Socket;
  early: Uint8Array[];
}

/** The pod's IP on this node, or undefined when it has no running sandbox here. */
export async function podAddress(
  runtimes: Iterable<[string, ContainerRuntime]>,
  ns: string,
  pod: string,
): Promise<string | undefined> {
  for (const [node, runtime] of runtimes) {
    const list = await runtime.listContainers(
      { [LABELS.podName]: pod, [LABELS.podNamespace]: ns, [LABELS.node]: node },
      { detail: true },
    );
    const ip = list.find((c) => c.state === "running" && c.ip)?.ip;
    if (ip) return ip;
  }
  return undefined;
}

export const portForwardHandlers = {
  open(ws: ServerWebSocket<PortForwardConn>) {
    const d = ws.data;
    const socket = net.connect({ host: d.ip, port: d.port, allowHalfOpen: true });
    d.socket = socket;
    socket.setNoDelay(true);
    socket.once("connect", () => {
      for (const m of d.early) m.length ? socket.write(m) : socket.end();
      d.early = [];
    });
    socket.on("data", (chunk: Buffer) => ws.send(chunk));
    socket.on("end", () => ws.close(1000));
    socket.on("error", (err) =>
      ws.close(1011, `error forwarding port ${d.port} to pod ${d.pod}: ${err.message}`.slice(0, 120)),
    );
  },
  message(ws: ServerWebSocket<PortForwardConn>, message: string | Buffer) {
    const bytes = typeof message === "string" ? new TextEncoder().encode(message) : new Uint8Array(message);
    const s = ws.data.socket;
    if (s && !s.connecting) bytes.length ? s.write(bytes) : s.end();
    else ws.data.early.push(bytes.slice());
  },
  close(ws: ServerWebSocket<PortForwardConn>) {
    ws.data.socket?.destroy();
  },
};
