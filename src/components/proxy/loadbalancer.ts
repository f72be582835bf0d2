// LoadBalancer addresses, like k3s's ServiceLB but on this host: each LoadBalancer service gets a
// loopback address where all of its ports are free (127.0.0.1 first, then 127.0.0.2, ...), put in
// status.loadBalancer.ingress. The ports are claimed by holding sockets bound there, so another
// cluster or program on this machine sees them taken (kube-proxy held NodePorts the same way); with
// the userspace plane the listeners themselves are the claim, and these sockets are let go at once.
import dgram from "node:dgram";
import net from "node:net";

export interface LbPort {
  port: number;
  protocol: "TCP" | "UDP";
}

const portKeys = (ports: LbPort[]) => ports.map((p) => `${p.port}/${p.protocol}`);

interface Claim {
  ip: string;
  ports: string[];
  sockets: { close(): void }[];
}

const CANDIDATES = ["127.0.0.1", ...Array.from({ length: 253 }, (_, i) => `127.0.0.${i + 2}`)];

function hold(ip: string, p: LbPort): Promise<{ close(): void }> {
  return new Promise((resolve, reject) => {
    if (p.protocol === "UDP") {
      const s = dgram.createSocket("udp4");
      s.once("error", reject);
      s.bind(p.port, ip, () => resolve({ close: () => s.close() }));
    } else {
      const s = net.createServer((c) => c.destroy());
      s.once("error", reject);
      s.listen({ host: ip, port: p.port, exclusive: true }, () => resolve({ close: () => s.close() }));
    }
  });
}

async function holdAll(ip: string, ports: LbPort[]): Promise<{ close(): void }[] | undefined> {
  const held: { close(): void }[] = [];
  for (const p of ports) {
    try {
      held.push(await hold(ip, p));
    } catch {
      for (const h of held) h.close();
      return undefined;
    }
  }
  return held;
}

export class LoadBalancers {
  private claims = new Map<string, Claim>();

  /** keepSockets: hold the ports (nftables plane); else let go at once for the userspace listeners. */
  constructor(private readonly keepSockets: boolean) {}

  /**
   * The address of each LoadBalancer service (key -> ports wanted, and the address its status
   * has, tried first). Services gone from `wanted` lose their claim.
   */
  async sync(wanted: Map<string, { ports: LbPort[]; current?: string }>): Promise<Map<string, string | undefined>> {
    for (const [key, c] of this.claims)
      if (!wanted.has(key) || portKeys(wanted.get(key)!.ports).join(",") !== c.ports.join(",")) this.release(key);
    const out = new Map<string, string | undefined>();
    for (const [key, w] of wanted) {
      const have = this.claims.get(key);
      if (have) {
        out.set(key, have.ip);
        continue;
      }
      // Our own claims clash first (userspace listeners are bound only after this sync).
      const clash = (ip: string) =>
        [...this.claims.values()].some((c) => c.ip === ip && portKeys(w.ports).some((k) => c.ports.includes(k)));
      const order =
        w.current && CANDIDATES.includes(w.current)
          ? [w.current, ...CANDIDATES.filter((c) => c !== w.current)]
          : CANDIDATES;
      let claimed: Claim | undefined;
      for (const ip of order) {
        if (clash(ip)) continue;
        const sockets = await holdAll(ip, w.ports);
        if (!sockets) continue;
        if (!this.keepSockets) for (const s of sockets) s.close();
        claimed = { ip, ports: portKeys(w.ports), sockets: this.keepSockets ? sockets : [] };
        break;
      }
      if (claimed) this.claims.set(key, claimed);
      out.set(key, claimed?.ip);
    }
    return out;
  }

  private release(key: string): void {
    for (const s of this.claims.get(key)?.sockets ?? []) s.close();
    this.claims.delete(key);
  }

  closeAll(): void {
    for (const key of [...this.claims.keys()]) this.release(key);
  }
}
