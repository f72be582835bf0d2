// `kube up`: the whole cluster in this process. The API server starts first; every other component
// starts once the API answers, and talks to it through the in-process client.
import type { CAC } from "cac";
import { hostname } from "node:os";
import { join } from "node:path";
import { dnsServiceIp, ipToInt, parseCidr, podCidrBlocks } from "../api/cidr.ts";
import { publishDns } from "../components/dns/index.ts";
import { DNS_NAMESPACE } from "../api/well-known.ts";
import { bootApiServer } from "../components/apiserver/boot.ts";
import { defaultServiceCidr } from "../components/apiserver/service-alloc.ts";
import {
  createClient,
  inProcessTransport,
  mergeKubeconfig,
  SharedInformerFactory,
  writeKubeconfig,
} from "../client/index.ts";
import type { Component, ComponentContext, RunningComponent } from "../components/types.ts";
import { consoleLog, stopOnSignal } from "./foreground.ts";
import { clusterConfig } from "../components/config.ts";
import { clusterComponents } from "./components.ts";
import { leaderElected } from "../components/leader-election.ts";
import type { BootOptions } from "../components/apiserver/boot.ts";
import { CliError, action } from "./fail.ts";
import { collectGarbage } from "./gc.ts";
import { defaultDataDir } from "./paths.ts";
import { scheduleSnapshots, snapshotDir } from "./snapshot.ts";

export interface UpOptions {
  dataDir?: string;
  port?: number | string;
  host?: string;
  runtime?: string;
  simNodes?: number | string;
  nodeName?: string;
  disable?: string;
  logLevel?: string;
  writeKubeconfig?: string;
  containerSocket?: string;
  cleanOnExit?: boolean;
  proxyMode?: string;
  proxyBalance?: string;
  ingressPort?: string;
  snapshotInterval?: string;
  eventTtl?: string;
  gcInterval?: string;
  maxRequestsInflight?: string | number;
  maxMutatingRequestsInflight?: string | number;
  maxWatchesPerClient?: string | number;
  snapshotRetain?: string | number;
  serviceCidr?: string;
  clusterDomain?: string;
  dnsUpstream?: string;
  hostDns?: boolean;
  disableMetrics?: boolean;
  store?: string;
  etcdCafile?: string;
  etcdCertfile?: string;
  etcdKeyfile?: string;
  etcdPrefix?: string;
  serverOnly?: boolean;
  clusterCidr?: string;
  nodeCidrMaskSize?: string | number;
  nodeIp?: string;
}

export function registerUp(cli: CAC): void {
  cli
    .command("up", "Start the whole cluster in this process (foreground)")
    .option("--data-dir <dir>", "Where the cluster keeps its state", { default: defaultDataDir() })
    .option("--port <port>", "API server port", { default: 6443 })
    .option("--host <host>", "API server address", { default: "127.0.0.1" })
    .option("--runtime <runtime>", "Container runtime: engine (Podman/Docker) or sim (hollow nodes)", {
      default: "engine",
    })
    .option("--sim-nodes <n>", "Number of hollow nodes with --runtime sim", { default: 1 })
    .option("--node-name <name>", "Name of this machine's node", { default: hostname() })
    .option(
      "--disable <components>",
      "Comma-separated components not to start (scheduler,controllers,kubelet,proxy,dns,ingress)",
    )
    .option("--log-level <level>", "info or debug", { default: "info" })
    .option(
      "--write-kubeconfig <path>",
      "Also merge this cluster into that kubeconfig (e.g. ~/.kube/config), as its current context",
    )
    .option("--container-socket <path>", "Docker Engine API socket (Podman or Docker)")
    .option("--clean-on-exit", "Remove the cluster's containers when stopping")
    .option(
      "--proxy-mode <mode>",
      "Service data plane: nftables (kernel DNAT, needs root), userspace, or auto (nftables when possible)",
      { default: "auto" },
    )
    .option("--proxy-balance <how>", "How the proxy picks an endpoint: roundrobin or random", { default: "roundrobin" })
    .option("--ingress-port <port>", "Port on 127.0.0.1 where Ingresses are served (default 80 as root, else 8080)")
    .option(
      "--max-requests-inflight <n>",
      "Read-only requests from the network served at once (the admin token is exempt)",
      { default: 400 },
    )
    .option("--max-mutating-requests-inflight <n>", "Mutating requests from the network served at once", {
      default: 200,
    })
    .option("--max-watches-per-client <n>", "Watches (and other long-running requests) one credential may hold open", {
      default: 100,
    })
    .option("--event-ttl <duration>", "How long events are kept (as kube-apiserver's --event-ttl)", { default: "1h" })
    .option("--gc-interval <duration>", "How often a full garbage collection returns freed memory (0: never)", {
      default: "20s",
    })
    .option(
      "--snapshot-interval <duration>",
      "Take a snapshot of the store this often into DATA/snapshots (e.g. 30m, 6h); off by default",
    )
    .option("--snapshot-retain <n>", "How many scheduled snapshots to keep", { default: 5 })
    .option(
      "--service-cidr <cidr>",
      "Cluster IP range (default 10.43.0.0/16 as root, made local to this machine; else 127.10.0.0/16)",
    )
    .option(
      "--cluster-cidr <cidr>",
      "Pod range for several machines: each node gets a block of it (--node-cidr-mask-size) for its pods, routed by the others (off by default: one machine)",
    )
    .option("--node-cidr-mask-size <bits>", "Size of each node's block of --cluster-cidr", { default: 24 })
    .option("--node-ip <ip>", "Address other machines reach this node at (default 127.0.0.1: this machine only)")
    .option("--cluster-domain <domain>", "DNS domain of the cluster", { default: "cluster.local" })
    .option(
      "--dns-upstream <addresses>",
      "Comma-separated resolvers (ip or ip:port) the cluster DNS forwards other names to (default: the host's resolv.conf)",
    )
    .option(
      "--host-dns",
      "Make cluster names resolve on this host too (systemd-resolved when it runs, else a managed block in /etc/hosts)",
    )
    .option("--disable-metrics", "Serve no Prometheus metrics and measure nothing (/metrics answers 404)")
    .option(
      "--store <url>",
      "Where objects are kept: sqlite (in the data dir) or etcd://host:2379[,host2:2379...] (an etcd v3 cluster)",
      { default: "sqlite" },
    )
    .option("--etcd-cafile <file>", "CA bundle to verify the etcd members' certificates (makes etcd:// use https)")
    .option("--etcd-certfile <file>", "Client certificate for etcd")
    .option("--etcd-keyfile <file>", "Client key for etcd")
    .option("--etcd-prefix <prefix>", "Prefix for every etcd key, to keep several clusters apart on one etcd", {
      default: "",
    })
    .option(
      "--server-only",
      "API server, scheduler and controllers only (no kubelet, proxy, DNS or ingress on this machine)",
    )
    .action(action((opts: UpOptions) => up(opts)));
}

/** Go-style durations as kube up takes them: 90s, 30m, 6h, 1h30m. */
export function durationMs(value: string, name: string): number {
  const parts = [...value.matchAll(/(\d+)(ms|s|m|h)/g)];
  if (!parts.length || parts.map((p) => p[0]).join("") !== value)
    throw new CliError(`--${name} must be a duration such as 30m or 6h, got "${value}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2] as keyof typeof unit], 0);
  if (ms < 1000) throw new CliError(`--${name} must be at least 1s, got "${value}"`);
  return ms;
}

function positive(value: unknown, name: string): number {
  const n = intOption(value, name);
  if (n < 1) throw new CliError(`--${name} must be at least 1, got "${value}"`);
  return n;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], name: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    const choices = `${allowed.slice(0, -1).join(", ")} or ${allowed[allowed.length - 1]}`;
    throw new CliError(`--${name} must be ${choices}, got "${value}"`);
  }
  return value as T;
}

function intOption(value: unknown, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new CliError(`--${name} must be a whole number, got "${value}"`);
  return n;
}

/** --store: undefined for SQLite, else the etcd members (etcd://h:p,h2:p2; https when TLS files are given). */
export function etcdOptions(opts: UpOptions): BootOptions["etcd"] {
  const store = opts.store ?? "sqlite";
  const tls = { caFile: opts.etcdCafile, certFile: opts.etcdCertfile, keyFile: opts.etcdKeyfile };
  if (store === "sqlite") {
    if (tls.caFile || tls.certFile || tls.keyFile) throw new CliError("--etcd-* options need --store etcd://...");
    return undefined;
  }
  const m = /^etcd:\/\/(.+)$/.exec(store);
  const hosts = m?.[1]?.split(",").map((h) => h.trim()) ?? [];
  if (!m || !hosts.every((h) => /^([a-zA-Z0-9.-]+|\[[0-9a-fA-F:]+\]):\d{1,5}$/.test(h)))
    throw new CliError(`--store must be sqlite or etcd://host:port[,host:port...], got "${store}"`);
  if (!!tls.certFile !== !!tls.keyFile) throw new CliError("--etcd-certfile and --etcd-keyfile go together");
  const scheme = tls.caFile || tls.certFile ? "https" : "http";
  return { endpoints: hosts.map((h) => `${scheme}://${h}`), prefix: opts.etcdPrefix ?? "", ...tls };
}

export async function up(opts: UpOptions): Promise<void> {
  const started = performance.now();
  const dataDir = opts.dataDir ?? defaultDataDir();
  const runtime = opts.runtime ?? "engine";
  if (runtime !== "engine" && runtime !== "sim")
    throw new CliError(`--runtime must be engine or sim, got "${runtime}"`);
  const port = intOption(opts.port ?? 6443, "port");
  const simNodes = intOption(opts.simNodes ?? 1, "sim-nodes");
  const disabled = new Set(
    (opts.disable ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );
  // A dedicated server runs no node components.
  if (opts.serverOnly) for (const c of ["kubelet", "routes", "proxy", "dns", "ingress"]) disabled.add(c);
  const etcd = etcdOptions(opts);
  const debug = opts.logLevel === "debug";
  const proxyMode = oneOf(opts.proxyMode ?? "auto", ["auto", "nftables", "userspace"] as const, "proxy-mode");
  const proxyBalance = oneOf(opts.proxyBalance ?? "roundrobin", ["roundrobin", "random"] as const, "proxy-balance");
  const serviceCidr = opts.serviceCidr ?? defaultServiceCidr();
  try {
    parseCidr(serviceCidr);
  } catch {
    throw new CliError(`--service-cidr must be an IPv4 CIDR with a prefix of 8 to 30 bits, got "${serviceCidr}"`);
  }
  const nodeCidrMaskSize = intOption(opts.nodeCidrMaskSize ?? 24, "node-cidr-mask-size");
  if (opts.clusterCidr)
    try {
      podCidrBlocks(opts.clusterCidr, nodeCidrMaskSize);
    } catch (e) {
      throw new CliError(`--cluster-cidr/--node-cidr-mask-size: ${(e as Error).message}`);
    }
  if (opts.nodeIp !== undefined && ipToInt(opts.nodeIp) === undefined)
    throw new CliError(`--node-ip must be an IPv4 address, got "${opts.nodeIp}"`);
  const clusterDomain = (opts.clusterDomain ?? "cluster.local").replace(/\.$/, "").toLowerCase();
  if (
    !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(clusterDomain) ||
    clusterDomain.length > 253
  )
    throw new CliError(`--cluster-domain must be a DNS subdomain, got "${opts.clusterDomain}"`);
  const since = () => `${Math.round(performance.now() - started)}ms`;
  const snapshotEvery = opts.snapshotInterval ? durationMs(opts.snapshotInterval, "snapshot-interval") : 0;
  const eventTtlMs = durationMs(opts.eventTtl ?? "1h", "event-ttl");
  const gcInterval = String(opts.gcInterval ?? "20s"); // the parser hands `0` over as a number
  const gcEvery = gcInterval === "0" || gcInterval === "0s" ? 0 : durationMs(gcInterval, "gc-interval");
  const snapshotRetain = intOption(opts.snapshotRetain ?? 5, "snapshot-retain");
  if (snapshotEvery && snapshotRetain < 1) throw new CliError("--snapshot-retain must be at least 1");
  if (snapshotEvery && etcd)
    throw new CliError("--snapshot-interval snapshots the SQLite store; with etcd use `etcdctl snapshot save`");

  const flowControl = {
    maxReadOnly: positive(opts.maxRequestsInflight ?? 400, "max-requests-inflight"),
    maxMutating: positive(opts.maxMutatingRequestsInflight ?? 200, "max-mutating-requests-inflight"),
    maxLongRunningPerClient: positive(opts.maxWatchesPerClient ?? 100, "max-watches-per-client"),
  };
  const api = await bootApiServer({
    dataDir,
    host: opts.host ?? "127.0.0.1",
    port,
    flowControl,
    serviceCidr,
    clusterCidr: opts.clusterCidr,
    clusterDomain,
    metrics: opts.disableMetrics ? false : undefined,
    etcd,
  });
  console.log(`✓ apiserver   ${api.url} (${since()})`);
  for (const w of api.warnings) console.log(`[apiserver] ${w}`);
  const kubeconfig = join(dataDir, "kubeconfig");
  writeKubeconfig(kubeconfig, { server: api.url, token: api.token, ca: api.ca, name: "kube" });
  if (opts.writeKubeconfig)
    mergeKubeconfig(opts.writeKubeconfig, { server: api.url, token: api.token, ca: api.ca, name: "kube" });

  const allStarted = Promise.withResolvers<void>();
  const clientAs = (user: { name: string; groups?: string[] }) =>
    createClient(inProcessTransport(api.fetchLocal, api.tokenFor({ name: user.name, groups: user.groups ?? [] })));
  // Read as the controller manager, which lists and watches everything; without managedFields, which no component reads.
  const informers = new SharedInformerFactory(clientAs({ name: "system:kube-controller-manager" }), {
    stripManagedFields: true,
  });
  const ctx: ComponentContext = {
    started: allStarted.promise,
    client: createClient(inProcessTransport(api.fetchLocal, api.token)),
    informers,
    kubeletKey: api.kubeletKey,
    metrics: api.metrics,
    clientAs,
    nodeName: opts.nodeName ?? hostname(),
    nodeIp: opts.nodeIp,
    localDns: {},
    runtime,
    simNodes,
    containerSocket: opts.containerSocket,
    dataDir,
    apiUrl: api.url,
    clusterCa: api.ca,
    log: consoleLog(debug),
    config: clusterConfig({
      eventTtlMs,
      cleanOnExit: opts.cleanOnExit,
      proxyMode,
      proxyBalance,
      serviceCidr,
      clusterCidr: opts.clusterCidr,
      nodeCidrMaskSize,
      clusterDomain,
      hostDns: opts.hostDns,
      dnsUpstream: opts.dnsUpstream || undefined,
      ingressPort: opts.ingressPort !== undefined ? intOption(opts.ingressPort, "ingress-port") : undefined,
    }),
  };

  const running: { name: string; component: RunningComponent }[] = [];
  const stopSnapshots = snapshotEvery
    ? scheduleSnapshots(dataDir, snapshotEvery, snapshotRetain, (m) => console.log(`[snapshot] ${m}`))
    : () => {};
  const stopCollecting = collectGarbage(gcEvery, {
    busy: () => api.streamingLists() > 0,
    onSlow: (ms, bytes, maxBytes) =>
      console.log(
        `[gc] a forced collection took ${Math.round(ms)} ms, keeping ${Math.round(bytes / 2 ** 20)} MB of heap: over ${Math.round(maxBytes / 2 ** 20)} MB, JSC's own collector keeps the heap`,
      ),
  });
  const stopAll = async () => {
    stopCollecting();
    stopSnapshots();
    for (const { component } of running.reverse()) await component.stop().catch(() => {});
    informers.stop();
    await api.stop();
  };
  stopOnSignal(stopAll);

  try {
    for (const c of clusterComponents() as Component[]) {
      if (disabled.has(c.name)) continue;
      // On a shared etcd several kube up processes serve one cluster: one schedules, one runs the controllers.
      const component = !etcd
        ? c
        : c.name === "scheduler"
          ? leaderElected(c, "kube-scheduler", "system:kube-scheduler")
          : c.name === "controllers"
            ? leaderElected(c, "kube-controller-manager", "system:kube-controller-manager")
            : c;
      running.push({ name: component.name, component: await component.start(ctx) });
      console.log(`✓ ${component.name.padEnd(11)} ready (${since()})`);
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  // No DNS runs here, but pods on the nodes are told the kube-dns Service, which each node's proxy
  // sends to that node's own DNS server.
  if (opts.serverOnly)
    await publishDns(
      ctx.clientAs!({
        name: `system:serviceaccount:${DNS_NAMESPACE}:kube-dns`,
        groups: ["system:serviceaccounts", `system:serviceaccounts:${DNS_NAMESPACE}`],
      }),
      dnsServiceIp(serviceCidr),
    ).catch((e) => console.log(`[dns] the kube-dns Service: ${(e as Error).message}`));
  console.log(`\nkube is up in ${since()}`);
  allStarted.resolve();
  console.log(`  API:        ${api.url}`);
  console.log(`  kubeconfig: ${kubeconfig}`);
  if (snapshotEvery)
    console.log(
      `  snapshots:  every ${opts.snapshotInterval} into ${snapshotDir(dataDir)}, newest ${snapshotRetain} kept`,
    );
  console.log(`  try:        kubectl --kubeconfig ${kubeconfig} get nodes`);
}
