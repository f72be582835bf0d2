// The small core/v1 kinds: Namespace, Node, Binding, ConfigMap, Secret, Event, Endpoints,
// and coordination.k8s.io/v1 Lease.
import type { Condition, KubeObject, ObjectReference } from "../types.ts";
import type { Taint } from "../scheduling.ts";
import * as v from "../validation.ts";
import { Causes } from "../validation.ts";
import { DataSchema, MetaOnlySchema, shapeCauses } from "../schema.ts";
import { age, ageColumn, col, defineKind, humanDuration, nameColumn, specOf, statusOf } from "./define.ts";

const noGeneration = () => false;

/** Namespaces the NamespaceLifecycle admission plugin never lets go (kube-node-lease is not one). */
const IMMORTAL_NAMESPACES = new Set(["default", "kube-system", "kube-public"]);

export const namespaceKind = defineKind({
  group: "",
  version: "v1",
  kind: "Namespace",
  resource: "namespaces",
  namespaced: false,
  shortNames: ["ns"],
  subresources: { status: true, extra: ["finalize"] },
  hasStatus: true,
  defaults(obj) {
    const spec = (obj.spec ??= {}) as NamespaceSpec;
    if (!obj.metadata?.deletionTimestamp) spec.finalizers ??= ["kubernetes"];
    const st = (obj.status ??= {}) as NamespaceStatus;
    st.phase ??= "Active";
    obj.metadata!.labels = { ...obj.metadata!.labels, "kubernetes.io/metadata.name": obj.metadata!.name ?? "" };
  },
  validate(obj) {
    const shape = shapeCauses(MetaOnlySchema, obj);
    if (shape.length) return shape;
    const c = new Causes();
    v.objectMeta(c, obj, "label");
    return c.list;
  },
  specChanged: noGeneration,
  hooks: {
    deletionForbidden: (name) => (IMMORTAL_NAMESPACES.has(name) ? "this namespace may not be deleted" : undefined),
    // The namespace controller empties it, then clears spec.finalizers through /finalize.
    holdsDeletion: (o) => (specOf<NamespaceSpec>(o).finalizers?.length ?? 0) > 0,
    onDeleting: (o) => void (o.status = { ...(o.status as object), phase: "Terminating" }),
  },
  fieldSelectors: { "status.phase": (o) => statusOf<NamespaceStatus>(o).phase },
  table: {
    columns: [nameColumn, col("Status"), ageColumn],
    row: (o, now) => [o.metadata?.name, statusOf<NamespaceStatus>(o).phase ?? "Active", age(o, now)],
  },
});

export interface NamespaceSpec {
  finalizers?: string[];
}
export interface NamespaceStatus {
  phase?: "Active" | "Terminating";
  conditions?: Condition[];
}
export interface Namespace extends KubeObject {
  spec?: NamespaceSpec;
  status?: NamespaceStatus;
}

export interface NodeSpec {
  unschedulable?: boolean;
  taints?: Taint[];
  podCIDR?: string;
  podCIDRs?: string[];
  providerID?: string;
}
/** A Node's condition (NodeCondition). */
export interface NodeCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}
export interface NodeAddress {
  type: "InternalIP" | "ExternalIP" | "Hostname" | "InternalDNS" | "ExternalDNS" | string;
  address: string;
}
export interface NodeSystemInfo {
  kubeletVersion: string;
  kubeProxyVersion: string;
  operatingSystem: string;
  architecture: string;
  osImage: string;
  kernelVersion: string;
  containerRuntimeVersion: string;
  machineID: string;
  systemUUID: string;
  bootID: string;
}
export interface NodeStatus {
  capacity?: Record<string, string>;
  allocatable?: Record<string, string>;
  addresses?: NodeAddress[];
  conditions?: NodeCondition[];
  /** The kubelet's port, as upstream spells it (`Port`). */
  daemonEndpoints?: { kubeletEndpoint?: { Port: number } };
  nodeInfo?: NodeSystemInfo;
}
export interface Node extends KubeObject {
  spec?: NodeSpec;
  status?: NodeStatus;
}

/** core/v1 Event (the one kubectl describe shows). */
export interface Event extends KubeObject {
  involvedObject: ObjectReference;
  reason?: string;
  message?: string;
  type?: "Normal" | "Warning" | string;
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string | null;
  source?: { component?: string; host?: string };
  reportingComponent?: string;
  reportingInstance?: string;
  action?: string;
  related?: ObjectReference;
  series?: { count?: number; lastObservedTime?: string };
}

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef?: ObjectReference;
}
export interface EndpointPort {
  name?: string;
  port: number;
  protocol?: string;
  appProtocol?: string;
}
export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}
export interface Endpoints extends KubeObject {
  subsets?: EndpointSubset[];
}

/** coordination.k8s.io/v1 LeaseSpec; the times are MicroTime. */
export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}
export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

export function nodeStatusText(node: KubeObject): string {
  const ready = statusOf<NodeStatus>(node).conditions?.find((c) => c.type === "Ready");
  let s = ready?.status === "True" ? "Ready" : ready?.status === "False" ? "NotReady" : "Unknown";
  if (specOf<NodeSpec>(node).unschedulable) s += ",SchedulingDisabled";
  return s;
}

export const nodeKind = defineKind({
  group: "",
  version: "v1",
  kind: "Node",
  resource: "nodes",
  namespaced: false,
  shortNames: ["no"],
  subresources: { status: true, extra: ["proxy"] },
  hasStatus: true,
  hooks: { keepStatusOnCreate: true },
  validate(obj) {
    const shape = shapeCauses(MetaOnlySchema, obj);
    if (shape.length) return shape;
    const c = new Causes();
    v.objectMeta(c, obj);
    // Before any shape check: an entry may be anything, hence the `?.`.
    for (const [i, t] of (specOf<NodeSpec>(obj).taints ?? []).entries()) {
      if (!t?.key) c.required(`spec.taints[${i}].key`);
      v.oneOf(c, `spec.taints[${i}].effect`, t?.effect, ["NoSchedule", "PreferNoSchedule", "NoExecute"], true);
    }
    return c.list;
  },
  fieldSelectors: { "spec.unschedulable": (o) => String(!!specOf<NodeSpec>(o).unschedulable) },
  table: {
    columns: [
      nameColumn,
      col("Status"),
      col("Roles"),
      ageColumn,
      col("Version"),
      col("Internal-IP", 1),
      col("External-IP", 1),
      col("OS-Image", 1),
      col("Kernel-Version", 1),
      col("Container-Runtime", 1),
    ],
    row(o, now) {
      const st = statusOf<NodeStatus>(o);
      const info: Partial<NodeSystemInfo> = st.nodeInfo ?? {};
      const addr = (t: string) => (st.addresses ?? []).find((a) => a.type === t)?.address ?? "<none>";
      const roles =
        Object.keys(o.metadata?.labels ?? {})
          .filter((k) => k.startsWith("node-role.kubernetes.io/"))
          .map((k) => k.split("/")[1])
          .join(",") || "<none>";
      return [
        o.metadata?.name,
        nodeStatusText(o),
        roles,
        age(o, now),
        info.kubeletVersion ?? "",
        addr("InternalIP"),
        addr("ExternalIP"),
        info.osImage ?? "<unknown>",
        info.kernelVersion ?? "<unknown>",
        info.containerRuntimeVersion ?? "<unknown>",
      ];
    },
  },
});

export const bindingKind = defineKind({
  group: "",
  version: "v1",
  kind: "Binding",
  resource: "bindings",
  namespaced: true,
  verbs: ["create"],
  validate(obj) {
    const shape = shapeCauses(MetaOnlySchema, obj);
    if (shape.length) return shape;
    const c = new Causes();
    v.objectMeta(c, obj);
    if (!(obj.target as { name?: string } | undefined)?.name) c.required("target.name");
    return c.list;
  },
  table: { columns: [nameColumn, ageColumn], row: (o, now) => [o.metadata?.name, age(o, now)] },
});

function validateDataKeys(c: Causes, field: string, data: unknown): void {
  if (data === undefined || data === null) return;
  if (!v.isObject(data)) return c.invalid(field, data, "must be a map");
  for (const [k, val] of Object.entries(data)) {
    if (!/^[-._a-zA-Z0-9]+$/.test(k) || k.length > 253)
      c.invalid(
        `${field}[${k}]`,
        k,
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
      );
    if (typeof val !== "string") c.invalid(`${field}[${k}]`, val, "must be a string");
  }
}

export interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
  immutable?: boolean;
}
/** data is base64; stringData is write-only (merged into data by defaulting). */
export interface Secret extends KubeObject {
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  immutable?: boolean;
}

export const configMapKind = defineKind({
  group: "",
  version: "v1",
  kind: "ConfigMap",
  resource: "configmaps",
  namespaced: true,
  shortNames: ["cm"],
  validate(obj) {
    const shape = shapeCauses(DataSchema, obj);
    if (shape.length) return shape;
    const c = new Causes();
    v.objectMeta(c, obj);
    validateDataKeys(c, "data", obj.data);
    validateDataKeys(c, "binaryData", obj.binaryData);
    return c.list;
  },
  specChanged: noGeneration,
  table: {
    columns: [nameColumn, col("Data", 0, "integer"), ageColumn],
    row: (o, now) => [
      o.metadata?.name,
      Object.keys((o.data as object) ?? {}).length + Object.keys((o.binaryData as object) ?? {}).length,
      age(o, now),
    ],
  },
});

export const secretKind = defineKind({
  group: "",
  version: "v1",
  kind: "Secret",
  resource: "secrets",
  namespaced: true,
  defaults(obj) {
    obj.type ??= "Opaque";
    // stringData is write-only: merged into data (base64) on every write.
    if (v.isObject(obj.stringData)) {
      const data = ((obj.data as Record<string, string>) ??= {});
      for (const [k, val] of Object.entries(obj.stringData)) data[k] = Buffer.from(String(val)).toString("base64");
      delete obj.stringData;
    }
  },
  validate(obj) {
    const shape = shapeCauses(DataSchema, obj);
    if (shape.length) return shape;
    const c = new Causes();
    v.objectMeta(c, obj);
    validateDataKeys(c, "data", obj.data);
    for (const [k, val] of Object.entries((obj.data as Record<string, unknown>) ?? {}))
      if (typeof val === "string" && !/^[A-Za-z0-9+/]*={0,2}$/.test(val))
        c.invalid(`data[${k}]`, "<secret contents redacted>", "illegal base64 data");
    return c.list;
  },
  specChanged: noGeneration,
  fieldSelectors: { type: (o) => o.type as string | undefined },
  table: {
    columns: [nameColumn, col("Type"), col("Data", 0, "integer"), ageColumn],
    row: (o, now) => [o.metadata?.name, o.type ?? "Opaque", Object.keys((o.data as object) ?? {}).length, age(o, now)],
  },
});

const involved = (f: string) => (o: KubeObject) => (o.involvedObject as Record<string, string> | undefined)?.[f];

export const eventKind = defineKind({
  group: "",
  version: "v1",
  kind: "Event",
  resource: "events",
  namespaced: true,
  shortNames: ["ev"],
  defaults(obj) {
    obj.type ??= "Normal";
    obj.count ??= 1;
  },
  validate(obj) {
    const shape = shapeCauses(MetaOnlySchema, obj);
    if (shape.length) return shape;
    const c = new Causes();
    v.objectMeta(c, obj);
    if (!v.isObject(obj.involvedObject)) c.required("involvedObject");
    v.oneOf(c, "type", obj.type, ["Normal", "Warning"]);
    return c.list;
  },
  specChanged: noGeneration,
  fieldSelectors: {
    "involvedObject.kind": involved("kind"),
    "involvedObject.namespace": involved("namespace"),
    "involvedObject.name": involved("name"),
    "involvedObject.uid": involved("uid"),
    "involvedObject.apiVersion": involved("apiVersion"),
    "involvedObject.resourceVersion": involved("resourceVersion"),
    "involvedObject.fieldPath": involved("fieldPath"),
    reason: (o) => o.reason as string | undefined,
    type: (o) => o.type as string | undefined,
    source: (o) => (o.source as { component?: string } | undefined)?.component,
  },
  table: {
    columns: [col("Last Seen"), col("Type"), col("Reason"), col("Object"), col("Message")],
    row(o, now) {
      const last = (o.lastTimestamp ?? o.eventTime ?? o.metadata?.creationTimestamp) as string | undefined;
      const io = (o.involvedObject ?? {}) as Record<string, string>;
      return [
        last ? humanDuration(now.getTime() - Date.parse(last)) : "<unknown>",
        o.type ?? "",
        o.reason ?? "",
        `${(io.kind ?? "").toLowerCase()}/${io.name ?? ""}`,
        o.message ?? "",
      ];
    },
  },
});

export const endpointsKind = defineKind({
  group: "",
  version: "v1",
  kind: "Endpoints",
  resource: "endpoints",
  singular: "endpoints",
  namespaced: true,
  shortNames: ["ep"],
  defaults(obj) {
    for (const s of (obj.subsets ?? []) as EndpointSubset[]) for (const p of s?.ports ?? []) p.protocol ??= "TCP";
  },
  validate(obj) {
    const shape = shapeCauses(MetaOnlySchema, obj);
    if (shape.length) return shape;
    const c = new Causes();
    v.objectMeta(c, obj);
    ((obj.subsets ?? []) as EndpointSubset[]).forEach((s, i) => {
      (s?.addresses ?? []).forEach((a, j) => {
        if (!a?.ip) c.required(`subsets[${i}].addresses[${j}].ip`);
      });
      (s?.ports ?? []).forEach((p, j) => v.port(c, `subsets[${i}].ports[${j}].port`, p?.port));
    });
    return c.list;
  },
  specChanged: noGeneration,
  table: {
    columns: [nameColumn, col("Endpoints"), ageColumn],
    row(o, now) {
      const eps: string[] = [];
      for (const s of (o.subsets ?? []) as EndpointSubset[])
        for (const a of s.addresses ?? [])
          for (const p of s.ports?.length ? s.ports : [undefined]) eps.push(p ? `${a.ip}:${p.port}` : a.ip);
      const shown = eps.slice(0, 3).join(",") + (eps.length > 3 ? ` + ${eps.length - 3} more...` : "");
      return [o.metadata?.name, shown || "<none>", age(o, now)];
    },
  },
});

export const leaseKind = defineKind({
  group: "coordination.k8s.io",
  version: "v1",
  kind: "Lease",
  resource: "leases",
  namespaced: true,
  validate(obj) {
    const shape = shapeCauses(MetaOnlySchema, obj);
    if (shape.length) return shape;
    const c = new Causes();
    v.objectMeta(c, obj);
    return c.list;
  },
  table: {
    columns: [nameColumn, col("Holder"), ageColumn],
    row: (o, now) => [o.metadata?.name, specOf<LeaseSpec>(o).holderIdentity ?? "", age(o, now)],
  },
});
