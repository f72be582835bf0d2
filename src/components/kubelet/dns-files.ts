// A pod's /etc/resolv.conf and /etc/hosts, as the kubelet makes them (pkg/kubelet/network/dns and
// managedHostsFileContent): the dnsPolicy picks the base (ClusterFirst: the cluster DNS, the
// namespace's search list and ndots:5; Default: the host's; None: nothing), dnsConfig is merged
// in; the hosts file names the pod (its FQDN when it has a subdomain) and its hostAliases.
import type { Pod } from "../../api/kinds/pod.ts";
import type { ResolvConf } from "../../util/resolv-conf.ts";

const MAX_NAMESERVERS = 3;
const MAX_SEARCHES = 32;

const unique = (xs: string[]) => [...new Set(xs)];

export interface DnsSettings {
  /** The kube-dns Service's cluster IP, when there is one. */
  clusterDns?: string;
  domain: string;
  host: ResolvConf;
}

/** The pod's resolv.conf; `fallback` is set when ClusterFirst had to use the host's (no cluster DNS). */
export function podResolvConf(pod: Pod, s: DnsSettings): { text: string; fallback: boolean } {
  const spec = pod.spec;
  const policy = spec.dnsPolicy ?? "ClusterFirst";
  const ns = pod.metadata?.namespace ?? "default";
  let kind: "cluster" | "host" | "none" =
    policy === "None"
      ? "none"
      : policy === "Default"
        ? "host"
        : policy === "ClusterFirst" && spec.hostNetwork
          ? "host"
          : "cluster";
  const fallback = kind === "cluster" && !s.clusterDns;
  if (fallback) kind = "host";
  let nameservers: string[] = [];
  let searches: string[] = [];
  let options: string[] = [];
  if (kind === "cluster") {
    nameservers = [s.clusterDns!];
    searches = [`${ns}.svc.${s.domain}`, `svc.${s.domain}`, s.domain, ...s.host.searches];
    options = ["ndots:5"];
  } else if (kind === "host") ({ nameservers, searches, options } = s.host);
  const cfg = spec.dnsConfig;
  if (cfg) {
    nameservers = unique([...nameservers, ...(cfg.nameservers ?? [])]);
    searches = unique([...searches, ...(cfg.searches ?? [])]);
    // The pod's options replace the base's of the same name.
    const byName = new Map(options.map((o) => [o.split(":")[0]!, o]));
    for (const o of cfg.options ?? [])
      byName.set(o.name, o.value !== undefined && o.value !== "" ? `${o.name}:${o.value}` : o.name);
    options = [...byName.values()];
  }
  const lines = [
    ...(searches.length ? [`search ${unique(searches).slice(0, MAX_SEARCHES).join(" ")}`] : []),
    ...nameservers.slice(0, MAX_NAMESERVERS).map((n) => `nameserver ${n}`),
    ...(options.length ? [`options ${options.join(" ")}`] : []),
  ];
  return { text: lines.map((l) => l + "\n").join(""), fallback };
}

/** The pod's /etc/hosts. */
export function podHostsFile(pod: Pod, podIP: string, domain: string): string {
  const spec = pod.spec;
  const name = (spec.hostname ?? pod.metadata?.name ?? "").slice(0, 63);
  const lines = [
    "# Kubernetes-managed hosts file.",
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "fe00::0\tip6-mcastprefix",
    "fe00::1\tip6-allnodes",
    "fe00::2\tip6-allrouters",
  ];
  if (podIP)
    lines.push(
      spec.subdomain
        ? `${podIP}\t${name}.${spec.subdomain}.${pod.metadata?.namespace}.svc.${domain}\t${name}`
        : `${podIP}\t${name}`,
    );
  if (spec.hostAliases?.length) {
    lines.push("", "# Entries added by HostAliases.");
    for (const h of spec.hostAliases) lines.push(`${h.ip}\t${(h.hostnames ?? []).join("\t")}`);
  }
  return lines.join("\n") + "\n";
}
