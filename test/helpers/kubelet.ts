// One kubelet on real Podman against a test API server, as test/kubelet/*.test.ts run it: the
// in-process client, a fresh data dir, and containers removed when the kubelet stops.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, inProcessTransport, type Client } from "../../src/client/index.ts";
import { clusterConfig } from "../../src/components/config.ts";
import { kubeletComponent } from "../../src/components/kubelet/index.ts";
import { type KubeletListers, startListers } from "../../src/components/kubelet/listers.ts";
import { API_VERSION } from "../../src/components/kubelet/runtime/engine-http.ts";
import type { ComponentContext, RunningComponent } from "../../src/components/types.ts";
import { startTestApi, TEST_TOKEN, type TestApi } from "./api.ts";
import { ensureEngine } from "./engine.ts";

export interface TestKubelet {
  api: TestApi;
  client: Client;
  dataDir: string;
  /** Stops the kubelet without removing its containers and starts a new one on the same node. */
  restart(): Promise<void>;
  /** Whether the engine has a running container of that id (a status's `docker://ID` or the ID). */
  engineRunning(containerID: string): Promise<boolean>;
  close(): Promise<void>;
}

export async function startTestKubelet(
  nodeName: string,
  opts: { wrapRuntime?: ComponentContext["wrapRuntime"] } = {},
): Promise<TestKubelet> {
  const socket = await ensureEngine();
  const api = await startTestApi();
  const client = createClient(inProcessTransport(api.fetch, TEST_TOKEN));
  const dataDir = mkdtempSync(join(tmpdir(), `kube-${nodeName}-`));
  const ctx = (): ComponentContext => ({
    client,
    kubeletKey: api.kubeletKey,
    nodeName,
    runtime: "engine",
    simNodes: 1,
    dataDir,
    apiUrl: "in-process",
    log: () => {},
    config: clusterConfig({ cleanOnExit: true }),
    ...(opts.wrapRuntime ? { wrapRuntime: opts.wrapRuntime } : {}),
  });
  let current = ctx();
  let kubelet: RunningComponent = await kubeletComponent.start(current);
  return {
    api,
    client,
    dataDir,
    async restart() {
      current.config.cleanOnExit = false;
      await kubelet.stop();
      current = ctx();
      kubelet = await kubeletComponent.start(current);
    },
    async engineRunning(containerID) {
      const id = containerID.replace(/^docker:\/\//, "");
      const res = await fetch(`http://d/${API_VERSION}/containers/${id}/json`, { unix: socket } as RequestInit);
      if (res.status === 404) return false;
      const info = (await res.json()) as { State?: { Running?: boolean } };
      return !!info.State?.Running;
    },
    async close() {
      await kubelet.stop();
      await api.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** What pod workers of a test need without a kubelet: a test API, its in-process client, a data dir, the listers. */
export interface WorkerTestbed {
  client: Client;
  dataDir: string;
  listers: KubeletListers;
  close(): Promise<void>;
}

export async function startWorkerTestbed(name: string): Promise<WorkerTestbed> {
  const api = await startTestApi();
  const client = createClient(inProcessTransport(api.fetch, TEST_TOKEN));
  const dataDir = mkdtempSync(join(tmpdir(), `kube-${name}-`));
  const listers = await startListers(client);
  return {
    client,
    dataDir,
    listers,
    async close() {
      listers.stop();
      await api.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
