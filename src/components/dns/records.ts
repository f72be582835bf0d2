// The cluster's DNS records, built from Services and Endpoints as the Kubernetes DNS specification
// (github.com/kubernetes/dns docs/specification.md, schema 1.1.0) says; where it is silent this
// follows CoreDNS's kubernetes plugin: TTL 5, SRV priority 0 weight 100, headless endpoints
// without a hostname named by their dashed IP, `pods insecure` A records, an SOA in the authority
// section of negative answers, and names under the zone that exist only as parents answer NODATA.
import type { Answer, SoaAnswer, SrvData } from "dns-packet";
import type { Endpoints } from "../../api/kinds/core.ts";
import type { Service } from "../../api/kinds/service.ts";

export const TTL = 5;

interface Node {
  a: string[];
  cname?: string;
  srv: SrvData[];
  ptr: string[];
  txt?: string;
}

export interface ZoneAnswer {
  rcode: "NOERROR" | "NXDOMAIN";
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
}

const reverse = (ip: string) => `${ip.split(".").reverse().join(".")}.in-addr.arpa`;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const validIp = (ip: string) => IPV4.test(ip) && ip.split(".").every((p) => Number(p) <= 255);

export class ClusterZone {
  private names = new Map<string, Node>();
  /** Parents of record names inside the zone: they exist, with no records (NODATA). */
  private parents = new Set<string>();
  readonly domain: string;
  private serial = Math.floor(Date.now() / 1000);
  /** Changes at every rebuild: answers computed before are stale. */
  get generation(): number {
    return this.serial;
  }

  constructor(domain = "cluster.local") {
    this.domain = domain.toLowerCase().replace(/\.$/, "");
    this.clear();
  }

  private clear(): void {
    this.names.clear();
    this.parents.clear();
    this.node(`dns-version.${this.domain}`).txt = "1.1.0";
  }

  private node(name: string): Node {
    let n = this.names.get(name);
    if (!n) {
      n = { a: [], srv: [], ptr: [] };
      this.names.set(name, n);
      // Every parent up to the zone exists; reverse names are not in our zone.
      if (name.endsWith(this.domain))
        for (let p = name; p.length > this.domain.length; ) this.parents.add((p = p.slice(p.indexOf(".") + 1)));
    }
    return n;
  }

  /** Rebuilds every record from the current Services and their Endpoints (keyed ns/name). */
  rebuild(services: Service[], endpoints: (key: string) => Endpoints | undefined): void {
    this.clear();
    this.serial++;
    for (const s of services) {
      const name = s.metadata?.name?.toLowerCase();
      const ns = s.metadata?.namespace?.toLowerCase();
      if (!name || !ns) continue;
      const base = `${name}.${ns}.svc.${this.domain}`;
      const spec = s.spec ?? {};
      if (spec.type === "ExternalName") {
        if (spec.externalName) this.node(base).cname = spec.externalName.toLowerCase().replace(/\.$/, "");
        continue;
      }
      if (spec.clusterIP && spec.clusterIP !== "None") {
        if (!validIp(spec.clusterIP)) continue;
        this.node(base).a.push(spec.clusterIP);
        this.node(reverse(spec.clusterIP)).ptr.push(base);
        for (const p of spec.ports ?? []) {
          if (p.name)
            this.node(`_${p.name.toLowerCase()}._${(p.protocol ?? "TCP").toLowerCase()}.${base}`).srv.push({
              priority: 0,
              weight: 100,
              port: p.port,
              target: base,
            });
        }
        continue;
      }
      // Headless: the ready endpoints (and the others when the service publishes them).
      this.node(base);
      const ep = endpoints(`${s.metadata!.namespace}/${s.metadata!.name}`);
      for (const subset of ep?.subsets ?? []) {
        const addresses = [
          ...(subset.addresses ?? []),
          ...(spec.publishNotReadyAddresses ? (subset.notReadyAddresses ?? []) : []),
        ];
        for (const a of addresses) {
          if (!validIp(a.ip)) continue;
          if (!this.node(base).a.includes(a.ip)) this.node(base).a.push(a.ip);
          const host = `${a.hostname ? a.hostname.toLowerCase() : a.ip.replace(/\./g, "-")}.${base}`;
          this.node(host).a.push(a.ip);
          if (a.hostname) this.node(reverse(a.ip)).ptr.push(host);
          for (const p of subset.ports ?? []) {
            if (p.name)
              this.node(`_${p.name.toLowerCase()}._${(p.protocol ?? "TCP").toLowerCase()}.${base}`).srv.push({
                priority: 0,
                weight: 100,
                port: p.port,
                target: host,
              });
          }
        }
      }
    }
  }

  /** Every name with an address, as a hosts file would list it. */
  hostEntries(): [ip: string, name: string][] {
    const out: [string, string][] = [];
    for (const [name, n] of this.names) for (const ip of n.a) out.push([ip, name]);
    return out;
  }

  /** Whether `name` (lower case, no final dot) is this zone's to answer. */
  owns(name: string): boolean {
    return name === this.domain || name.endsWith(`.${this.domain}`) || this.names.has(name);
  }

  private soa(): SoaAnswer {
    const d = this.domain;
    return {
      type: "SOA",
      name: d,
      ttl: TTL,
      class: "IN",
      data: {
        mname: `ns.dns.${d}`,
        rname: `hostmaster.${d}`,
        serial: this.serial >>> 0,
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        minimum: TTL,
      },
    };
  }

  /** The answer for a question about a name this zone owns (see owns). */
  answer(rawName: string, type: string): ZoneAnswer {
    const name = rawName.toLowerCase().replace(/\.$/, "");
    const out: ZoneAnswer = { rcode: "NOERROR", answers: [], authorities: [], additionals: [] };
    const rr = (r: { type: string; name: string; data: unknown }) => ({ ...r, ttl: TTL, class: "IN" }) as Answer;
    const node = this.names.get(name) ?? this.podNode(name);
    if (!node) {
      if (name === this.domain || this.parents.has(name)) {
        if (name === this.domain && type === "SOA") out.answers.push(this.soa());
        else if (name === this.domain && type === "NS")
          out.answers.push(rr({ type: "NS", name, data: `ns.dns.${this.domain}` }));
        else out.authorities.push(this.soa());
        return out;
      }
      out.rcode = "NXDOMAIN";
      out.authorities.push(this.soa());
      return out;
    }
    const any = type === "ANY";
    if (node.cname && type !== "CNAME" && !any) {
      out.answers.push(rr({ type: "CNAME", name, data: node.cname }));
      return out;
    }
    if (node.cname) out.answers.push(rr({ type: "CNAME", name, data: node.cname }));
    if (type === "A" || any) for (const ip of node.a) out.answers.push(rr({ type: "A", name, data: ip }));
    if (type === "SRV" || any) {
      for (const srv of node.srv) {
        out.answers.push(rr({ type: "SRV", name, data: srv }));
        for (const ip of this.names.get(srv.target)?.a ?? [])
          out.additionals.push(rr({ type: "A", name: srv.target, data: ip }));
      }
    }
    if (type === "PTR" || any) for (const p of node.ptr) out.answers.push(rr({ type: "PTR", name, data: p }));
    if ((type === "TXT" || any) && node.txt) out.answers.push(rr({ type: "TXT", name, data: node.txt }));
    if (out.answers.length === 0) out.authorities.push(this.soa());
    return out;
  }

  /** `a-b-c-d.<ns>.pod.<domain>`: any well-formed dashed IPv4 (CoreDNS's `pods insecure`). */
  private podNode(name: string): Node | undefined {
    const m = name.match(/^(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})\.[a-z0-9]([-a-z0-9]*[a-z0-9])?\.pod\.(.+)$/);
    if (!m || m[6] !== this.domain) return undefined;
    const ip = m.slice(1, 5).join(".");
    return validIp(ip) ? { a: [ip], srv: [], ptr: [] } : undefined;
  }
}
