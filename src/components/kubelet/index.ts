// The kubelet component: with the engine runtime, one node (this machine) whose pods run as
// real containers; with the sim runtime, N hollow nodes sharing one pod watch. A small HTTP
// server per process serves logs and exec for the API server's pods/log and pods/exec.
import type { Pod } from "../../api/kinds/pod.ts";
import { Informer, type InformerView, keyOf } from "../../client/index.ts";
import { clientOf, type Component, type ComponentContext } from "../types.ts";
import { Kubelet } from "./kubelet.ts";
import { createRuntime, RuntimeUnavailableError, SimRuntime, type ContainerRuntime } from "./runtime/index.ts";
import { startKubeletServer } from "./server.ts";
import { KubeletAuthorizer } from "./auth.ts";
import { containerNetworkAddress } from "../node-address.ts";
import { readResolvConf } from "../../util/resolv-conf.ts";
import { existsSync } from "node:fs";
import { nodeKey } from "../../util/kubelet-auth.ts";
import { KubeletMetrics } from "./metrics.ts";
import { shareEventCache } from "../events.ts";
import { startListers } from "./listers.ts";

export class KubeletError extends Error {
  override name = "KubeletError";
}

/**
 * The host resolv.conf pods with dnsPolicy Default get (the kubelet's --resolv-conf): when
 * /etc/resolv.conf names only loopback resolvers (systemd-resolved's stub), which a pod cannot
 * reach, systemd-resolved's own list of upstreams, as kubeadm configures.
 */
function hostResolvConf(): string {
  const stub = readResolvConf("/etc/resolv.conf").nameservers;
  if (stub.length && stub.every((n) => n.startsWith("127.")) && existsSync("/run/systemd/resolve/resolv.conf"))
    return "/run/systemd/resolve/resolv.conf";
  return "/etc/resolv.conf";
}

export const kubeletComponent: Component = {
  name: "kubelet",
  async start(ctx: ComponentContext) {
    const log = (m: string) => ctx.log("kubelet", m);
    const kubelets = new Map<string, Kubelet>();
    const runtimes = new Map<string, ContainerRuntime>();
    if (ctx.runtime === "engine") {
      try {
        const engine = await createRuntime({
          runtime: "engine",
          containerSocket: ctx.containerSocket,
          env: process.env,
        });
        runtimes.set(ctx.nodeName, ctx.wrapRuntime ? ctx.wrapRuntime(engine) : engine);
      } catch (err) {
        if (err instanceof RuntimeUnavailableError) throw new KubeletError(err.message);
        throw err;
      }
    } else {
      for (let i = 0; i < ctx.simNodes; i++)
        runtimes.set(
          ctx.simNodes === 1 ? ctx.nodeName : `${ctx.nodeName}-sim-${i}`,
          new SimRuntime({ subnet: i % 256 }),
        );
    }
    // Other callers are checked with the first node's identity (system:node may create Token/SubjectAccessReviews).
    const authorizer = new KubeletAuthorizer(
      clientOf(ctx, `system:node:${[...runtimes.keys()][0] ?? ctx.nodeName}`, ["system:nodes"]),
      () => [...runtimes.keys()],
    );
    // Each node's own registries, served by the kubelet endpoint (not the API server's /metrics).
    const metrics = new Map<string, KubeletMetrics>();
    if (ctx.metrics) for (const [name, runtime] of runtimes) metrics.set(name, new KubeletMetrics(name, runtime));
    const server = await startKubeletServer({
      runtimes: () => runtimes.entries(),
      log,
      keyOf: ctx.kubeletKeyOf ?? (ctx.kubeletKey ? (node) => nodeKey(ctx.kubeletKey!, node) : undefined),
      authorizer,
      metrics: (node) => metrics.get(node),
      // Other machines' API servers call it at the node's address.
      hostname: ctx.nodeIp,
    });
    // Every kubelet may read services (system:node): the first node's identity watches them for all.
    const listers = await startListers(
      clientOf(ctx, `system:node:${[...runtimes.keys()][0] ?? ctx.nodeName}`, ["system:nodes"]),
      ctx.informers,
    );
    for (const [name, runtime] of runtimes) {
      const k = new Kubelet({
        listers,
        client: clientOf(ctx, `system:node:${name}`, ["system:nodes"]),
        runtime,
        nodeName: name,
        nodeIP: ctx.nodeIp ?? "127.0.0.1",
        podCidr: !!ctx.config.clusterCidr,
        dataDir: ctx.dataDir,
        kubeletPort: server.port,
        // Looked up when a container is created: the bridge exists only while containers use it.
        serviceHost: ctx.runtime === "engine" ? () => containerNetworkAddress(name) : undefined,
        serviceAccounts: ctx.runtime === "engine" ? { ca: ctx.clusterCa } : undefined,
        dns:
          ctx.runtime === "engine"
            ? {
                domain: ctx.config.clusterDomain,
                resolvConf: hostResolvConf(),
              }
            : undefined,
        log,
        pollMs: ctx.runtime === "engine" ? 1000 : 0,
        podStarted: metrics.get(name)?.podStarted,
        leaseEveryMs: ctx.runtime === "sim" ? 10_000 + Math.floor(Math.random() * 10_000) : 10_000,
      });
      kubelets.set(name, k);
    }
    // Hollow nodes: one event cache for all of them, bounded as one kubelet's (see shareEventCache).
    if (kubelets.size > 1) shareEventCache([...kubelets.values()].map((k) => k.opts.client));
    await Promise.all([...kubelets.values()].map((k) => k.register()));
    // One watch for all of this process's nodes: by node name for a single node, all pods for hollow nodes.
    const single = kubelets.size === 1 ? [...kubelets.keys()][0] : undefined;
    // Every kubelet may read pods (system:node): the first node's identity watches for them all. Hollow nodes
    // in kube up share the process's pod informer with the controllers: one watch and one cache of every pod.
    const pods: InformerView<Pod> =
      !single && ctx.informers
        ? ctx.informers.informer<Pod>("pods")
        : new Informer<Pod>(
            clientOf(ctx, `system:node:${[...kubelets.keys()][0] ?? ctx.nodeName}`, ["system:nodes"]).resource<Pod>(
              "pods",
            ),
            { stripManagedFields: true, ...(single ? { fieldSelector: `spec.nodeName=${single}` } : {}) },
          );
    const route = (p: Pod) => (p.spec?.nodeName ? kubelets.get(p.spec.nodeName) : undefined);
    pods.on({
      add: (p) => route(p)?.podChanged(p),
      update: (_, p) => route(p)?.podChanged(p),
      delete: (p) => route(p)?.podDeleted(p),
    });
    pods.start();
    await pods.waitForSync();
    if (ctx.runtime === "engine")
      for (const k of kubelets.values()) await k.removeOrphans().catch((e) => log(`orphans: ${e.message}`));
    return {
      async stop() {
        pods.stop();
        await Promise.all([...kubelets.values()].map((k) => k.stop(ctx.config.cleanOnExit)));
        listers.stop();
        await server.stop();
      },
    };
  },
};

export { keyOf };
