// The proxy component: watches Services and Endpoints and makes every service port answer on its
// cluster IP, from the host and from pods (the range is made local to this machine first, see
// local-range.ts), and for NodePort services on 127.0.0.1:nodePort. Cluster IPs in 127.0.0.0/8
// (the non-root range) cannot be reached from a pod's network namespace: those ports also answer
// on the node's container bridge address, where <NAME>_SERVICE_HOST points. Two data planes (config.proxyMode):
// "nftables" DNATs in the kernel (root only, what kube-proxy does), "userspace" listens on those
// addresses and copies bytes (no root needed); "auto", the default, takes nftables when it can.
import { isLoopbackIp } from "../../api/cidr.ts";
import type { KubeObject } from "../../api/types.ts";
import type { Endpoints } from "../../api/kinds/core.ts";
import type { Service } from "../../api/kinds/service.ts";
import { Informer, keyOf } from "../../client/index.ts";
import { bridgesPresent, containerNetwork } from "../node-address.ts";
import { DNS_NAMESPACE, DNS_SERVICE } from "../../api/well-known.ts";
import { clientOf, type Component, type ComponentContext } from "../types.ts";
import { exponentialBuckets, GaugeVec, HistogramVec } from "../metrics/vec.ts";
import type { Endpoint } from "./balancer.ts";
import { claimLocalRange } from "./local-range.ts";
import { LoadBalancers, type LbPort } from "./loadbalancer.ts";
import { NftTable } from "./nftables.ts";
import { ProxyTable, type DataPlane, type ServicePortSpec } from "./table.ts";

/** Endpoints of the kube-dns Service's ports (dns UDP, dns-tcp TCP) at this host's DNS server. */
function localDnsEndpoints(port: number): Endpoints {
  return {
    subsets: [
      {
        addresses: [{ ip: "127.0.0.1" }],
        ports: [
          { name: "dns", port, protocol: "UDP" },
          { name: "dns-tcp", port, protocol: "TCP" },
        ],
      },
    ],
  } as Endpoints;
}

export function serviceSpecs(
  services: Service[],
  endpoints: (key: string) => Endpoints | undefined,
  opts: { bridge?: string; mode?: "roundrobin" | "random"; loadBalancers?: Map<string, string | undefined> },
): ServicePortSpec[] {
  const out: ServicePortSpec[] = [];
  for (const s of services) {
    const spec = s.spec ?? {};
    if (spec.type === "ExternalName" || !spec.clusterIP || spec.clusterIP === "None") continue;
    const ep = endpoints(keyOf(s));
    for (const p of spec.ports ?? []) {
      const protocol = (p.protocol ?? "TCP") === "UDP" ? "UDP" : "TCP";
      const eps: Endpoint[] = [];
      for (const subset of ep?.subsets ?? []) {
        const port = (subset.ports ?? []).find(
          (x) => (x.name ?? "") === (p.name ?? "") && (x.protocol ?? "TCP") === protocol,
        );
        if (!port) continue;
        for (const a of subset.addresses ?? []) eps.push({ ip: a.ip, port: port.port });
      }
      const base = {
        protocol,
        affinity: {
          type: spec.sessionAffinity === "ClientIP" ? "ClientIP" : "None",
          timeoutSeconds: spec.sessionAffinityConfig?.clientIP?.timeoutSeconds,
        },
        mode: opts.mode,
        endpoints: eps,
      } as const;
      const key = `${keyOf(s)}:${p.port}/${protocol}`;
      const viaBridge = isLoopbackIp(spec.clusterIP) && opts.bridge ? [opts.bridge] : [];
      out.push({ ...base, key, port: p.port, bindAddresses: [spec.clusterIP, ...viaBridge] });
      if (p.nodePort && (spec.type === "NodePort" || spec.type === "LoadBalancer"))
        out.push({
          ...base,
          key: `${key}:node`,
          port: p.nodePort,
          bindAddresses: ["127.0.0.1", ...(opts.bridge ? [opts.bridge] : [])],
        });
      const lb = spec.type === "LoadBalancer" ? opts.loadBalancers?.get(keyOf(s)) : undefined;
      if (lb) out.push({ ...base, key: `${key}:lb`, port: p.port, bindAddresses: [lb] });
    }
  }
  return out;
}

/** The data plane config.proxyMode asks for; "auto" falls back to userspace, saying why. */
export async function chooseDataPlane(mode: unknown, log: (message: string) => void): Promise<DataPlane> {
  if (mode !== undefined && mode !== "auto" && mode !== "nftables" && mode !== "userspace")
    throw new Error(`proxy mode must be auto, nftables or userspace, got "${mode}"`);
  if (mode === "userspace") return new ProxyTable();
  try {
    const table = await NftTable.create();
    log(`nftables data plane (table ip ${table.name})`);
    return table;
  } catch (e) {
    if (mode === "nftables") throw new Error(`cannot use the nftables data plane: ${(e as Error).message}`);
    log(`userspace data plane (nftables unavailable: ${(e as Error).message})`);
    return new ProxyTable();
  }
}

export const proxyComponent: Component = {
  name: "proxy",
  async start(ctx: ComponentContext) {
    const client = clientOf(ctx, "system:kube-proxy");
    // LoadBalancer addresses are written as upstream's service controller (system:controller:service-controller).
    const lbWriter = clientOf(ctx, "system:serviceaccount:kube-system:service-controller", [
      "system:serviceaccounts",
      "system:serviceaccounts:kube-system",
    ]);
    // Before any rule exists: from here on no packet to the range can leave the machine.
    const releaseRange = ctx.config.serviceCidr ? await claimLocalRange(ctx.config.serviceCidr) : async () => {};
    const services = new Informer<Service>(client.resource<Service>("services"));
    const endpoints = new Informer<Endpoints>(client.resource<Endpoints>("endpoints"));
    // Setting up the data plane (spawning nft) overlaps the informers' first listing.
    const plane = chooseDataPlane(ctx.config.proxyMode, (m) => ctx.log("proxy", m));
    // The bridge comes and goes with the containers on it: looked up at every sync.
    const bridgeNow = () => (ctx.runtime === "engine" ? containerNetwork(ctx.nodeName) : undefined);
    // This node's pods ask this node's DNS server (node-local DNS): the kube-dns Service goes there.
    const endpointsOf = (k: string) => {
      const port = ctx.localDns?.port;
      return k === `${DNS_NAMESPACE}/${DNS_SERVICE}` && port ? localDnsEndpoints(port) : endpoints.get(k);
    };
    let bridge = bridgeNow();
    const mode = ctx.config.proxyBalance;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let syncing = Promise.resolve();
    const reported = new Set<string>();
    let balancers: LoadBalancers | undefined;
    // kube-proxy's sync latency (pkg/proxy/metrics), one observation per rules sync.
    const registry = ctx.metrics?.registry();
    const syncDuration =
      registry &&
      new HistogramVec(
        "kubeproxy_sync_proxy_rules_duration_seconds",
        "SyncProxyRules latency in seconds",
        [],
        exponentialBuckets(0.001, 2, 15),
        registry,
      ).with();
    const lastSync =
      registry &&
      new GaugeVec(
        "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
        "The last time proxy rules were successfully synced",
        [],
        registry,
      ).with();
    /** Claims each LoadBalancer service's address and keeps status.loadBalancer in step. */
    const loadBalancers = async (): Promise<Map<string, string | undefined>> => {
      const wanted = new Map<string, { ports: LbPort[]; current?: string }>();
      const all = services.list();
      for (const s of all) {
        if (s.spec?.type !== "LoadBalancer" || !s.spec.clusterIP || s.spec.clusterIP === "None") continue;
        const ports = (s.spec.ports ?? []).map((p) => ({
          port: p.port,
          protocol: (p.protocol === "UDP" ? "UDP" : "TCP") as LbPort["protocol"],
        }));
        wanted.set(keyOf(s), { ports, current: s.status?.loadBalancer?.ingress?.[0]?.ip });
      }
      const got = await balancers!.sync(wanted);
      for (const s of all) {
        const want = got.get(keyOf(s));
        const have = s.status?.loadBalancer?.ingress?.map((i) => i.ip).join(",") ?? "";
        if ((want ?? "") === have) continue;
        const status = { loadBalancer: want ? { ingress: [{ ip: want, ipMode: "VIP" }] } : {} };
        await lbWriter
          .resource("services", s.metadata!.namespace)
          .patch(s.metadata!.name!, { status }, "merge", { subresource: "status" })
          .catch((e: Error) => ctx.log("proxy", `status of ${keyOf(s)}: ${e.message}`));
      }
      return got;
    };
    const schedule = () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        syncing = syncing
          .then(async () => {
            const t0 = performance.now();
            bridge = bridgeNow();
            const table = await plane;
            balancers ??= new LoadBalancers(!(table instanceof ProxyTable));
            const lbs = await loadBalancers();
            const errors = await table.sync(
              serviceSpecs(services.list(), endpointsOf, {
                bridge: bridge?.address,
                mode,
                loadBalancers: lbs,
              }),
              { bridgeInterface: bridge?.name },
            );
            syncDuration?.observe((performance.now() - t0) / 1000);
            lastSync?.set(Date.now() / 1000);
            if (errors.length === 0) reported.clear();
            for (const e of errors) {
              const line = `${e.key} on ${e.address}: ${e.error}`;
              if (!reported.has(line)) ctx.log("proxy", `cannot serve ${line}`);
              reported.add(line);
            }
          })
          .catch(() => {}); // only when the data plane could not be set up, which start reports
      }, 5);
    };
    for (const inf of [services, endpoints] as Informer<KubeObject>[])
      inf.on({ add: schedule, update: schedule, delete: schedule });
    services.start();
    endpoints.start();
    try {
      await Promise.all([plane, services.waitForSync(), endpoints.waitForSync()]);
    } catch (e) {
      services.stop();
      endpoints.stop();
      await releaseRange();
      throw e;
    }
    const table = await plane;
    schedule();
    // A bind that failed (the port still held by a listener being closed) is retried, and a bridge that
    // appeared, went or changed its address is synced for. Its address is read (every interface's, more
    // with each pod) when the bridges present changed, while one has no address yet, or every 30 s.
    let present = ctx.runtime === "engine" ? bridgesPresent(ctx.nodeName) : "";
    let ticks = 0;
    const retry = setInterval(() => {
      const now = ctx.runtime === "engine" ? bridgesPresent(ctx.nodeName) : "";
      const look = now !== present || (now !== "" && !bridge) || ++ticks % 30 === 0;
      present = now;
      if (reported.size || (look && bridge?.address !== bridgeNow()?.address)) schedule();
    }, 1000);
    return {
      async stop() {
        clearInterval(retry);
        services.stop();
        endpoints.stop();
        clearTimeout(timer);
        await syncing;
        await table.closeAll();
        balancers?.closeAll();
        await releaseRange();
        if (registry) ctx.metrics?.remove(registry);
      },
    };
  },
};
