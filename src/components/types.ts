// What `kube up` (and later `kube agent`) hands each component, and what it gets back.
// Components reach the cluster only through `client`.
import type { Client, Clock, SharedInformerFactory } from "../client/index.ts";
import type { ClusterConfig } from "./config.ts";
import type { MetricsHub } from "./metrics/hub.ts";
import type { ContainerRuntime } from "./kubelet/runtime/types.ts";

export interface ComponentContext {
  /** The cluster admin's client (tests, and components run without identities). */
  client: Client;
  /**
   * The process's shared informers (kube up): the controllers and the hollow kubelets watch pods through one
   * watch and one cache. Absent: each component makes its own.
   */
  informers?: SharedInformerFactory;
  /**
   * A client acting as one of the cluster's own identities (system:kube-scheduler,
   * system:node:NAME, ...), so each component holds only its own permissions, as upstream.
   */
  clientAs?: (user: { name: string; groups?: string[] }) => Client;
  /** The key the kubelet and the API server prove themselves to each other with (DATA/kubelet.key). */
  kubeletKey?: Uint8Array;
  /** A node's own kubelet key, when this process holds only that (`kube agent`); else derived from kubeletKey. */
  kubeletKeyOf?: (node: string) => Uint8Array | undefined;
  /** Name of the node this process's kubelet and proxy serve. */
  nodeName: string;
  /** The address other machines reach this node at (its InternalIP; kubelet server, pod routes); 127.0.0.1 when absent. */
  nodeIp?: string;
  runtime: "engine" | "sim";
  /** Set by `kube agent`: a joined node, holding only its own credentials (the DNS publishes nothing). */
  agent?: boolean;
  /**
   * This process's cluster DNS server once it listens (set by the dns component): the proxy sends
   * the kube-dns Service's traffic from this node's pods there (a node-local DNS, see docs/ARCHITECTURE.md).
   */
  localDns?: { port?: number };
  simNodes: number;
  /** --container-socket, when given. */
  containerSocket?: string;
  /** Tests: what the kubelet uses instead of the engine runtime it made (a wrapper that delays its answers, say). */
  wrapRuntime?: (runtime: ContainerRuntime) => ContainerRuntime;
  dataDir: string;
  /** Public address of the API server (for what must be reachable from other processes). */
  apiUrl: string;
  /** PEM of the CA that signed the API server's certificate (pods get it as ca.crt). */
  clusterCa?: string;
  log: (component: string, message: string) => void;
  /**
   * This process's metrics (metrics/hub.ts): a component adds its registry, which the API server's
   * /metrics serves; absent when metrics are off.
   */
  metrics?: MetricsHub;
  /** Tunables (grace periods etc.) from flags, with defaults (config.ts); components read what they know. */
  config: ClusterConfig;
  /** The controllers' clock; real time when not given (tests move a fake one on by hand). */
  clock?: Clock;
  /**
   * Resolves once every component of this process has started (`kube is up`): work that is not needed to
   * serve, such as the garbage collector's graph of every object, waits for it. Absent: nothing waits.
   */
  started?: Promise<void>;
}

export interface RunningComponent {
  stop(): Promise<void>;
}

export interface Component {
  name: string;
  start(ctx: ComponentContext): Promise<RunningComponent>;
}

/** The client a component uses: its own identity when the cluster gives one, else `ctx.client`. */
export function clientOf(ctx: ComponentContext, name: string, groups: string[] = []): Client {
  return ctx.clientAs ? ctx.clientAs({ name, groups }) : ctx.client;
}
