// TCP forwarding for one service port on one address: each accepted connection goes to the
// balancer's first endpoint, or the next when one refuses; bytes flow both ways with
// back-pressure (node:net pipes). Endpoint changes affect new connections only.
import net from "node:net";
import type { Balancer } from "./balancer.ts";

export interface Listener {
  close(): Promise<void>;
  port: number;
}

export function listenTcp(host: string, port: number, balancer: Balancer): Promise<Listener> {
  const open = new Set<net.Socket>();
  const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, (client) => {
    open.add(client);
    client.on("close", () => open.delete(client));
    client.on("error", () => client.destroy());
    const candidates = balancer.pick(client.remoteAddress ?? "");
    const attempt = (i: number) => {
      const ep = candidates[i];
      if (!ep) return client.destroy();
      const upstream = net.connect({ host: ep.ip, port: ep.port, allowHalfOpen: true });
      upstream.setNoDelay(true);
      let connected = false;
      upstream.once("connect", () => {
        connected = true;
        open.add(upstream);
        upstream.on("close", () => open.delete(upstream));
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
      upstream.on("error", () => {
        if (!connected) attempt(i + 1);
        else client.destroy();
      });
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => connected && client.end());
    };
    client.setNoDelay(true);
    attempt(0);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port }, () => {
      server.off("error", reject);
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise<void>((r) => {
            for (const s of open) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}
