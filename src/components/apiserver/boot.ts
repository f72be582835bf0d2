// Starting the API server for `kube up`: opens the store in the data dir (which also takes the data
// dir's lock), loads or creates the bearer token, and serves HTTP on host:port.
import { mkdirSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { openStore, type EtcdStoreOptions, type Store } from "../../store/index.ts";
import { syncClusterSecrets } from "./cluster-secrets.ts";
import { createApiServer, serve, type ApiServer } from "./index.ts";
import { containerNetworkAddress } from "../node-address.ts";
import { ensureKubernetesService } from "./kubernetes-service.ts";
import { defaultServiceRanges, kubernetesServiceIp } from "./service-alloc.ts";
import { loadOrCreateTls } from "./tls.ts";
import type { FlowControlOptions } from "./flowcontrol.ts";
import { recordStore, secureDataDir } from "./data-dir.ts";
import type { MetricsHub } from "../metrics/hub.ts";

export interface BootOptions {
  dataDir: string;
  host: string;
  port: number;
  flowControl?: FlowControlOptions;
  /** Cluster IP range (kube up's --service-cidr). */
  serviceCidr?: string;
  /** The pod range node IPAM allocates from (kube up --cluster-cidr); told to joining nodes. */
  clusterCidr?: string;
  /** DNS domain the certificate names the kubernetes service in (cluster.local). */
  clusterDomain?: string;
  /** Gathers this process's metrics for /metrics; false turns metrics off (kube up --disable-metrics). */
  metrics?: MetricsHub | false;
  /** Keep objects in etcd instead of the data dir's SQLite (kube up --store etcd://...). */
  etcd?: EtcdStoreOptions;
  /** Where the server's own messages go (default: stdout, prefixed [apiserver]). */
  log?: (message: string) => void;
}

export interface BootedApiServer {
  url: string;
  port: number;
  token: string;
  /** PEM of the CA that signed the serving certificate. */
  ca: string;
  /** What went wrong that does not stop the cluster (said once at start). */
  warnings: string[];
  /** In-process transport target: the app's fetch, no socket. */
  fetch: (req: Request) => Promise<Response>;
  /** The same for the cluster's components, queued by priority level (ApiServer.fetchLocal). */
  fetchLocal: (req: Request) => Promise<Response>;
  /** A token for one of the cluster's own components (held in memory only). */
  tokenFor: ApiServer["tokenFor"];
  kubeletKey: Uint8Array;
  /** Where components add their metrics registries; absent when metrics are off. */
  metrics?: MetricsHub;
  /** How many whole-collection LISTs are being written now (ApiServer.streamingLists). */
  streamingLists(): number;
  stop(): Promise<void>;
}

export function loadOrCreateToken(dataDir: string): string {
  const path = join(dataDir, "token");
  if (existsSync(path)) return readFileSync(path, "utf8").trim();
  const token = randomBytes(24).toString("hex");
  writeFileSync(path, token + "\n", { mode: 0o600 });
  return token;
}

/** A key kept in the data dir (0600): sa.key signs service account tokens, kubelet.key is shared with the kubelets. */
function loadOrCreateKey(dataDir: string, file = "sa.key"): Uint8Array {
  const path = join(dataDir, file);
  if (existsSync(path)) return readFileSync(path);
  const key = randomBytes(32);
  writeFileSync(path, key, { mode: 0o600 });
  return key;
}

export async function bootApiServer(opts: BootOptions): Promise<BootedApiServer> {
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const store = await openStore({ dataDir: opts.dataDir, etcd: opts.etcd });
  recordStore(opts.dataDir, opts.etcd);
  try {
    return await bootOn(store, opts);
  } catch (err) {
    await store.close();
    throw err;
  }
}

async function bootOn(store: Store, opts: BootOptions): Promise<BootedApiServer> {
  // On etcd, every server of the cluster holds the same CA, keys and admin token (cluster-secrets.ts).
  const shared = opts.etcd ? await syncClusterSecrets(store, opts.dataDir) : undefined;
  let secrets = await loadSecrets(opts);
  if ((await shared?.publish()) === "adopted") secrets = await loadSecrets(opts);
  const { token, tls, serviceAccountKey, kubeletKey } = secrets;
  const clusterIP = kubernetesServiceIp(serviceRangesOf(opts).clusterIpCidr);
  const api = createApiServer({
    store,
    token,
    serviceRanges: serviceRangesOf(opts),
    serviceAccountKey,
    kubeletKey,
    metrics: opts.metrics,
    clusterCa: tls.ca,
    nodeConfig: {
      serviceCidr: serviceRangesOf(opts).clusterIpCidr,
      clusterDomain: opts.clusterDomain ?? "cluster.local",
      ...(opts.clusterCidr ? { clusterCidr: opts.clusterCidr } : {}),
    },
    log: opts.log ?? ((m) => console.log(`[apiserver] ${m}`)),
  });
  secureDataDir(opts.dataDir);
  await api.ready;
  let server: Awaited<ReturnType<typeof serve>>;
  try {
    server = await serve(api, {
      hostname: opts.host,
      port: opts.port,
      tls,
      adminToken: token,
      flowControl: opts.flowControl,
    });
  } catch (err) {
    api.close();
    throw err;
  }
  const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  const warnings: string[] = [];
  const address = /^\d+\.\d+\.\d+\.\d+$/.test(opts.host) && opts.host !== "0.0.0.0" ? opts.host : "127.0.0.1";
  await ensureKubernetesService({ fetch: api.fetch, token, clusterIP, address, port: server.port }).catch((e: Error) =>
    warnings.push(`the kubernetes service: ${e.message}`),
  );
  return {
    warnings,
    url: `https://${host}:${server.port}`,
    ca: tls.ca,
    port: server.port,
    token,
    fetch: api.fetch,
    fetchLocal: api.fetchLocal,
    tokenFor: (user) => api.tokenFor(user),
    kubeletKey: api.kubeletKey,
    metrics: api.metrics,
    streamingLists: api.streamingLists,
    async stop() {
      await server.stop();
      api.close();
      await store.close();
    },
  };
}

const serviceRangesOf = (opts: BootOptions) => ({
  ...defaultServiceRanges,
  clusterIpCidr: opts.serviceCidr ?? defaultServiceRanges.clusterIpCidr,
});

/** The data dir's token, TLS material and keys, made on first start. */
async function loadSecrets(opts: BootOptions) {
  const token = loadOrCreateToken(opts.dataDir);
  const clusterIP = kubernetesServiceIp(serviceRangesOf(opts).clusterIpCidr);
  // Clients that reach the API through the kubernetes service verify these names.
  // Pods reach the API at the node's container bridge address (KUBERNETES_SERVICE_HOST), which
  // exists only while containers run: Podman's and Docker's defaults are named as well.
  const bridges = [...new Set([containerNetworkAddress() ?? "10.88.0.1", "10.88.0.1", "172.17.0.1"])];
  const tls = await loadOrCreateTls(opts.dataDir, opts.host, [
    clusterIP,
    ...bridges,
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    `kubernetes.default.svc.${opts.clusterDomain ?? "cluster.local"}`,
  ]);
  return {
    token,
    tls,
    serviceAccountKey: loadOrCreateKey(opts.dataDir),
    kubeletKey: loadOrCreateKey(opts.dataDir, "kubelet.key"),
  };
}
