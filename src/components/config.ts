// The cluster's tunables, typed, with their defaults in this one place. `kube up` fills them from
// its flags and tests from their options; each component reads the fields it knows. Durations
// are in milliseconds; the comments name the upstream flag where there is one.

export interface ClusterConfig {
  /** Service cluster IP range (--service-cluster-ip-range); unset: the API server's default, found from the kubernetes Service. */
  serviceCidr?: string;
  /** The pod range node IPAM hands each node a block of (--cluster-cidr); unset: no allocation, pods stay on the engine's default network. */
  clusterCidr?: string;
  /** Size of each node's block (--node-cidr-mask-size). */
  nodeCidrMaskSize: number;
  /** DNS domain of the cluster (--cluster-domain). */
  clusterDomain: string;
  /** Where the cluster DNS forwards other names (`host:port,...`); unset: the host's resolv.conf nameservers. */
  dnsUpstream?: string;
  /** Also answer the cluster domain for the host (systemd-resolved, else /etc/hosts). */
  hostDns: boolean;
  /** Remove the cluster's containers when the kubelet stops. */
  cleanOnExit: boolean;
  /** The proxy's data plane (--proxy-mode): "auto" tries nftables and falls back to userspace. */
  proxyMode: "auto" | "nftables" | "userspace";
  /** How the userspace proxy picks an endpoint. */
  proxyBalance: "roundrobin" | "random";
  /** Where Ingresses are served on 127.0.0.1 (0: a free port). */
  ingressPort: number;
  /** How long events are kept (kube-apiserver --event-ttl). */
  eventTtlMs: number;
  /** A node silent this long becomes NotReady/unreachable (--node-monitor-grace-period). */
  nodeMonitorGracePeriodMs: number;
  /** The same, for a node that never reported Ready (--node-startup-grace-period). */
  nodeStartupGracePeriodMs: number;
  /** An unreachable node's pods are deleted after this (--pod-eviction-timeout). */
  podEvictionTimeoutMs: number;
  /** A Job's pod failure back-off, doubled per failure (upstream's DefaultJobPodFailureBackOff). */
  jobBackoffBaseMs: number;
  /** How often every HPA is evaluated (--horizontal-pod-autoscaler-sync-period). */
  hpaSyncPeriodMs: number;
  /** Scale-down uses the highest recommendation of this window (--horizontal-pod-autoscaler-downscale-stabilization). */
  hpaDownscaleStabilizationMs: number;
}

/** The defaults, as upstream's; the ingress port is 80 only for root (a lower port needs privilege). */
export function defaultConfig(): ClusterConfig {
  return {
    clusterDomain: "cluster.local",
    nodeCidrMaskSize: 24,
    hostDns: false,
    cleanOnExit: false,
    proxyMode: "auto",
    proxyBalance: "roundrobin",
    ingressPort: process.getuid?.() === 0 ? 80 : 8080,
    eventTtlMs: 3_600_000,
    nodeMonitorGracePeriodMs: 40_000,
    nodeStartupGracePeriodMs: 60_000,
    podEvictionTimeoutMs: 300_000,
    jobBackoffBaseMs: 10_000,
    hpaSyncPeriodMs: 15_000,
    hpaDownscaleStabilizationMs: 300_000,
  };
}

/** The defaults with what is given on top (an undefined field keeps its default). */
export function clusterConfig(given: Partial<ClusterConfig> = {}): ClusterConfig {
  const config = defaultConfig();
  for (const [k, v] of Object.entries(given)) if (v !== undefined) Object.assign(config, { [k]: v });
  return config;
}
