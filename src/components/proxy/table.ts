// The proxy's listeners, kept in step with a desired list of service ports: new ones are
// opened, removed ones closed (freeing the port at once), changed endpoints applied in place
// without touching established connections. Bind failures are reported, never thrown.
import { createBalancer, type Balancer, type Endpoint } from "./balancer.ts";
import { listenTcp, type Listener } from "./tcp.ts";
import { listenUdp } from "./udp.ts";

export interface ServicePortSpec {
  /** ns/name:port/protocol */
  key: string;
  bindAddresses: string[];
  port: number;
  protocol: "TCP" | "UDP";
  affinity: { type: "None" | "ClientIP"; timeoutSeconds?: number };
  mode?: "roundrobin" | "random";
  endpoints: Endpoint[];
}

export interface SyncError {
  key: string;
  address: string;
  error: string;
}

/** What the proxy component drives: the userspace listeners here, or the nftables rules. */
export interface DataPlane {
  /** Applies the desired state; returns what could not be applied (retried on the next sync). */
  sync(specs: ServicePortSpec[], opts?: { bridgeInterface?: string }): Promise<SyncError[]>;
  closeAll(): Promise<void>;
  keys(): string[];
}

interface Entry {
  spec: ServicePortSpec;
  balancer: Balancer;
  listeners: Map<string, Listener>;
}

export class ProxyTable implements DataPlane {
  private entries = new Map<string, Entry>();

  /** Applies the desired state; returns the binds that failed. */
  async sync(specs: ServicePortSpec[]): Promise<SyncError[]> {
    const errors: SyncError[] = [];
    const wanted = new Map(specs.map((s) => [s.key, s]));
    for (const [key, e] of this.entries) {
      const w = wanted.get(key);
      if (
        !w ||
        w.port !== e.spec.port ||
        w.protocol !== e.spec.protocol ||
        w.affinity.type !== e.spec.affinity.type ||
        w.mode !== e.spec.mode
      ) {
        await this.close(key);
      }
    }
    for (const spec of specs) {
      let e = this.entries.get(spec.key);
      if (!e) {
        e = {
          spec,
          balancer: createBalancer(
            spec.mode ?? "roundrobin",
            spec.affinity.type === "ClientIP" ? { timeoutSeconds: spec.affinity.timeoutSeconds ?? 10800 } : undefined,
          ),
          listeners: new Map(),
        };
        this.entries.set(spec.key, e);
      }
      e.spec = spec;
      e.balancer.setEndpoints(spec.endpoints);
      for (const [addr, l] of e.listeners)
        if (!spec.bindAddresses.includes(addr)) {
          await l.close();
          e.listeners.delete(addr);
        }
      for (const addr of spec.bindAddresses) {
        if (e.listeners.has(addr)) continue;
        try {
          const l =
            spec.protocol === "UDP"
              ? await listenUdp(addr, spec.port, e.balancer)
              : await listenTcp(addr, spec.port, e.balancer);
          e.listeners.set(addr, l);
        } catch (err) {
          const denied = (err as NodeJS.ErrnoException).code === "EACCES" && spec.port < 1024;
          const hint = denied ? " (ports below 1024 need root, or a lower net.ipv4.ip_unprivileged_port_start)" : "";
          errors.push({ key: spec.key, address: `${addr}:${spec.port}`, error: (err as Error).message + hint });
        }
      }
    }
    return errors;
  }

  private async close(key: string): Promise<void> {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    await Promise.all([...e.listeners.values()].map((l) => l.close()));
  }

  async closeAll(): Promise<void> {
    for (const key of [...this.entries.keys()]) await this.close(key);
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }
}
