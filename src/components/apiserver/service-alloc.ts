// ClusterIP and NodePort allocation for Services. The range is 10.43.0.0/16 as root (k3s's; the
// proxy makes it local to this machine, see docs/ARCHITECTURE.md), else 127.10.0.0/16, which Linux
// routes to loopback, so the proxy binds each service's own address without root. Conflicts are
// rejected here, never discovered at runtime.
import type { Service } from "../../api/kinds/service.ts";
import type { Cause } from "../../api/types.ts";
import { dnsServiceIp, intToIp, ipToInt, kubernetesServiceIp, parseCidr } from "../../api/cidr.ts";
import type { Reserved } from "./service-reservations.ts";

export { dnsServiceIp, kubernetesServiceIp, parseCidr };

export interface ServiceRanges {
  /** CIDR, e.g. 127.10.0.0/16 */
  clusterIpCidr: string;
  nodePortMin: number;
  nodePortMax: number;
}

export const defaultServiceRanges: ServiceRanges = {
  clusterIpCidr: "127.10.0.0/16",
  nodePortMin: 30000,
  nodePortMax: 32767,
};

/** kube up's default range: k3s's when root can make it local to this machine, else loopback. */
export const defaultServiceCidr = (root = process.getuid?.() === 0) =>
  root ? "10.43.0.0/16" : defaultServiceRanges.clusterIpCidr;

const isKubernetesService = (svc: Service) =>
  svc.metadata?.namespace === "default" && svc.metadata?.name === "kubernetes";

/**
 * Fills spec.clusterIP(s) and nodePorts; returns causes for requested values that are taken
 * or out of range. `old` is the stored service on update (its allocations are kept).
 */
export function allocateServiceAddresses(
  svc: Service,
  others: Service[],
  ranges: ServiceRanges,
  old?: Service,
  /** Values found reserved by another service (service-reservations.ts), as if in `others`. */
  taken: { ips: Iterable<string>; ports: Iterable<number> } = { ips: [], ports: [] },
): Cause[] {
  const spec = (svc.spec ??= {});
  const oldSpec = old?.spec;
  const causes: Cause[] = [];
  const usedIps = new Set<string>(taken.ips);
  const usedPorts = new Set<number>(taken.ports);
  for (const o of others) {
    const s = o.spec;
    if (s?.clusterIP && s.clusterIP !== "None") usedIps.add(s.clusterIP);
    for (const p of s?.ports ?? []) if (p.nodePort) usedPorts.add(p.nodePort);
  }
  if (spec.type === "ExternalName") return causes;

  if (oldSpec?.clusterIP && !spec.clusterIP) spec.clusterIP = oldSpec.clusterIP;
  if (oldSpec?.clusterIP && spec.clusterIP !== oldSpec.clusterIP)
    causes.push({
      reason: "FieldValueInvalid",
      field: "spec.clusterIPs[0]",
      message: `Invalid value: "${spec.clusterIP}": may not change once set`,
    });
  const { first, last } = parseCidr(ranges.clusterIpCidr);
  if (!spec.clusterIP && spec.clusterIPs?.[0]) spec.clusterIP = spec.clusterIPs[0];
  if (spec.clusterIP && spec.clusterIP !== "None" && !oldSpec?.clusterIP) {
    const n = ipToInt(spec.clusterIP);
    const reserved = isKubernetesService(svc) && n === first - 1;
    if (n === undefined || (!reserved && (n < first || n > last)))
      causes.push({
        reason: "FieldValueInvalid",
        field: "spec.clusterIPs",
        message: `Invalid value: ["${spec.clusterIP}"]: failed to allocate IP ${spec.clusterIP}: the provided IP (${spec.clusterIP}) is not in the valid range. The range of valid IPs is ${ranges.clusterIpCidr}`,
      });
    else if (usedIps.has(spec.clusterIP))
      causes.push({
        reason: "FieldValueInvalid",
        field: "spec.clusterIPs",
        message: `Invalid value: ["${spec.clusterIP}"]: failed to allocate IP ${spec.clusterIP}: provided IP is already allocated`,
      });
  } else if (!spec.clusterIP) {
    const size = last - first + 1;
    const start = Math.floor(Math.random() * size);
    // The DNS address is left for kube-dns, which asks for it by value.
    const dns = first + 8;
    for (let i = 0; i < size; i++) {
      const n = first + ((start + i) % size);
      const ip = intToIp(n);
      if (n !== dns && !usedIps.has(ip)) {
        spec.clusterIP = ip;
        break;
      }
    }
    if (!spec.clusterIP)
      causes.push({
        reason: "FieldValueInvalid",
        field: "spec.clusterIPs",
        message: "Invalid value: []: failed to allocate IP: range is full",
      });
  }
  if (spec.clusterIP) spec.clusterIPs = [spec.clusterIP];

  const wantsNodePorts = spec.type === "NodePort" || spec.type === "LoadBalancer";
  const mine = new Set<number>();
  (spec.ports ?? []).forEach((p, i) => {
    if (!wantsNodePorts) {
      if (p.nodePort)
        causes.push({
          reason: "FieldValueForbidden",
          field: `spec.ports[${i}].nodePort`,
          message: "Forbidden: may not be used when `type` is 'ClusterIP'",
        });
      return;
    }
    const kept = oldSpec?.ports?.find(
      (q) => q.port === p.port && (q.protocol ?? "TCP") === (p.protocol ?? "TCP"),
    )?.nodePort;
    if (!p.nodePort && kept) p.nodePort = kept;
    if (p.nodePort) {
      if (p.nodePort < ranges.nodePortMin || p.nodePort > ranges.nodePortMax)
        causes.push({
          reason: "FieldValueInvalid",
          field: `spec.ports[${i}].nodePort`,
          message: `Invalid value: ${p.nodePort}: provided port is not in the valid range. The range of valid ports is ${ranges.nodePortMin}-${ranges.nodePortMax}`,
        });
      else if (usedPorts.has(p.nodePort) || mine.has(p.nodePort))
        causes.push({
          reason: "FieldValueInvalid",
          field: `spec.ports[${i}].nodePort`,
          message: `Invalid value: ${p.nodePort}: provided port is already allocated`,
        });
      mine.add(p.nodePort);
      return;
    }
    const size = ranges.nodePortMax - ranges.nodePortMin + 1;
    const start = Math.floor(Math.random() * size);
    for (let k = 0; k < size; k++) {
      const port = ranges.nodePortMin + ((start + k) % size);
      if (!usedPorts.has(port) && !mine.has(port)) {
        p.nodePort = port;
        mine.add(port);
        return;
      }
    }
    causes.push({
      reason: "FieldValueInvalid",
      field: `spec.ports[${i}].nodePort`,
      message: "Invalid value: 0: range is full",
    });
  });
  return causes;
}

/** The cluster IP and node ports a service holds. */
export function serviceAddresses(svc: Service | undefined): Reserved[] {
  const spec = svc?.spec;
  const out: Reserved[] = [];
  if (spec?.clusterIP && spec.clusterIP !== "None") out.push({ kind: "ip", value: spec.clusterIP });
  for (const p of spec?.ports ?? []) if (p.nodePort) out.push({ kind: "port", value: p.nodePort });
  return out;
}

/** Values in `a` and not in `b`. */
export const addressesMinus = (a: Reserved[], b: Reserved[]): Reserved[] =>
  a.filter((r) => !b.some((q) => q.kind === r.kind && q.value === r.value));
