// UDP forwarding: each client address gets its own upstream socket (a session), so replies find
// their way back; sessions end after an idle timeout.
import dgram from "node:dgram";
import type { Balancer } from "./balancer.ts";
import type { Listener } from "./tcp.ts";

export function listenUdp(host: string, port: number, balancer: Balancer, idleMs = 30_000): Promise<Listener> {
  const server = dgram.createSocket("udp4");
  const sessions = new Map<string, { socket: dgram.Socket; last: number }>();
  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const [k, s] of sessions)
        if (now - s.last > idleMs) {
          s.socket.close();
          sessions.delete(k);
        }
    },
    Math.max(100, Math.min(idleMs, 5000)),
  );
  (sweep as { unref?: () => void }).unref?.();
  server.on("message", (msg, rinfo) => {
    const key = `${rinfo.address}:${rinfo.port}`;
    let s = sessions.get(key);
    if (!s) {
      const ep = balancer.pick(rinfo.address)[0];
      if (!ep) return;
      const socket = dgram.createSocket("udp4");
      socket.on("message", (reply) => server.send(reply, rinfo.port, rinfo.address));
      socket.on("error", () => {});
      socket.connect(ep.port, ep.ip);
      s = { socket, last: Date.now() };
      sessions.set(key, s);
      const queued = msg;
      socket.once("connect", () => socket.send(queued));
      return;
    }
    s.last = Date.now();
    s.socket.send(msg);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.bind(port, host, () => {
      server.off("error", reject);
      resolve({
        port: server.address().port,
        close: async () => {
          clearInterval(sweep);
          for (const s of sessions.values()) s.socket.close();
          sessions.clear();
          await new Promise<void>((r) => server.close(() => r()));
        },
      });
    });
  });
}
