// The cluster DNS component (what CoreDNS is in k3s): answers the cluster domain from Services and
// Endpoints, forwards other names upstream, and is published as Service kube-system/kube-dns on
// the range's tenth address, port 53 UDP and TCP. The server itself listens on 127.0.0.1 (a free
// port); the kube-dns Endpoints point there, and the proxy's DNAT (or userspace listener) carries
// pods' queries to it, as for the API server's `kubernetes` service.
import { dnsServiceIp, ipToInt, intToIp } from "../../api/cidr.ts";
import { DNS_NAMESPACE, DNS_SERVICE } from "../../api/well-known.ts";
import { ignore, Informer, isInvalid, isNotFound, type Client } from "../../client/index.ts";
import { clientOf, type Component, type ComponentContext } from "../types.ts";
import { readResolvConf } from "../../util/resolv-conf.ts";
import { Forwarder, parseUpstreams, type Upstream } from "./forward.ts";
import { startHostDns } from "./host-dns.ts";
import type { Endpoints } from "../../api/kinds/core.ts";
import type { Service } from "../../api/kinds/service.ts";
import { ClusterZone } from "./records.ts";
import { startDnsServer, type DnsServer } from "./server.ts";
import { DnsMetrics } from "./metrics.ts";

/** Where other names go: config.dnsUpstream, else the host's resolv.conf nameservers. */
export function upstreamsFrom(setting: string | undefined, resolvConf = "/etc/resolv.conf"): Upstream[] {
  if (setting) return parseUpstreams(setting);
  return readResolvConf(resolvConf).nameservers.map((host) => ({ host, port: 53 }));
}

/**
 * The kube-dns Service (on the wanted address when it is free) and, with a `port`, its Endpoints to
 * it. Without one (`kube up --server-only`, where no DNS runs) only the Service: pods' resolv.conf
 * names it, and each node's proxy sends it to that node's own DNS server.
 */
export async function publishDns(client: Client, clusterIP: string | undefined, port?: number): Promise<void> {
  const services = client.resource("services", DNS_NAMESPACE);
  const labels = { "k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "KubeDNS" };
  const ports = [
    { name: "dns", port: 53, protocol: "UDP", targetPort: 53 },
    { name: "dns-tcp", port: 53, protocol: "TCP", targetPort: 53 },
  ];
  const existing = await services.get(DNS_SERVICE).catch(ignore(isNotFound));
  if (!existing) {
    const svc = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: DNS_SERVICE, namespace: DNS_NAMESPACE, labels },
      spec: { ports, ...(clusterIP ? { clusterIP } : {}) },
    };
    // The address may already be someone's: then any address will do (pods are told the real one).
    await services
      .create(svc)
      .catch(async (e) =>
        clusterIP && isInvalid(e) ? services.create({ ...svc, spec: { ports } }) : Promise.reject(e),
      );
  }
  if (port === undefined) return;
  await client.resource("endpoints", DNS_NAMESPACE).patch(
    DNS_SERVICE,
    {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name: DNS_SERVICE, namespace: DNS_NAMESPACE, labels },
      subsets: [
        {
          addresses: [{ ip: "127.0.0.1" }],
          ports: [
            { name: "dns", port, protocol: "UDP" },
            { name: "dns-tcp", port, protocol: "TCP" },
          ],
        },
      ],
    },
    "apply",
    { fieldManager: "kube-dns", force: true },
  );
}

/** The DNS address: the tenth of config.serviceCidr, or counted from the kubernetes service's (the first). */
function wantedIp(ctx: ComponentContext, services: Informer<Service>): string | undefined {
  if (ctx.config.serviceCidr) return dnsServiceIp(ctx.config.serviceCidr);
  const k = services.get("default/kubernetes");
  const n = ipToInt(k?.spec?.clusterIP ?? "");
  return n === undefined ? undefined : intToIp(n + 9);
}

export const dnsComponent: Component = {
  name: "dns",
  async start(ctx: ComponentContext) {
    const domain = ctx.config.clusterDomain;
    const upstreams = upstreamsFrom(ctx.config.dnsUpstream);
    // As CoreDNS's service account, bound to upstream's system:kube-dns (list/watch services and
    // endpoints) and to system::kube-dns-publisher for its own Service and Endpoints.
    const client = clientOf(ctx, `system:serviceaccount:${DNS_NAMESPACE}:kube-dns`, [
      "system:serviceaccounts",
      `system:serviceaccounts:${DNS_NAMESPACE}`,
    ]);
    const services = new Informer<Service>(client.resource<Service>("services"));
    const endpoints = new Informer<Endpoints>(client.resource<Endpoints>("endpoints"));
    const zone = new ClusterZone(domain);
    let dirty = true;
    // Rebuilt on the first query after a change: answers follow Services and Endpoints at once.
    const current = () => {
      if (dirty) {
        dirty = false;
        zone.rebuild(services.list(), (k) => endpoints.get(k));
      }
      return zone;
    };
    const listeners: (() => void)[] = [];
    const changed = () => {
      dirty = true;
      for (const l of listeners) l();
    };
    for (const inf of [services, endpoints] as Informer<Service>[])
      inf.on({ add: changed, update: changed, delete: changed });
    services.start();
    endpoints.start();
    const forwarder = new Forwarder(upstreams);
    let server: DnsServer | undefined;
    let hostDns: { stop(): Promise<void> } | undefined;
    const registry = ctx.metrics?.registry();
    const metrics = registry && new DnsMetrics(registry);
    try {
      await Promise.all([services.waitForSync(), endpoints.waitForSync()]);
      server = await startDnsServer({ host: "127.0.0.1", port: 0, zone: current, forwarder, metrics });
      if (metrics) metrics.server = `dns://127.0.0.1:${server.port}`;
      if (ctx.localDns) ctx.localDns.port = server.port;
      // A joined node publishes nothing (it may not, and the Service is the servers'): it serves its own pods.
      if (!ctx.agent) await publishDns(client, wantedIp(ctx, services), server.port);
      ctx.log(
        "dns",
        `serving ${domain} on 127.0.0.1:${server.port} (Service ${DNS_NAMESPACE}/${DNS_SERVICE}); other names go to ${upstreams.map((u) => `${u.host}:${u.port}`).join(", ") || "nowhere (no upstream)"}`,
      );
      if (ctx.config.hostDns) {
        hostDns = await startHostDns({
          domain,
          port: server.port,
          zone: current,
          onChange: (f) => listeners.push(f),
          dataDir: ctx.dataDir,
        });
        ctx.log("dns", `host DNS: ${hostDns.toString()}`);
      }
    } catch (e) {
      services.stop();
      endpoints.stop();
      forwarder.close();
      await server?.close();
      if (registry) ctx.metrics?.remove(registry);
      throw e;
    }
    const running = server;
    return {
      async stop() {
        await hostDns?.stop();
        services.stop();
        endpoints.stop();
        forwarder.close();
        if (ctx.localDns) ctx.localDns.port = undefined;
        await running.close();
        if (registry) ctx.metrics?.remove(registry);
      },
    };
  },
};
