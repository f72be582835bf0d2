// CoreDNS's metrics (plugin/metrics/vars): requests by server, zone, protocol, family and type;
// responses by rcode and the plugin that answered; request duration.
import type { Registry } from "../metrics/hub.ts";
import { CounterVec, exponentialBuckets, HistogramVec } from "../metrics/vec.ts";

// CoreDNS reports these query types by name, any other as "other".
const MONITORED = new Set(
  "A AAAA MX SOA CNAME PTR TXT NS SRV DS DNSKEY RRSIG NSEC NSEC3 HTTPS IXFR AXFR ANY".split(" "),
);
const RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"];
/** The monitored types' numbers, for answers served from the wire cache without decoding. */
const TYPE_NAMES = new Map<number, string>([
  [1, "A"],
  [2, "NS"],
  [5, "CNAME"],
  [6, "SOA"],
  [12, "PTR"],
  [15, "MX"],
  [16, "TXT"],
  [28, "AAAA"],
  [33, "SRV"],
  [43, "DS"],
  [46, "RRSIG"],
  [47, "NSEC"],
  [48, "DNSKEY"],
  [50, "NSEC3"],
  [65, "HTTPS"],
  [251, "IXFR"],
  [252, "AXFR"],
  [255, "ANY"],
]);

export class DnsMetrics {
  private readonly requests: CounterVec;
  private readonly responses: CounterVec;
  private readonly duration: HistogramVec;
  /** The server label: CoreDNS's "dns://:53" for this server's address. */
  server = "dns://:53";

  constructor(registry: Registry) {
    this.requests = new CounterVec(
      "coredns_dns_requests_total",
      "Counter of DNS requests made per zone, protocol and family.",
      ["server", "zone", "proto", "family", "type"],
      registry,
    );
    this.responses = new CounterVec(
      "coredns_dns_responses_total",
      "Counter of response status codes.",
      ["server", "zone", "rcode", "plugin"],
      registry,
    );
    this.duration = new HistogramVec(
      "coredns_dns_request_duration_seconds",
      "Histogram of the time (in seconds) each request took per zone.",
      ["server", "zone", "type"],
      exponentialBuckets(0.00025, 2, 16),
      registry,
    );
  }

  /** A UDP query answered from the encoded-answer cache (the cluster zone): type and rcode read from the bytes. */
  recordCached(zone: string, query: Buffer, answer: Buffer, seconds: number): void {
    let i = 12;
    while (i < query.length && query[i] !== 0) i += query[i]! + 1;
    const qtype = i + 2 < query.length ? query.readUInt16BE(i + 1) : 0;
    this.record("udp", zone, TYPE_NAMES.get(qtype) ?? "other", answer[3]! & 15, "kubernetes", seconds);
  }

  /** One answered query: zone is "cluster.local." for the cluster's names, "." for forwarded ones. */
  record(proto: "udp" | "tcp", zone: string, qtype: string, rcode: number, plugin: string, seconds: number): void {
    const type = MONITORED.has(qtype) ? qtype : "other";
    this.requests.with(this.server, zone, proto, "1", type).inc();
    this.responses.with(this.server, zone, RCODES[rcode] ?? String(rcode), plugin).inc();
    this.duration.with(this.server, zone, type).observe(seconds);
  }
}
