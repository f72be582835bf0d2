// Pod: defaults and validation as Kubernetes applies them, the pod-template rules the
// workload kinds share, and the STATUS text kubectl shows.
import type { KubeObject, ObjectMeta } from "../types.ts";
import type { Affinity, Toleration, TopologySpreadConstraint } from "../scheduling.ts";
import { cpuMillis, isValidQuantity, memoryBytes, parseQuantity } from "../quantity.ts";
import * as v from "../validation.ts";
import { Causes } from "../validation.ts";
import { PodSchema, shapeCauses } from "../schema.ts";
import { age, col, defineKind, nameColumn, ageColumn, specOf, statusOf } from "./define.ts";

export interface ContainerPort {
  name?: string;
  containerPort: number;
  hostPort?: number;
  hostIP?: string;
  protocol?: string;
}
/** A key of a ConfigMap or Secret (configMapKeyRef, secretKeyRef). */
export interface KeySelector {
  name?: string;
  key: string;
  optional?: boolean;
}
export interface EnvVarSource {
  fieldRef?: { apiVersion?: string; fieldPath: string };
  resourceFieldRef?: { containerName?: string; resource: string; divisor?: string };
  configMapKeyRef?: KeySelector;
  secretKeyRef?: KeySelector;
}
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: EnvVarSource;
}
/** A whole ConfigMap or Secret as environment variables. */
export interface EnvFromSource {
  prefix?: string;
  configMapRef?: { name?: string; optional?: boolean };
  secretRef?: { name?: string; optional?: boolean };
}
export interface Probe {
  exec?: { command: string[] };
  httpGet?: {
    path?: string;
    port: number | string;
    host?: string;
    scheme?: string;
    httpHeaders?: { name: string; value: string }[];
  };
  tcpSocket?: { port: number | string; host?: string };
  grpc?: { port: number; service?: string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}
export interface SeccompProfile {
  type: "RuntimeDefault" | "Unconfined" | "Localhost" | string;
  localhostProfile?: string;
}
export interface SecurityContext {
  privileged?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  procMount?: string;
  seccompProfile?: SeccompProfile;
  appArmorProfile?: SeccompProfile;
  seLinuxOptions?: { user?: string; role?: string; type?: string; level?: string };
  windowsOptions?: { hostProcess?: boolean; [k: string]: unknown };
}
export interface PodSecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  fsGroup?: number;
  supplementalGroups?: number[];
  sysctls?: { name: string; value: string }[];
  seccompProfile?: SeccompProfile;
  appArmorProfile?: SeccompProfile;
  seLinuxOptions?: SecurityContext["seLinuxOptions"];
  windowsOptions?: SecurityContext["windowsOptions"];
  fsGroupChangePolicy?: string;
}
export interface Container {
  name: string;
  securityContext?: SecurityContext;
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  ports?: ContainerPort[];
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  terminationMessagePath?: string;
  terminationMessagePolicy?: string;
  tty?: boolean;
  stdin?: boolean;
}
/** One key of a ConfigMap or Secret written as a file at path. */
export interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}
export interface ConfigMapVolumeSource {
  name: string;
  items?: KeyToPath[];
  optional?: boolean;
  defaultMode?: number;
}
export interface SecretVolumeSource {
  secretName: string;
  items?: KeyToPath[];
  optional?: boolean;
  defaultMode?: number;
}
/** A ConfigMap or Secret as one source of a projected volume (named `name` in both). */
export interface ObjectProjection {
  name?: string;
  items?: KeyToPath[];
  optional?: boolean;
}
export interface DownwardAPIVolumeFile {
  path: string;
  fieldRef?: { apiVersion?: string; fieldPath: string };
  resourceFieldRef?: { containerName?: string; resource: string; divisor?: string };
  mode?: number;
}
export interface DownwardAPIVolumeSource {
  items?: DownwardAPIVolumeFile[];
  defaultMode?: number;
}
export interface ServiceAccountTokenProjection {
  path: string;
  audience?: string;
  expirationSeconds?: number;
}
export interface VolumeProjection {
  configMap?: ObjectProjection;
  secret?: ObjectProjection;
  downwardAPI?: { items?: DownwardAPIVolumeFile[] };
  serviceAccountToken?: ServiceAccountTokenProjection;
}
export interface ProjectedVolumeSource {
  sources?: VolumeProjection[];
  defaultMode?: number;
}
export interface PersistentVolumeClaimVolumeSource {
  claimName: string;
  readOnly?: boolean;
}
export interface Volume {
  name: string;
  emptyDir?: { medium?: string; sizeLimit?: string };
  hostPath?: { path: string; type?: string };
  configMap?: ConfigMapVolumeSource;
  secret?: SecretVolumeSource;
  downwardAPI?: DownwardAPIVolumeSource;
  projected?: ProjectedVolumeSource;
  persistentVolumeClaim?: PersistentVolumeClaimVolumeSource;
  [k: string]: unknown;
}
export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  restartPolicy?: "Always" | "OnFailure" | "Never";
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  schedulerName?: string;
  terminationGracePeriodSeconds?: number;
  activeDeadlineSeconds?: number;
  dnsPolicy?: string;
  dnsConfig?: { nameservers?: string[]; searches?: string[]; options?: { name: string; value?: string }[] };
  hostAliases?: { ip: string; hostnames?: string[] }[];
  hostname?: string;
  subdomain?: string;
  tolerations?: Toleration[];
  affinity?: Affinity;
  topologySpreadConstraints?: TopologySpreadConstraint[];
  enableServiceLinks?: boolean;
  priority?: number;
  priorityClassName?: string;
  preemptionPolicy?: "PreemptLowerPriority" | "Never";
  serviceAccountName?: string;
  /** Deprecated: the v1 mirror of serviceAccountName, still written on defaulting. */
  serviceAccount?: string;
  automountServiceAccountToken?: boolean;
  imagePullSecrets?: { name?: string }[];
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: PodSecurityContext;
  ephemeralContainers?: Container[];
  [k: string]: unknown;
}
export interface ContainerStateRunning {
  startedAt: string;
}
export interface ContainerStateWaiting {
  reason: string;
  message?: string;
}
export interface ContainerStateTerminated {
  exitCode: number;
  reason: string;
  message?: string;
  signal?: number;
  startedAt?: string;
  finishedAt?: string;
  containerID?: string;
}
/** At most one of the three is set; none means the kubelet has not looked yet. */
export interface ContainerState {
  running?: ContainerStateRunning;
  waiting?: ContainerStateWaiting;
  terminated?: ContainerStateTerminated;
}
/** As the kubelet writes it: state and lastState are always there (maybe empty). */
export interface ContainerStatus {
  name: string;
  state: ContainerState;
  lastState: ContainerState;
  ready: boolean;
  started?: boolean;
  restartCount: number;
  image: string;
  imageID: string;
  containerID?: string;
}
export type PodPhase = "Pending" | "Running" | "Succeeded" | "Failed" | "Unknown";
export interface PodCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  lastProbeTime?: string | null;
  lastTransitionTime?: string;
}
export interface PodStatus {
  phase?: PodPhase;
  conditions?: PodCondition[];
  podIP?: string;
  podIPs?: { ip: string }[];
  hostIP?: string;
  startTime?: string;
  reason?: string;
  message?: string;
  containerStatuses?: ContainerStatus[];
  initContainerStatuses?: ContainerStatus[];
  qosClass?: string;
  nominatedNodeName?: string;
}
export interface Pod extends KubeObject {
  spec: PodSpec;
  status?: PodStatus;
}
/** The pod template of every workload kind (and of the PodTemplate kind). */
export interface PodTemplateSpec {
  metadata?: ObjectMeta;
  spec: PodSpec;
}

function defaultProbe(p: Probe | undefined): void {
  if (!p) return;
  p.timeoutSeconds ??= 1;
  p.periodSeconds ??= 10;
  p.successThreshold ??= 1;
  p.failureThreshold ??= 3;
  if (p.httpGet) {
    p.httpGet.path ??= "/";
    p.httpGet.scheme ??= "HTTP";
  }
  // SetDefaults_GRPCAction: service "" (kubectl describe dereferences it).
  const grpc = (p as { grpc?: { service?: string } }).grpc;
  if (grpc && typeof grpc === "object") grpc.service ??= "";
}

function defaultContainer(c: Container): void {
  if (!c || typeof c !== "object") return;
  if (!c.imagePullPolicy && typeof c.image === "string") {
    const tag = c.image.includes("@") ? "digest" : (c.image.split("/").pop() ?? "").split(":")[1];
    c.imagePullPolicy = !tag || tag === "latest" ? "Always" : "IfNotPresent";
  }
  c.terminationMessagePath ??= "/dev/termination-log";
  c.terminationMessagePolicy ??= "File";
  for (const p of c.ports ?? []) if (p && typeof p === "object") p.protocol ??= "TCP";
  // SetDefaults_ObjectFieldSelector: fieldRef.apiVersion "v1".
  for (const e of c.env ?? []) {
    const ref = (e?.valueFrom as { fieldRef?: { apiVersion?: string } } | undefined)?.fieldRef;
    if (ref && typeof ref === "object") ref.apiVersion ??= "v1";
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  // Kubernetes copies limits into missing requests.
  if (c.resources?.limits) {
    c.resources.requests ??= {};
    for (const [k, q] of Object.entries(c.resources.limits)) c.resources.requests[k] ??= q;
  }
}

export function defaultPodSpec(spec: PodSpec | undefined): void {
  if (!spec || typeof spec !== "object") return;
  spec.restartPolicy ??= "Always";
  spec.dnsPolicy ??= "ClusterFirst";
  spec.schedulerName ??= "default-scheduler";
  spec.terminationGracePeriodSeconds ??= 30;
  spec.enableServiceLinks ??= true;
  spec.priority ??= 0;
  spec.serviceAccountName ??= "default";
  // The deprecated mirror v1 still writes (Convert_core_PodSpec_To_v1_PodSpec).
  spec.serviceAccount ??= spec.serviceAccountName;
  spec.securityContext ??= {};
  if (Array.isArray(spec.containers)) spec.containers.forEach(defaultContainer);
  if (Array.isArray(spec.initContainers)) spec.initContainers.forEach(defaultContainer);
  for (const vol of spec.volumes ?? []) {
    if (!vol || typeof vol !== "object") continue;
    // SetDefaults_Volume: a volume without a source is an emptyDir.
    if (Object.keys(vol).every((k) => k === "name")) vol.emptyDir = {};
    if (vol.configMap) vol.configMap.defaultMode ??= 0o644;
    if (vol.secret) vol.secret.defaultMode ??= 0o644;
    for (const src of ["downwardAPI", "projected"] as const) {
      const s = vol[src] as { defaultMode?: number } | undefined;
      if (s && typeof s === "object") s.defaultMode ??= 0o644;
    }
    if (vol.hostPath && typeof vol.hostPath === "object") vol.hostPath.type ??= "";
  }
}

function validateProbe(c: Causes, field: string, p: Probe | undefined): void {
  if (!p) return;
  const handlers = ["exec", "httpGet", "tcpSocket", "grpc"].filter((h) => (p as Record<string, unknown>)[h]);
  if (handlers.length !== 1) c.required(field, "must specify a handler type");
  if (p.httpGet) v.intOrPortName(c, `${field}.httpGet.port`, p.httpGet.port);
  if (p.tcpSocket) v.intOrPortName(c, `${field}.tcpSocket.port`, p.tcpSocket.port);
  if (p.exec && (!Array.isArray(p.exec.command) || p.exec.command.length === 0)) c.required(`${field}.exec.command`);
  for (const f of [
    "initialDelaySeconds",
    "timeoutSeconds",
    "periodSeconds",
    "successThreshold",
    "failureThreshold",
  ] as const)
    v.nonNegativeInt(c, `${field}.${f}`, p[f]);
}

function validateContainers(c: Causes, field: string, list: unknown, volumes: Set<string>, required: boolean): void {
  if (list === undefined && !required) return;
  if (!Array.isArray(list) || list.length === 0) {
    if (required) c.required(field);
    return;
  }
  const names = new Set<string>();
  list.forEach((ct: Container, i) => {
    const f = `${field}[${i}]`;
    if (!v.isObject(ct)) return c.invalid(f, ct, "must be an object");
    if (!ct.name) c.required(`${f}.name`);
    else {
      v.dns1123Label(c, `${f}.name`, ct.name);
      if (names.has(ct.name)) c.duplicate(`${f}.name`, ct.name);
      names.add(ct.name);
    }
    if (!ct.image || typeof ct.image !== "string" || ct.image.trim() === "") c.required(`${f}.image`);
    for (const arr of ["command", "args"] as const)
      if (ct[arr] !== undefined && (!Array.isArray(ct[arr]) || ct[arr]!.some((s) => typeof s !== "string")))
        c.invalid(`${f}.${arr}`, ct[arr], "must be a list of strings");
    const portNames = new Set<string>();
    (ct.ports ?? []).forEach((p, j) => {
      const pf = `${f}.ports[${j}]`;
      v.port(c, `${pf}.containerPort`, p?.containerPort);
      if (p?.hostPort !== undefined && p.hostPort !== 0) v.port(c, `${pf}.hostPort`, p.hostPort);
      v.oneOf(c, `${pf}.protocol`, p?.protocol, ["TCP", "UDP", "SCTP"]);
      if (p?.name !== undefined) {
        v.portName(c, `${pf}.name`, p.name);
        if (portNames.has(p.name)) c.duplicate(`${pf}.name`, p.name);
        portNames.add(p.name);
      }
    });
    (ct.env ?? []).forEach((e, j) => {
      v.envName(c, `${f}.env[${j}].name`, e?.name);
      if (e?.value !== undefined && e.valueFrom !== undefined)
        c.invalid(`${f}.env[${j}].valueFrom`, "", "may not be specified when `value` is not empty");
    });
    const res = ct.resources ?? {};
    for (const kind of ["limits", "requests"] as const)
      for (const [k, q] of Object.entries(res[kind] ?? {})) {
        if (!isValidQuantity(q)) v.quantity(c, `${f}.resources.${kind}[${k}]`, q);
        else if (parseQuantity(q) < 0)
          c.invalid(`${f}.resources.${kind}[${k}]`, q, "must be greater than or equal to 0");
      }
    for (const k of ["cpu", "memory"]) {
      const lim = res.limits?.[k];
      const req = res.requests?.[k];
      if (lim && req && isValidQuantity(lim) && isValidQuantity(req)) {
        const [l, r] = k === "cpu" ? [cpuMillis(lim), cpuMillis(req)] : [memoryBytes(lim), memoryBytes(req)];
        if (r > l) c.invalid(`${f}.resources.requests`, req, `must be less than or equal to ${k} limit of ${lim}`);
      }
    }
    (ct.volumeMounts ?? []).forEach((m, j) => {
      if (!m?.name) c.required(`${f}.volumeMounts[${j}].name`);
      else if (!volumes.has(m.name))
        c.list.push({
          reason: "FieldValueNotFound",
          field: `${f}.volumeMounts[${j}].name`,
          message: `Not found: "${m.name}"`,
        });
      if (!m?.mountPath) c.required(`${f}.volumeMounts[${j}].mountPath`);
      if (m?.subPath) localDescendingPath(c, `${f}.volumeMounts[${j}].subPath`, m.subPath);
    });
    validateProbe(c, `${f}.livenessProbe`, ct.livenessProbe);
    validateProbe(c, `${f}.readinessProbe`, ct.readinessProbe);
    validateProbe(c, `${f}.startupProbe`, ct.startupProbe);
    v.oneOf(c, `${f}.imagePullPolicy`, ct.imagePullPolicy, ["Always", "IfNotPresent", "Never"]);
  });
}

/** A path that must stay inside its volume (subPath, item paths): relative, no `..` element, as upstream's validateLocalDescendingPath. */
function localDescendingPath(c: Causes, field: string, path: string): void {
  if (typeof path !== "string") return c.invalid(field, path, "must be a string");
  if (path.startsWith("/")) c.invalid(field, path, "must be a relative path");
  if (path.split("/").includes("..")) c.invalid(field, path, "must not contain '..'");
}

/** `claimVolumes`: names a StatefulSet's volumeClaimTemplates add to each pod. */
export function validatePodSpec(
  c: Causes,
  field: string,
  spec: PodSpec | undefined,
  claimVolumes: string[] = [],
): void {
  if (!v.isObject(spec)) return c.required(field);
  const volumes = new Set<string>(claimVolumes);
  (spec.volumes ?? []).forEach((vol, i) => {
    const f = `${field}.volumes[${i}]`;
    if (!vol?.name) return c.required(`${f}.name`);
    v.dns1123Label(c, `${f}.name`, vol.name);
    if (volumes.has(vol.name)) c.duplicate(`${f}.name`, vol.name);
    volumes.add(vol.name);
    const sources = Object.keys(vol).filter((k) => k !== "name");
    if (sources.length !== 1) c.required(f, "must specify exactly one volume type");
    if (vol.hostPath && !vol.hostPath.path) c.required(`${f}.hostPath.path`);
    if (vol.configMap && !vol.configMap.name) c.required(`${f}.configMap.name`);
    if (vol.secret && !vol.secret.secretName) c.required(`${f}.secret.secretName`);
    for (const src of ["configMap", "secret"] as const)
      (vol[src]?.items ?? []).forEach(
        (it, k) => it?.path && localDescendingPath(c, `${f}.${src}.items[${k}].path`, it.path),
      );
  });
  validateContainers(c, `${field}.containers`, spec.containers, volumes, true);
  validateContainers(c, `${field}.initContainers`, spec.initContainers, volumes, false);
  v.oneOf(c, `${field}.restartPolicy`, spec.restartPolicy, ["Always", "OnFailure", "Never"]);
  v.nonNegativeInt(c, `${field}.terminationGracePeriodSeconds`, spec.terminationGracePeriodSeconds);
  v.positiveInt(c, `${field}.activeDeadlineSeconds`, spec.activeDeadlineSeconds);
  if (spec.nodeName !== undefined && spec.nodeName !== "") v.dns1123Subdomain(c, `${field}.nodeName`, spec.nodeName);
  v.labels(c, `${field}.nodeSelector`, spec.nodeSelector);
  if (spec.hostname !== undefined) v.dns1123Label(c, `${field}.hostname`, spec.hostname);
  if (spec.subdomain !== undefined) v.dns1123Label(c, `${field}.subdomain`, spec.subdomain);
  validateDns(c, field, spec);
}

const isIPv4 = (s: unknown) =>
  typeof s === "string" && /^(\d{1,3})(\.\d{1,3}){3}$/.test(s) && s.split(".").every((p) => Number(p) <= 255);
const isIP = (s: unknown) => isIPv4(s) || (typeof s === "string" && s.includes(":") && /^[0-9a-fA-F:.]+$/.test(s));

/** dnsPolicy, dnsConfig and hostAliases, with kube-apiserver's messages (ValidatePodSpec). */
function validateDns(c: Causes, field: string, spec: PodSpec): void {
  v.oneOf(c, `${field}.dnsPolicy`, spec.dnsPolicy, ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]);
  const cfg = spec.dnsConfig;
  if (spec.dnsPolicy === "None" && !cfg)
    c.required(`${field}.dnsConfig`, "must provide `dnsConfig` when `dnsPolicy` is None");
  if (cfg) {
    const ns = cfg.nameservers ?? [];
    if (spec.dnsPolicy === "None" && ns.length === 0)
      c.required(`${field}.dnsConfig.nameservers`, "must provide at least one DNS nameserver when `dnsPolicy` is None");
    if (ns.length > 3) c.invalid(`${field}.dnsConfig.nameservers`, ns, "must not have more than 3 nameservers");
    ns.forEach((n, i) => isIP(n) || c.invalid(`${field}.dnsConfig.nameservers[${i}]`, n, "must be a valid IP address"));
    if ((cfg.searches ?? []).length > 32)
      c.invalid(`${field}.dnsConfig.searches`, cfg.searches, "must not have more than 32 search paths");
    (cfg.searches ?? []).forEach(
      (s, i) => s === "." || v.dns1123Subdomain(c, `${field}.dnsConfig.searches[${i}]`, String(s).replace(/\.$/, "")),
    );
    (cfg.options ?? []).forEach((o, i) => o?.name || c.required(`${field}.dnsConfig.options[${i}].name`));
  }
  (spec.hostAliases ?? []).forEach((h, i) => {
    if (!isIP(h?.ip)) c.invalid(`${field}.hostAliases[${i}].ip`, h?.ip, "must be valid IP address");
    (h?.hostnames ?? []).forEach((n, j) => v.dns1123Subdomain(c, `${field}.hostAliases[${i}].hostnames[${j}]`, n));
  });
}

/** A pod template as RC/RS/Deployment/DaemonSet/StatefulSet/Job carry it. */
export function validatePodTemplate(c: Causes, field: string, template: unknown, claimVolumes: string[] = []): void {
  if (!v.isObject(template)) return c.required(field);
  const meta = (template.metadata ?? {}) as Record<string, unknown>;
  v.labels(c, `${field}.metadata.labels`, meta.labels);
  v.annotations(c, `${field}.metadata.annotations`, meta.annotations);
  validatePodSpec(c, `${field}.spec`, template.spec as PodSpec, claimVolumes);
}

/** Pod spec fields that may change after creation (everything else is immutable). */
function podSpecUpdateAllowed(oldSpec: PodSpec, newSpec: PodSpec): boolean {
  const strip = (s: PodSpec) => ({
    ...s,
    containers: (s.containers ?? []).map((ct) => ({ ...ct, image: "" })),
    initContainers: (s.initContainers ?? []).map((ct) => ({ ...ct, image: "" })),
    activeDeadlineSeconds: undefined,
    tolerations: undefined,
    terminationGracePeriodSeconds: undefined,
  });
  return JSON.stringify(strip(oldSpec)) === JSON.stringify(strip(newSpec));
}

/** STATUS as kubectl prints it: a waiting/terminated reason, Completed, Terminating, or the phase. */
export function podStatusText(pod: KubeObject): string {
  const st = statusOf<PodStatus>(pod);
  let reason: string = st.reason ?? st.phase ?? "Pending";
  const init = st.initContainerStatuses ?? [];
  for (let i = 0; i < init.length; i++) {
    const s = init[i]!;
    if (s.state?.terminated?.exitCode === 0) continue;
    if (s.state?.terminated)
      reason = s.state.terminated.reason
        ? `Init:${s.state.terminated.reason}`
        : `Init:ExitCode:${s.state.terminated.exitCode}`;
    else if (s.state?.waiting?.reason && s.state.waiting.reason !== "PodInitializing")
      reason = `Init:${s.state.waiting.reason}`;
    else reason = `Init:${i}/${(specOf<PodSpec>(pod).initContainers ?? []).length}`;
    return pod.metadata?.deletionTimestamp ? "Terminating" : reason;
  }
  let running = false;
  for (const s of [...(st.containerStatuses ?? [])].reverse()) {
    if (s.state?.waiting?.reason) reason = s.state.waiting.reason;
    else if (s.state?.terminated?.reason) reason = s.state.terminated.reason;
    else if (s.state?.terminated)
      reason = s.state.terminated.signal
        ? `Signal:${s.state.terminated.signal}`
        : `ExitCode:${s.state.terminated.exitCode}`;
    else if (s.state?.running && s.ready) running = true;
  }
  if (reason === "Completed" && running) reason = "Running";
  if (pod.metadata?.deletionTimestamp) return st.reason === "NodeLost" ? "Unknown" : "Terminating";
  return reason;
}

export const podKind = defineKind({
  group: "",
  version: "v1",
  kind: "Pod",
  resource: "pods",
  namespaced: true,
  shortNames: ["po"],
  categories: ["all"],
  subresources: { status: true, extra: ["binding", "eviction", "log", "exec", "attach", "portforward"] },
  hasStatus: true,
  hooks: { deletionGrace: podGrace },
  defaults(obj) {
    // Not yet validated: defaultPodSpec and the line below skip a spec that is not an object.
    const spec = obj.spec as PodSpec | undefined;
    defaultPodSpec(spec);
    // The Priority admission plugin's default for pods without a priority class.
    if (spec && typeof spec === "object") spec.preemptionPolicy ??= "PreemptLowerPriority";
    const st = (obj.status ??= {}) as PodStatus;
    st.phase ??= "Pending";
    st.qosClass ??= qosClass(spec);
  },
  validate(obj, old) {
    const shape = shapeCauses(PodSchema, obj);
    if (shape.length) return shape;
    const c = new Causes();
    v.objectMeta(c, obj);
    validatePodSpec(c, "spec", obj.spec as PodSpec);
    if (old && v.isObject(obj.spec) && !podSpecUpdateAllowed(old.spec as PodSpec, obj.spec as PodSpec))
      c.forbidden(
        "spec",
        "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
      );
    return c.list;
  },
  fieldSelectors: {
    "spec.nodeName": (o) => specOf<PodSpec>(o).nodeName,
    "spec.schedulerName": (o) => specOf<PodSpec>(o).schedulerName,
    "spec.restartPolicy": (o) => specOf<PodSpec>(o).restartPolicy,
    "spec.serviceAccountName": (o) => specOf<PodSpec>(o).serviceAccountName,
    "status.phase": (o) => statusOf<PodStatus>(o).phase,
    "status.podIP": (o) => statusOf<PodStatus>(o).podIP,
    "status.nominatedNodeName": (o) => statusOf<PodStatus>(o).nominatedNodeName,
  },
  table: {
    columns: [
      nameColumn,
      col("Ready"),
      col("Status"),
      col("Restarts", 0, "string"),
      ageColumn,
      col("IP", 1),
      col("Node", 1),
      col("Nominated Node", 1),
      col("Readiness Gates", 1),
    ],
    row(obj, now) {
      const st = statusOf<PodStatus>(obj);
      const total = (specOf<PodSpec>(obj).containers ?? []).length;
      const ready = (st.containerStatuses ?? []).filter((s) => s.ready).length;
      const restarts = (st.containerStatuses ?? []).reduce((n, s) => n + (s.restartCount ?? 0), 0);
      return [
        obj.metadata?.name,
        `${ready}/${total}`,
        podStatusText(obj),
        String(restarts),
        age(obj, now),
        st.podIP ?? "<none>",
        specOf<PodSpec>(obj).nodeName ?? "<none>",
        st.nominatedNodeName ?? "<none>",
        "<none>",
      ];
    },
  },
});

function qosClass(spec: PodSpec | undefined): string {
  const cs = spec?.containers ?? [];
  if (!Array.isArray(cs)) return "BestEffort";
  let any = false;
  let guaranteed = cs.length > 0;
  for (const ct of cs) {
    const r = ct?.resources ?? {};
    if (Object.keys(r.requests ?? {}).length || Object.keys(r.limits ?? {}).length) any = true;
    for (const k of ["cpu", "memory"]) if (!r.limits?.[k] || r.requests?.[k] !== r.limits[k]) guaranteed = false;
  }
  return guaranteed ? "Guaranteed" : any ? "Burstable" : "BestEffort";
}

/** podutil.IsPodPhaseTerminal: Succeeded or Failed, its containers will not run again. */
export function isPodPhaseTerminal(phase: string | undefined): boolean {
  return phase === "Succeeded" || phase === "Failed";
}

/** The pod's phase is terminal. */
export function podTerminal(pod: KubeObject): boolean {
  return isPodPhaseTerminal(statusOf<PodStatus>(pod).phase);
}

/** controller.IsPodActive: neither terminal nor being deleted (what workload controllers count). */
export function podActive(pod: KubeObject): boolean {
  return !podTerminal(pod) && !pod.metadata?.deletionTimestamp;
}

/** podutil.IsPodAvailable: ready for at least minReadySeconds. */
export function podAvailable(pod: KubeObject, minReadySeconds: number, at = Date.now()): boolean {
  const c = (statusOf<PodStatus>(pod).conditions ?? []).find((x) => x.type === "Ready");
  if (c?.status !== "True") return false;
  if (!minReadySeconds) return true;
  return !!c.lastTransitionTime && at - Date.parse(c.lastTransitionTime) >= minReadySeconds * 1000;
}

/** Ready condition True: what controllers, budgets and endpoints count as a working pod. */
export function podReady(pod: KubeObject): boolean {
  return (statusOf<PodStatus>(pod).conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

/**
 * Grace period for a pod: bound, still-running pods get the requested or their own
 * terminationGracePeriodSeconds so the kubelet can stop them; everything else goes at once.
 */
function podGrace(obj: KubeObject, requested: number | undefined): number {
  const spec = specOf<PodSpec>(obj);
  if (!spec.nodeName || podTerminal(obj)) return 0;
  const g = requested ?? spec.terminationGracePeriodSeconds ?? 30;
  // Kubernetes turns a requested 0 into 1 for bound pods unless forced; a 0 here means "now".
  return Math.max(0, g);
}
