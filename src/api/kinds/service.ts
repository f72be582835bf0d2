// Service: defaults (ClusterIP, TCP, targetPort = port), validation of ports and types, and
// kubectl's columns. Cluster IPs and node ports are assigned by the API server's allocator.
import type { Condition, KubeObject } from "../types.ts";
import * as v from "../validation.ts";
import { Causes } from "../validation.ts";
import { ServiceSchema, shapeCauses } from "../schema.ts";
import { age, ageColumn, col, defineKind, nameColumn, specOf, statusOf } from "./define.ts";

export interface ServicePort {
  name?: string;
  port: number;
  appProtocol?: string;
  targetPort?: number | string;
  nodePort?: number;
  protocol?: string;
}
export interface ServiceSpec {
  type?: string;
  selector?: Record<string, string>;
  ports?: ServicePort[];
  clusterIP?: string;
  clusterIPs?: string[];
  sessionAffinity?: string;
  sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
  externalName?: string;
  externalIPs?: string[];
  publishNotReadyAddresses?: boolean;
  externalTrafficPolicy?: "Cluster" | "Local";
  internalTrafficPolicy?: "Cluster" | "Local";
  ipFamilies?: string[];
  ipFamilyPolicy?: string;
  loadBalancerIP?: string;
  loadBalancerClass?: string;
  allocateLoadBalancerNodePorts?: boolean;
}
/** LoadBalancerIngress, as a Service's and an Ingress's status carry it. */
export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
  ipMode?: string;
  ports?: { port: number; protocol: string; error?: string }[];
}
export interface LoadBalancerStatus {
  ingress?: LoadBalancerIngress[];
}
export interface ServiceStatus {
  loadBalancer?: LoadBalancerStatus;
  conditions?: Condition[];
}
export interface Service extends KubeObject {
  spec?: ServiceSpec;
  status?: ServiceStatus;
}

export const serviceKind = defineKind({
  group: "",
  version: "v1",
  kind: "Service",
  resource: "services",
  namespaced: true,
  shortNames: ["svc"],
  categories: ["all"],
  subresources: { status: true },
  hasStatus: true,
  defaults(obj) {
    const spec = (obj.spec ??= {}) as ServiceSpec;
    spec.type ??= "ClusterIP";
    spec.sessionAffinity ??= "None";
    if (spec.sessionAffinity === "ClientIP") {
      spec.sessionAffinityConfig ??= {};
      spec.sessionAffinityConfig.clientIP ??= {};
      spec.sessionAffinityConfig.clientIP.timeoutSeconds ??= 10800;
    }
    for (const p of spec.ports ?? []) {
      if (!p || typeof p !== "object") continue;
      p.protocol ??= "TCP";
      p.targetPort ??= p.port;
    }
    if (spec.type !== "ExternalName") {
      spec.internalTrafficPolicy ??= "Cluster";
      // What the REST allocator sets on a single-stack IPv4 cluster; a headless service
      // without a selector asks for every family the cluster has.
      const headlessNoSelector = spec.clusterIP === "None" && Object.keys(spec.selector ?? {}).length === 0;
      spec.ipFamilyPolicy ??= headlessNoSelector ? "RequireDualStack" : "SingleStack";
      spec.ipFamilies ??= ["IPv4"];
    }
    if (spec.type === "NodePort" || spec.type === "LoadBalancer") spec.externalTrafficPolicy ??= "Cluster";
    if (spec.type === "LoadBalancer") spec.allocateLoadBalancerNodePorts ??= true;
    obj.status ??= { loadBalancer: {} };
  },
  validate(obj, old) {
    const shape = shapeCauses(ServiceSchema, obj);
    if (shape.length) return shape;
    const c = new Causes();
    v.objectMeta(c, obj, "label");
    const spec = specOf<ServiceSpec>(obj);
    v.oneOf(c, "spec.type", spec.type, ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]);
    v.oneOf(c, "spec.sessionAffinity", spec.sessionAffinity, ["None", "ClientIP"]);
    if (spec.type === "ExternalName" && !spec.externalName) c.required("spec.externalName");
    const ports = spec.ports ?? [];
    if (!Array.isArray(ports)) c.invalid("spec.ports", ports, "must be a list");
    else {
      if (ports.length === 0 && spec.type !== "ExternalName" && spec.clusterIP !== "None") c.required("spec.ports");
      const names = new Set<string>();
      const seen = new Set<string>();
      ports.forEach((p, i) => {
        const f = `spec.ports[${i}]`;
        if (ports.length > 1 && !p?.name) c.required(`${f}.name`);
        if (p?.name) {
          v.dns1123Label(c, `${f}.name`, p.name);
          if (names.has(p.name)) c.duplicate(`${f}.name`, p.name);
          names.add(p.name);
        }
        v.port(c, `${f}.port`, p?.port);
        v.oneOf(c, `${f}.protocol`, p?.protocol, ["TCP", "UDP", "SCTP"]);
        if (p?.targetPort !== undefined) v.intOrPortName(c, `${f}.targetPort`, p.targetPort);
        const key = `${p?.port}/${p?.protocol}`;
        if (seen.has(key)) c.duplicate(f, { port: p?.port, protocol: p?.protocol });
        seen.add(key);
      });
    }
    v.labels(c, "spec.selector", spec.selector);
    if (spec.clusterIP && spec.clusterIP !== "None" && !/^\d{1,3}(\.\d{1,3}){3}$/.test(spec.clusterIP))
      c.invalid("spec.clusterIP", spec.clusterIP, "must be empty, 'None', or a valid IP address");
    if (old) {
      const oldIp = specOf<ServiceSpec>(old).clusterIP;
      if (oldIp && spec.clusterIP && oldIp !== spec.clusterIP)
        c.invalid("spec.clusterIP", spec.clusterIP, "field is immutable");
    }
    return c.list;
  },
  table: {
    columns: [
      nameColumn,
      col("Type"),
      col("Cluster-IP"),
      col("External-IP"),
      col("Port(s)"),
      ageColumn,
      col("Selector", 1),
    ],
    row(o, now) {
      const spec = specOf<ServiceSpec>(o);
      const ports =
        (spec.ports ?? [])
          .map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ""}/${p.protocol ?? "TCP"}`)
          .join(",") || "<none>";
      // As kubectl's printer: a LoadBalancer's ingress addresses, then any externalIPs.
      const lb = (statusOf<ServiceStatus>(o).loadBalancer?.ingress ?? [])
        .map((i) => i.ip ?? i.hostname ?? "")
        .filter(Boolean);
      const ext =
        spec.type === "ExternalName"
          ? spec.externalName
          : spec.type === "LoadBalancer"
            ? [...lb, ...(spec.externalIPs ?? [])].join(",") || "<pending>"
            : spec.externalIPs?.join(",") || "<none>";
      const sel =
        Object.entries(spec.selector ?? {})
          .map(([k, val]) => `${k}=${val}`)
          .join(",") || "<none>";
      return [o.metadata?.name, spec.type, spec.clusterIP ?? "<none>", ext, ports, age(o, now), sel];
    },
  },
});
