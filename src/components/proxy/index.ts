// The proxy component: watches Services and Endpoints and keeps one listener per service port
// on its cluster IP (in 127.0.0.0/8 by default, so no root is needed), on the node's container
// bridge address (how pods reach services), and for NodePort services on 127.0.0.1:nodePort.
import type { KubeObject } from "../../api/types.ts";
import { Informer, keyOf } from "../../client/index.ts";
import { containerNetworkAddress } from "../node-address.ts";
import type { Component, ComponentContext } from "../types.ts";
import type { Endpoint } from "./balancer.ts";
import { ProxyTable, type ServicePortSpec } from "./table.ts";

type Svc = KubeObject & { spec?: { type?: string; clusterIP?: string; sessionAffinity?: string; sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } }; ports?: { name?: string; port: number; nodePort?: number; protocol?: string }[] } };
type Ep = KubeObject & { subsets?: { addresses?: { ip: string }[]; ports?: { name?: string; port: number; protocol?: string }[] }[] };

export function serviceSpecs(services: Svc[], endpoints: (key: string) => Ep | undefined, opts: { bridge?: string; mode?: "roundrobin" | "random" }): ServicePortSpec[] {
  const out: ServicePortSpec[] = [];
  for (const s of services) {
    const spec = s.spec ?? {};
    if (spec.type === "ExternalName" || !spec.clusterIP || spec.clusterIP === "None") continue;
    const ep = endpoints(keyOf(s));
    for (const p of spec.ports ?? []) {
      const protocol = (p.protocol ?? "TCP") === "UDP" ? "UDP" : "TCP";
      const eps: Endpoint[] = [];
      for (const subset of ep?.subsets ?? []) {
        const port = (subset.ports ?? []).find((x) => (x.name ?? "") === (p.name ?? "") && (x.protocol ?? "TCP") === protocol);
        if (!port) continue;
        for (const a of subset.addresses ?? []) eps.push({ ip: a.ip, port: port.port });
      }
      const base = { protocol, affinity: { type: spec.sessionAffinity === "ClientIP" ? "ClientIP" : "None", timeoutSeconds: spec.sessionAffinityConfig?.clientIP?.timeoutSeconds }, mode: opts.mode, endpoints: eps } as const;
      const key = `${keyOf(s)}:${p.port}/${protocol}`;
      out.push({ ...base, key, port: p.port, bindAddresses: [spec.clusterIP, ...(opts.bridge ? [opts.bridge] : [])] });
      if (p.nodePort && (spec.type === "NodePort" || spec.type === "LoadBalancer"))
        out.push({ ...base, key: `${key}:node`, port: p.nodePort, bindAddresses: ["127.0.0.1", ...(opts.bridge ? [opts.bridge] : [])] });
    }
  }
  return out;
}

export const proxyComponent: Component = {
  name: "proxy",
  async start(ctx: ComponentContext) {
    const services = new Informer<Svc>(ctx.client.resource<Svc>("services"));
    const endpoints = new Informer<Ep>(ctx.client.resource<Ep>("endpoints"));
    const table = new ProxyTable();
    // The bridge comes and goes with the containers on it: looked up at every sync.
    const bridgeNow = () => (ctx.runtime === "engine" ? containerNetworkAddress() : undefined);
    let bridge = bridgeNow();
    const mode = ctx.settings.proxyMode === "random" ? "random" : "roundrobin";
    let timer: ReturnType<typeof setTimeout> | undefined;
    let syncing = Promise.resolve();
    const reported = new Set<string>();
    const schedule = () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        syncing = syncing.then(async () => {
          bridge = bridgeNow();
          const errors = await table.sync(serviceSpecs(services.list(), (k) => endpoints.get(k), { bridge, mode }));
          if (errors.length === 0) reported.clear();
          for (const e of errors) {
            const line = `${e.key} on ${e.address}: ${e.error}`;
            if (!reported.has(line)) ctx.log("proxy", `cannot listen for ${line}`);
            reported.add(line);
          }
        });
      }, 5);
    };
    for (const inf of [services, endpoints] as Informer<KubeObject>[]) inf.on({ add: schedule, update: schedule, delete: schedule });
    services.start();
    endpoints.start();
    await Promise.all([services.waitForSync(), endpoints.waitForSync()]);
    schedule();
    // A bind that failed (the port still held by a listener being closed) is retried.
    const retry = setInterval(() => (reported.size || bridge !== bridgeNow()) && schedule(), 1000);
    return {
      async stop() {
        clearInterval(retry);
        services.stop();
        endpoints.stop();
        clearTimeout(timer);
        await syncing;
        await table.closeAll();
      },
    };
  },
};
