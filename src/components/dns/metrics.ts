// CoreDNS's metrics (plugin/metrics/vars): requests by server, zone, protocol, family and type;
// responses by rcode and the plugin that answered; request duration.
import type { Registry } from "../metrics/hub.ts";
import { CounterVec, exponentialBuckets, HistogramVec } from "../metrics/vec.ts";

// CoreDNS reports these query types by name, any other as "other".
const MONITORED = new Set(
  "A AAAA MX SOA CNAME PTR TXT NS SRV DS DNSKEY RRSIG NSEC NSEC3 HTTPS IXFR AXFR ANY".split(" "),
);
const RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"];

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

  /** One answered query: zone is "cluster.local." for the cluster's names, "." for forwarded ones. */
  record(proto: "udp" | "tcp", zone: string, qtype: string, rcode: number, plugin: string, seconds: number): void {
    const type = MONITORED.has(qtype) ? qtype : "other";
    this.requests.with(this.server, zone, proto, "1", type).inc();
    this.responses.with(this.server, zone, RCODES[rcode] ?? String(rcode), plugin).inc();
    this.duration.with(this.server, zone, type).observe(seconds);
  }
}
