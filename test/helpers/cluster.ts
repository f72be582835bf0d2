// A whole cluster in the test process: real API server and store, and every component of
// `kube up` (scheduler, controllers, kubelet on real Podman or sim, proxy) on an in-process client.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, inProcessTransport, type Client } from "../../src/client/index.ts";
import { clusterComponents } from "../../src/cli/components.ts";
import type { ComponentContext, RunningComponent } from "../../src/components/types.ts";
import { testServiceCidr } from "../../bench/lib/kube-up.ts";
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

export async function startCluster(
  opts: {
    runtime: "engine" | "sim";
    simNodes?: number;
    serviceCidr?: string;
    settings?: ComponentContext["settings"];
  } = { runtime: "engine" },
): Promise<TestCluster> {
  if (opts.runtime === "engine") await ensureEngine();
  const serviceCidr = opts.serviceCidr ?? testServiceCidr();
  const api = await startTestApi({
    serviceRanges: { clusterIpCidr: serviceCidr, nodePortMin: 30000, nodePortMax: 32767 },
  });
  const client = createClient(inProcessTransport(api.fetch, TEST_TOKEN));
  const dataDir = mkdtempSync(join(tmpdir(), "kube-cluster-"));
  const nodeName = `node-${process.pid}-${serviceCidr.split(".").slice(1, 3).join("")}`;
  // Every component acts as its own user (system:kube-scheduler, system:node:NAME, ...), as in `kube up`.
  const clientAs: ComponentContext["clientAs"] = (user) =>
    createClient(inProcessTransport(api.fetch, api.tokenFor({ name: user.name, groups: user.groups ?? [] })));
  const ctx: ComponentContext = {
    client,
    clientAs,
    kubeletKey: api.kubeletKey,
    nodeName,
    runtime: opts.runtime,
    simNodes: opts.simNodes ?? 1,
    dataDir,
    apiUrl: "in-process",
    clusterCa: (await testTls()).ca,
    log: () => {},
    settings: {
      cleanOnExit: true,
      ingressPort: 0,
      serviceCidr,
      clusterDomain: "cluster.local",
      dnsUpstream: NO_UPSTREAM,
      ...opts.settings,
    },
  };
  const running: RunningComponent[] = [];
  for (const c of clusterComponents()) running.push(await c.start(ctx));
  return {
    api,
    client,
    nodeName,
    serviceCidr,
    async close() {
      for (const r of running.reverse()) await r.stop();
      await api.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
