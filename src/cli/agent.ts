// `kube agent --server URL[,URL2] --token TOKEN`: this machine joins a cluster as a node (kubelet
// and service proxy, no API server), as k3s's agent does. Joining: fetch the CA from /cacerts
// without trusting anything, compare its sha256 with the join token's before the token is sent,
// then trade the bootstrap token (over TLS verified with that CA) for the node's own credentials
// (apiserver/join.ts), kept 0600 in the data dir; every later start uses only those. Requests go to
// the first server that answers (client failoverTransport), and the components' watches retry,
// so pods keep running while no server answers and the node catches up when one is back.
import type { CAC } from "cac";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { lookup } from "node:dns/promises";
import { ipToInt } from "../api/cidr.ts";
import { ip } from "../util/ip-command.ts";
import { join } from "node:path";
import {
  CACERTS_PATH,
  NODE_CONFIG_PATH,
  NODE_CREDENTIAL_PATH,
  type NodeClusterConfig,
  parseJoinToken,
  type JoinToken,
  type NodeCredential,
} from "../api/bootstrap-token.ts";
import { createClient, failoverTransport } from "../client/index.ts";
import { defaultServiceCidr } from "../components/apiserver/service-alloc.ts";
import { consoleLog, stopOnSignal } from "./foreground.ts";
import { clusterConfig, type ClusterConfig } from "../components/config.ts";
import type { ComponentContext, RunningComponent } from "../components/types.ts";
import { clusterComponents } from "./components.ts";
import { action, CliError } from "./fail.ts";
import { defaultDataDir } from "./paths.ts";

export interface AgentOptions {
  server?: string;
  token?: string;
  nodeName?: string;
  dataDir?: string;
  runtime?: string;
  containerSocket?: string;
  proxyMode?: string;
  serviceCidr?: string;
  clusterDomain?: string;
  disable?: string;
  cleanOnExit?: boolean;
  logLevel?: string;
  nodeIp?: string;
  dnsUpstream?: string;
}

/** What a joined agent keeps in its data dir (0600). */
interface Joined extends NodeCredential {
  ca: string;
}

const AGENT_COMPONENTS = ["dns", "kubelet", "routes", "proxy"];

export function registerAgent(cli: CAC): void {
  cli
    .command("agent", "Join a cluster as a node: kubelet and service proxy, no API server (foreground)")
    .option("--server <urls>", "API server URL(s), comma-separated; the next is used when one does not answer")
    .option("--token <token>", "Join token from `kube token create` (K10<CA hash>::<id>.<secret>); or $KUBE_TOKEN")
    .option("--node-name <name>", "Name of this node", { default: hostname() })
    .option("--data-dir <dir>", "Where the agent keeps its credential and pods", {
      default: join(defaultDataDir(), "agent"),
    })
    .option("--runtime <runtime>", "Container runtime: engine (Podman/Docker) or sim (a hollow node)", {
      default: "engine",
    })
    .option("--container-socket <path>", "Docker Engine API socket (Podman or Docker)")
    .option("--proxy-mode <mode>", "Service data plane: nftables, userspace or auto", { default: "auto" })
    .option("--service-cidr <cidr>", "The cluster's service IP range (default: what the server says)")
    .option("--cluster-domain <domain>", "DNS domain of the cluster (default: what the server says)")
    .option(
      "--node-ip <ip>",
      "Address the servers and other nodes reach this node at (default: this machine's address on the route to the server)",
    )
    .option(
      "--dns-upstream <addresses>",
      "Comma-separated resolvers (ip or ip:port) this node's cluster DNS forwards other names to (default: the host's resolv.conf)",
    )
    .option("--disable <components>", "Comma-separated components not to start (dns,kubelet,routes,proxy)")
    .option("--clean-on-exit", "Remove this node's containers when stopping")
    .option("--log-level <level>", "info or debug", { default: "info" })
    .action(action((opts: AgentOptions) => agent(opts)));
}

/** The CA a server serves, fetched before anything is trusted; its hash must be the token's. */
async function verifiedCa(server: string, token: JoinToken): Promise<string> {
  const res = await fetch(`${server}${CACERTS_PATH}`, {
    tls: { rejectUnauthorized: false },
    signal: AbortSignal.timeout(10_000),
  } as RequestInit);
  if (!res.ok) throw new CliError(`${server}${CACERTS_PATH} answered ${res.status}: is it a kube API server?`);
  const ca = await res.text();
  const hash = createHash("sha256").update(ca).digest("hex");
  if (hash !== token.caHash)
    throw new CliError(
      `the CA of ${server} has sha256 ${hash}, not the join token's ${token.caHash}: refusing to send the token to it`,
    );
  return ca;
}

/** Trades the bootstrap token for this node's credentials, at the first server that answers. */
async function joinCluster(servers: string[], token: JoinToken, nodeName: string): Promise<Joined> {
  let unreachable: unknown;
  for (const server of servers) {
    let ca: string;
    try {
      ca = await verifiedCa(server, token);
    } catch (err) {
      if (err instanceof CliError) throw err;
      unreachable = err;
      continue;
    }
    const res = await fetch(`${server}${NODE_CREDENTIAL_PATH}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token.id}.${token.secret}`, "content-type": "application/json" },
      body: JSON.stringify({ nodeName }),
      tls: { ca },
    } as RequestInit);
    if (res.status === 401)
      throw new CliError(`${server} refused the join token (401 Unauthorized): it is wrong, expired or deleted`);
    if (!res.ok) {
      const message = ((await res.json().catch(() => ({}))) as { message?: string }).message;
      throw new CliError(`${server} refused to join node ${nodeName}: ${message ?? res.status}`);
    }
    return { ...((await res.json()) as NodeCredential), ca };
  }
  throw new CliError(`no server answered (${servers.join(", ")}): ${(unreachable as Error)?.message ?? ""}`);
}

/** This machine's address on the route to the first server (what `ip route get` says), as k3s's agent picks its node IP. */
async function addressTowards(server: string): Promise<string> {
  const host = new URL(server).hostname.replace(/^\[|\]$/g, "");
  const addr = ipToInt(host) !== undefined ? host : (await lookup(host, { family: 4 })).address;
  const src = /\bsrc (\S+)/.exec(await ip(["-4", "route", "get", addr]))?.[1];
  if (!src) throw new CliError(`no route from this machine to ${server}: give --node-ip`);
  return src;
}

/**
 * What the servers say about the cluster (service and pod ranges, domain), asked at each start with
 * the node's credential; the last answer is kept for starts while no server answers.
 */
async function clusterSettings(
  servers: string[],
  joined: Joined,
  dataDir: string,
): Promise<NodeClusterConfig | undefined> {
  const saved = join(dataDir, "cluster-config.json");
  for (const server of servers) {
    try {
      const res = await fetch(`${server}${NODE_CONFIG_PATH}`, {
        headers: { authorization: `Bearer ${joined.token}` },
        tls: { ca: joined.ca },
        signal: AbortSignal.timeout(10_000),
      } as RequestInit);
      if (!res.ok) {
        await res.body?.cancel();
        continue;
      }
      const config = (await res.json()) as NodeClusterConfig;
      writeFileSync(saved, JSON.stringify(config, null, 2), { mode: 0o600 });
      return config;
    } catch {}
  }
  return existsSync(saved) ? (JSON.parse(readFileSync(saved, "utf8")) as NodeClusterConfig) : undefined;
}

export async function agent(opts: AgentOptions): Promise<void> {
  const servers = (opts.server ?? process.env.KUBE_URL ?? "")
    .split(",")
    .map((s) => s.trim().replace(/\/+$/, ""))
    .filter(Boolean);
  if (!servers.length) throw new CliError("--server is required (the API server's URL, e.g. https://host:6443)");
  for (const s of servers)
    if (!/^https:\/\/[^/]+$/.test(s)) throw new CliError(`--server must be https://host:port, got "${s}"`);
  const runtime = opts.runtime ?? "engine";
  if (runtime !== "engine" && runtime !== "sim")
    throw new CliError(`--runtime must be engine or sim, got "${runtime}"`);
  const nodeName = opts.nodeName ?? hostname();
  const dataDir = opts.dataDir ?? join(defaultDataDir(), "agent");
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const saved = join(dataDir, "node-credential.json");
  let joined: Joined | undefined = existsSync(saved) ? (JSON.parse(readFileSync(saved, "utf8")) as Joined) : undefined;
  if (joined && joined.nodeName !== nodeName) joined = undefined;
  if (!joined) {
    const text = opts.token ?? process.env.KUBE_TOKEN;
    if (!text) throw new CliError("--token is required to join (`kube token create` on a server prints one)");
    const token = parseJoinToken(text);
    if (!token) throw new CliError("--token must be a join token K10<64 hex digits>::<6 chars>.<16 chars>");
    joined = await joinCluster(servers, token, nodeName);
    writeFileSync(saved, JSON.stringify(joined, null, 2), { mode: 0o600 });
    console.log(`✓ joined as node ${nodeName} (credential in ${saved})`);
  }
  if (opts.nodeIp !== undefined && ipToInt(opts.nodeIp) === undefined)
    throw new CliError(`--node-ip must be an IPv4 address, got "${opts.nodeIp}"`);
  const nodeIp = opts.nodeIp ?? (await addressTowards(servers[0]!));
  const cluster = await clusterSettings(servers, joined, dataDir);
  const node = createClient(failoverTransport(servers, joined.token, { ca: joined.ca }));
  const proxy = createClient(failoverTransport(servers, joined.proxyToken, { ca: joined.ca }));
  const kubeletKey = new Uint8Array(Buffer.from(joined.kubeletKey, "base64"));
  const debug = opts.logLevel === "debug";
  const ctx: ComponentContext = {
    client: node,
    // Only the credentials this node was given: the proxy's own, the node's for everything else.
    // The node's DNS server reads Services and Endpoints as the proxy does.
    clientAs: (user) =>
      user.name === "system:kube-proxy" || user.name === "system:serviceaccount:kube-system:kube-dns" ? proxy : node,
    agent: true,
    localDns: {},
    nodeIp,
    kubeletKeyOf: (n) => (n === nodeName ? kubeletKey : undefined),
    nodeName,
    runtime,
    simNodes: 1,
    containerSocket: opts.containerSocket,
    dataDir,
    apiUrl: servers[0]!,
    clusterCa: joined.ca,
    log: consoleLog(debug),
    config: clusterConfig({
      cleanOnExit: opts.cleanOnExit,
      // Checked by the proxy when it starts (chooseDataPlane).
      proxyMode: opts.proxyMode as ClusterConfig["proxyMode"] | undefined,
      serviceCidr: opts.serviceCidr ?? cluster?.serviceCidr ?? defaultServiceCidr(),
      clusterDomain: opts.clusterDomain ?? cluster?.clusterDomain,
      clusterCidr: cluster?.clusterCidr,
      dnsUpstream: opts.dnsUpstream || undefined,
    }),
  };
  const disabled = new Set((opts.disable ?? "").split(",").map((s) => s.trim()));
  const running: RunningComponent[] = [];
  const stopAll = async () => {
    for (const c of running.reverse()) await c.stop().catch(() => {});
  };
  stopOnSignal(stopAll);
  try {
    for (const c of clusterComponents()) {
      if (!AGENT_COMPONENTS.includes(c.name) || disabled.has(c.name)) continue;
      running.push(await c.start(ctx));
      console.log(`✓ ${c.name.padEnd(11)} ready`);
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  console.log(`\nnode ${nodeName} (${nodeIp}) is up, API servers: ${servers.join(", ")}`);
}
