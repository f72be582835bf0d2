// The one way tests start a cluster in their own process: the real API server and store (see
// api.ts), then either every component of `kube up` (scheduler, controllers, DNS, kubelet on real
// Podman or on hollow nodes, proxy, ingress), each acting as its own user, or with runtime "none"
// only the controllers, for controller tests that play the scheduler and kubelet themselves.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createClient,
  inProcessTransport,
  SharedInformerFactory,
  type Client,
  type Clock,
} from "../../src/client/index.ts";
import { clusterComponents } from "../../src/cli/components.ts";
import { CONTROLLERS, startControllers } from "../../src/components/controllers/index.ts";
import type { ComponentContext, RunningComponent } from "../../src/components/types.ts";
import { clusterConfig, type ClusterConfig } from "../../src/components/config.ts";
import { testServiceCidr } from "../../bench/lib/kube-up.ts";
import type { ApiServerOptions } from "../../src/components/apiserver/index.ts";
import { ensureEngine } from "./engine.ts";
import { startTestApi, TEST_TOKEN, testTls, type TestApi } from "./api.ts";

/** Tests never let the cluster DNS forward to the machine's resolvers: nothing answers here (discard port). */
export const NO_UPSTREAM = "127.0.0.1:9";

export interface TestCluster {
  api: TestApi;
  client: Client;
  nodeName: string;
  serviceCidr: string;
  close(): Promise<void>;
}

export interface ClusterOptions {
  /** The kubelet's runtime; "none" starts no node components, only the controllers. */
  runtime: "engine" | "sim" | "none";
  /** Hollow nodes, with runtime "sim". */
  simNodes?: number;
  serviceCidr?: string;
  /** Configuration on top of the defaults (config.ts) and of this helper's own. */
  config?: Partial<ClusterConfig>;
  /** The controllers' clock (a FakeClock from ./clock.ts to step time on); real time by default. */
  clock?: Clock;
  /** With runtime "none": the controllers to run (all by default), acting as the admin. */
  controllers?: typeof CONTROLLERS;
  /** More API server options (e.g. token lifetimes). */
  api?: Partial<ApiServerOptions>;
}

export async function startCluster(opts: ClusterOptions = { runtime: "engine" }): Promise<TestCluster> {
  if (opts.runtime === "engine") await ensureEngine();
  const serviceCidr = opts.serviceCidr ?? testServiceCidr();
  const api = await startTestApi({
    ...opts.api,
    // Controller-only clusters keep the API server's default service range (nothing routes to it).
    ...(opts.runtime === "none" && !opts.serviceCidr
      ? {}
      : { serviceRanges: { clusterIpCidr: serviceCidr, nodePortMin: 30000, nodePortMax: 32767 } }),
  });
  const client = createClient(inProcessTransport(api.fetch, TEST_TOKEN));
  const nodeName = `node-${process.pid}-${serviceCidr.split(".").slice(1, 3).join("")}`;
  if (opts.runtime === "none") {
    const controllers = await startControllers(
      { client, log: () => {}, config: opts.config, clock: opts.clock },
      opts.controllers ?? CONTROLLERS,
    );
    return {
      api,
      client,
      nodeName,
      serviceCidr,
      async close() {
        await controllers.stop();
        await api.close();
      },
    };
  }
  const dataDir = mkdtempSync(join(tmpdir(), "kube-cluster-"));
  // Every component acts as its own user (system:kube-scheduler, system:node:NAME, ...), as in `kube up`.
  const clientAs: ComponentContext["clientAs"] = (user) =>
    createClient(inProcessTransport(api.fetch, api.tokenFor({ name: user.name, groups: user.groups ?? [] })));
  // As `kube up`: background work (the GC's graph, quota counts) starts once every component has.
  const started = Promise.withResolvers<void>();
  // As `kube up`: the controllers and hollow kubelets share the process's informers.
  const informers = new SharedInformerFactory(clientAs({ name: "system:kube-controller-manager" }), {
    stripManagedFields: true,
  });
  const ctx: ComponentContext = {
    started: started.promise,
    client,
    clientAs,
    informers,
    kubeletKey: api.kubeletKey,
    metrics: api.metrics,
    nodeName,
    runtime: opts.runtime,
    simNodes: opts.simNodes ?? 1,
    dataDir,
    apiUrl: "in-process",
    clusterCa: (await testTls()).ca,
    log: () => {},
    config: clusterConfig({
      cleanOnExit: true,
      ingressPort: 0,
      serviceCidr,
      dnsUpstream: NO_UPSTREAM,
      ...opts.config,
    }),
    clock: opts.clock,
  };
  const running: RunningComponent[] = [];
  for (const c of clusterComponents()) running.push(await c.start(ctx));
  started.resolve();
  return {
    api,
    client,
    nodeName,
    serviceCidr,
    async close() {
      for (const r of running.reverse()) await r.stop();
      informers.stop();
      await api.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
