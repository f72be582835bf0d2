// The DNS server: UDP and TCP on one port. Cluster names are answered from the zone at once
// (authoritative); anything else goes to the forwarder. Malformed packets are dropped; a token
// bucket bounds how many queries a second are looked at (the rest are dropped before decoding),
// so a flood costs little CPU and the rest of the process keeps working. Authoritative UDP answers
// are kept encoded, keyed by the query's bytes after its ID, until the zone changes: a repeated
// question (the common case: every pod asks the same few names) is answered without decoding.
import dnsPacket, { type Answer, type Packet } from "dns-packet";
import net from "node:net";
import { aged, type Forwarder } from "./forward.ts";
import type { ClusterZone } from "./records.ts";
import type { DnsMetrics } from "./metrics.ts";

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const MAX_TCP_CONNECTIONS = 128;
const TCP_IDLE_MS = 10_000;
const BIND_ATTEMPTS = 20;

export interface DnsServerOptions {
  host: string;
  /** 0 for any free port (UDP and TCP get the same one). */
  port: number;
  zone: () => ClusterZone;
  forwarder?: Forwarder;
  /** Queries per second looked at (default 50000); bursts up to a tenth of that. */
  maxQps?: number;
  /** CoreDNS's request and response counters, when metrics are on. */
  metrics?: DnsMetrics;
}

export interface DnsServer {
  port: number;
  /** Queries dropped: malformed, or over the rate. */
  dropped(): number;
  close(): Promise<void>;
}

function bucket(rate: number): () => boolean {
  const burst = Math.max(100, rate / 10);
  let tokens = burst;
  let last = performance.now();
  return () => {
    const now = performance.now();
    tokens = Math.min(burst, tokens + ((now - last) * rate) / 1000);
    last = now;
    if (tokens < 1) return false;
    tokens--;
    return true;
  };
}

const ANSWER_CACHE_MAX = 10_000;

/** Encoded authoritative answers by query bytes (ID excluded), valid for one zone generation. */
export class AnswerCache {
  private generation = Number.NaN;
  private answers = new Map<string, Buffer>();

  /** The answer with `buf`'s ID, when this exact query was answered from this zone generation. */
  get(zone: ClusterZone, buf: Buffer): Buffer | undefined {
    if (zone.generation !== this.generation) {
      this.generation = zone.generation;
      this.answers.clear();
      return undefined;
    }
    const hit = this.answers.get(buf.toString("latin1", 2));
    if (!hit) return undefined;
    const out = Buffer.from(hit);
    out[0] = buf[0]!;
    out[1] = buf[1]!;
    return out;
  }

  set(zone: ClusterZone, buf: Buffer, answer: Buffer): void {
    if (zone.generation !== this.generation) return;
    if (this.answers.size >= ANSWER_CACHE_MAX) this.answers.clear();
    this.answers.set(buf.toString("latin1", 2), answer);
  }
}

/**
 * The answer to a UDP query: from `cache` when this exact question was answered from the current
 * zone, else handleQuery's (authoritative ones kept in the cache).
 */
export function handleUdpQuery(
  buf: Buffer,
  opts: Pick<DnsServerOptions, "zone" | "forwarder" | "metrics">,
  cache: AnswerCache,
): Buffer | undefined | Promise<Buffer | undefined> {
  if (buf.length < 12) return undefined;
  const start = opts.metrics && performance.now();
  const zone = opts.zone();
  const hit = cache.get(zone, buf);
  if (hit) {
    if (start !== undefined)
      opts.metrics!.recordCached(`${zone.domain}.`, buf, hit, (performance.now() - start) / 1000);
    return hit;
  }
  return handleQuery(buf, opts, 512, (out) => cache.set(zone, buf, out));
}

/** The answer to one query packet, or undefined to drop it (malformed, or not a query). */
export async function handleQuery(
  buf: Buffer,
  opts: Pick<DnsServerOptions, "zone" | "forwarder" | "metrics">,
  udpLimit?: number,
  /** Called with an authoritative answer (one that depends on the zone only). */
  authoritative?: (out: Buffer) => void,
): Promise<Buffer | undefined> {
  const start = performance.now();
  let zoneLabel = ".";
  let plugin = "";
  let query: Packet;
  try {
    query = dnsPacket.decode(buf);
  } catch {
    return undefined;
  }
  if (query.type !== "query" || query.id === undefined) return undefined;
  const rd = (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
  const reply = (rcode: number, rest: Partial<Packet> = {}, aa = false): Packet => ({
    type: "response",
    id: query.id,
    flags: rd | dnsPacket.RECURSION_AVAILABLE | (aa ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | rcode,
    questions: query.questions,
    ...rest,
  });
  const opcode = ((query.flags ?? 0) >> 11) & 15;
  const q = query.questions?.[0];
  let response: Packet;
  let fromZone = false;
  if (opcode !== 0) response = reply(RCODE.NOTIMP);
  else if (!q || query.questions!.length !== 1) response = reply(RCODE.FORMERR);
  else {
    const name = q.name.toLowerCase().replace(/\.$/, "");
    const zone = opts.zone();
    if (zone.owns(name) && (q.class ?? "IN") === "IN") {
      zoneLabel = `${zone.domain}.`;
      plugin = "kubernetes";
      const a = zone.answer(name, q.type);
      fromZone = true;
      response = reply(
        RCODE[a.rcode],
        { answers: a.answers, authorities: a.authorities, additionals: a.additionals },
        true,
      );
    } else if (!opts.forwarder) response = reply(RCODE.REFUSED);
    else {
      plugin = "forward";
      const got = await opts.forwarder.resolve(q);
      if (!got) response = reply(RCODE.SERVFAIL);
      else {
        const r = got.response;
        const additionals = (r.additionals ?? []).filter((x: Answer) => x.type !== "OPT");
        response = reply((r.flags ?? 0) & 15, {
          answers: aged(r.answers, got.age),
          authorities: aged(r.authorities, got.age),
          additionals: aged(additionals, got.age),
        });
        response.flags! |= (r.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE;
      }
    }
  }
  opts.metrics?.record(
    udpLimit === undefined ? "tcp" : "udp",
    zoneLabel,
    q?.type ?? "other",
    (response.flags ?? 0) & 15,
    plugin,
    (performance.now() - start) / 1000,
  );
  let out = dnsPacket.encode(response);
  if (udpLimit !== undefined) {
    const opt = query.additionals?.find((x) => x.type === "OPT") as { udpPayloadSize?: number } | undefined;
    const limit = Math.min(4096, Math.max(udpLimit, opt?.udpPayloadSize ?? 0));
    if (out.length > limit)
      out = dnsPacket.encode({
        ...response,
        flags: response.flags! | dnsPacket.TRUNCATED_RESPONSE,
        answers: [],
        authorities: [],
        additionals: [],
      });
  }
  if (fromZone) authoritative?.(out);
  return out;
}

export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  const allow = bucket(opts.maxQps ?? 50_000);
  const cache = new AnswerCache();
  let dropped = 0;
  const connections = new Set<net.Socket>();
  const tcp = net.createServer((conn) => {
    if (connections.size >= MAX_TCP_CONNECTIONS) return conn.destroy();
    connections.add(conn);
    conn.setTimeout(TCP_IDLE_MS, () => conn.destroy());
    conn.on("close", () => connections.delete(conn));
    conn.on("error", () => conn.destroy());
    let pending = Buffer.alloc(0);
    conn.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      // Messages are framed by a two-byte length (RFC 1035 4.2.2).
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const msg = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + msg.length);
        if (!allow()) {
          dropped++;
          continue;
        }
        handleQuery(Buffer.from(msg), opts).then(
          (out) => {
            if (!out) return conn.destroy(); // malformed: the stream cannot be trusted any more
            const len = Buffer.alloc(2);
            len.writeUInt16BE(out.length);
            if (!conn.destroyed) conn.write(Buffer.concat([len, out]));
          },
          () => conn.destroy(),
        );
      }
    });
  });
  const udpSocket = () =>
    Bun.udpSocket({
      hostname: opts.host,
      port: opts.port,
      socket: {
        data(socket, buf, port, address) {
          if (!allow()) return void dropped++;
          const done = (out: Buffer | undefined) => (out ? socket.send(out, port, address) : dropped++);
          const out = handleUdpQuery(buf, opts, cache);
          if (out instanceof Promise) out.then(done, () => dropped++);
          else done(out);
        },
      },
    });
  const udp = await bindBoth(udpSocket, tcp, opts);
  return {
    port: udp.port,
    dropped: () => dropped,
    async close() {
      udp.close();
      for (const c of connections) c.destroy();
      await new Promise<void>((r) => tcp.close(() => r()));
    },
  };
}

/** Port 0 gives a free UDP port that TCP may already hold: another free one is tried then. */
async function bindBoth(
  udpSocket: () => Promise<Bun.udp.Socket<"buffer">>,
  tcp: net.Server,
  opts: DnsServerOptions,
): Promise<Bun.udp.Socket<"buffer">> {
  for (let attempt = 1; ; attempt++) {
    const udp = await udpSocket();
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once("error", reject);
        tcp.listen({ host: opts.host, port: udp.port }, () => {
          tcp.off("error", reject);
          resolve();
        });
      });
      return udp;
    } catch (e) {
      udp.close();
      const inUse = (e as NodeJS.ErrnoException).code === "EADDRINUSE";
      if (opts.port !== 0 || !inUse || attempt >= BIND_ATTEMPTS) throw e;
    }
  }
}
