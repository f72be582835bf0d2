// Names outside the cluster go to the upstream resolvers (the host's resolv.conf, or
// config.dnsUpstream), over UDP from one socket, with a small cache (TTLs capped at 30 s, as
// k3s's Corefile `cache 30`), identical questions in flight shared, and a bound on how many
// questions may wait for an upstream at once (the rest get SERVFAIL at once). A truncated UDP answer
// (TC bit) is asked again over TCP, as a resolver does (RFC 7766), and the whole answer is kept.
import dnsPacket, { type Answer, type Packet, type Question } from "dns-packet";
import { connect } from "node:net";

export interface Upstream {
  host: string;
  port: number;
}

const MAX_TTL = 30;
const NEGATIVE_TTL = 5;
const MAX_CACHE = 10_000;
const MAX_PENDING = 512;
const TIMEOUT_MS = 2000;

/** "1.1.1.1", "127.0.0.1:5353", "[::1]:53", comma-separated. */
export function parseUpstreams(list: string): Upstream[] {
  return list
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = s.match(/^\[([^\]]+)\](?::(\d+))?$/) ?? s.match(/^([^:]+)(?::(\d+))?$/) ?? s.match(/^([0-9a-fA-F:]+)$/);
      if (!m) throw new Error(`invalid DNS upstream "${s}"`);
      const port = Number(m[2] ?? 53);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid DNS upstream "${s}"`);
      return { host: m[1]!, port };
    });
}

interface Cached {
  response: Packet;
  expires: number;
  stored: number;
}

export class Forwarder {
  private socket: Promise<Bun.udp.Socket<"buffer">>;
  private pending = new Map<
    number,
    { resolve: (p: Packet | undefined) => void; timer: ReturnType<typeof setTimeout> }
  >();
  private inflight = new Map<string, Promise<Packet | undefined>>();
  private cache = new Map<string, Cached>();

  constructor(readonly upstreams: Upstream[]) {
    this.socket = Bun.udpSocket({
      socket: {
        data: (_s, buf) => {
          let p: Packet;
          try {
            p = dnsPacket.decode(buf);
          } catch {
            return;
          }
          const waiting = this.pending.get(p.id ?? -1);
          if (!waiting) return;
          this.pending.delete(p.id!);
          clearTimeout(waiting.timer);
          waiting.resolve(p);
        },
      },
    });
  }

  /** The upstream's answer (records, rcode, flags) to one question, or undefined when none came. */
  async resolve(q: Question): Promise<{ response: Packet; age: number } | undefined> {
    const key = `${q.name.toLowerCase()}|${q.type}|${q.class ?? "IN"}`;
    const hit = this.cache.get(key);
    const now = Date.now();
    if (hit && hit.expires > now) return { response: hit.response, age: Math.floor((now - hit.stored) / 1000) };
    if (hit) this.cache.delete(key);
    let p = this.inflight.get(key);
    if (!p) {
      if (this.pending.size >= MAX_PENDING) return undefined;
      p = this.ask(q).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    const response = await p;
    if (!response) return undefined;
    this.store(key, response);
    return { response, age: 0 };
  }

  private store(key: string, r: Packet): void {
    if (this.cache.has(key)) return;
    const rcode = (r.flags ?? 0) & 15;
    if (rcode !== 0 && rcode !== 3) return; // SERVFAIL, REFUSED...: not kept
    const ttls = [...(r.answers ?? []), ...(r.authorities ?? [])].map((a) => (a as { ttl?: number }).ttl ?? 0);
    const ttl = Math.min(
      MAX_TTL,
      r.answers?.length ? Math.min(...ttls) : ttls.length ? Math.min(...ttls, NEGATIVE_TTL) : NEGATIVE_TTL,
    );
    if (ttl <= 0) return;
    if (this.cache.size >= MAX_CACHE) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { response: r, expires: Date.now() + ttl * 1000, stored: Date.now() });
  }

  private async ask(q: Question): Promise<Packet | undefined> {
    const socket = await this.socket;
    for (const up of this.upstreams) {
      let id = Math.floor(Math.random() * 65536);
      while (this.pending.has(id)) id = (id + 1) & 0xffff;
      const answer = await new Promise<Packet | undefined>((resolve) => {
        const timer = setTimeout(() => {
          this.pending.delete(id);
          resolve(undefined);
        }, TIMEOUT_MS);
        this.pending.set(id, { resolve, timer });
        socket.send(
          dnsPacket.encode({ type: "query", id, flags: dnsPacket.RECURSION_DESIRED, questions: [q] }),
          up.port,
          up.host,
        );
      });
      if (answer && (answer.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE) {
        const full = await askTcp(q, up);
        if (full) return full;
      }
      if (answer) return answer;
    }
    return undefined;
  }

  close(): void {
    for (const w of this.pending.values()) {
      clearTimeout(w.timer);
      w.resolve(undefined);
    }
    this.pending.clear();
    void this.socket.then((s) => s.close());
  }
}

/** One question over TCP (two-byte length prefix); undefined on any failure or after the timeout. */
function askTcp(q: Question, up: Upstream): Promise<Packet | undefined> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const conn = connect({ host: up.host, port: up.port });
    const done = (p: Packet | undefined) => {
      clearTimeout(timer);
      conn.destroy();
      resolve(p);
    };
    const timer = setTimeout(() => done(undefined), TIMEOUT_MS);
    conn.on("error", () => done(undefined));
    conn.on("close", () => done(undefined));
    conn.on("connect", () =>
      conn.write(
        dnsPacket.streamEncode({
          type: "query",
          id: Math.floor(Math.random() * 65536),
          flags: dnsPacket.RECURSION_DESIRED,
          questions: [q],
        }),
      ),
    );
    conn.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      try {
        done(dnsPacket.streamDecode(buf.subarray(0, 2 + buf.readUInt16BE(0))));
      } catch {
        done(undefined);
      }
    });
  });
}

/** Records with their TTLs lowered by the time they spent in the cache. */
export const aged = (records: Answer[] | undefined, age: number): Answer[] =>
  (records ?? []).map((r) =>
    "ttl" in r && r.ttl !== undefined ? ({ ...r, ttl: Math.max(0, r.ttl - age) } as Answer) : r,
  );
