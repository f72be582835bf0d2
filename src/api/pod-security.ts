// The Pod Security Standards as upstream's k8s.io/pod-security-admission evaluates them: each
// check returns a reason and a detail with upstream's exact wording, run in upstream's order
// (baseline checks, then the restricted ones; the overlapping baseline checks only at baseline).
import type { CronJobSpec } from "./kinds/cronjob.ts";
import { specOf } from "./kinds/define.ts";
import type { Container, PodSpec, PodTemplateSpec } from "./kinds/pod.ts";
import type { JobSpec } from "./kinds/workloads.ts";

export type Level = "privileged" | "baseline" | "restricted";
export type Violation = { reason: string; detail: string };
type Check = (spec: PodSpec, annotations: Record<string, string>) => Violation | undefined;

const plural = (one: string, many: string, n: number) => (n === 1 ? one : many);
const joinQuote = (items: string[]) => (items.length ? `"${items.join('", "')}"` : "");
const sorted = (s: Iterable<string>) => [...new Set(s)].sort();
const containersOf = (spec: PodSpec): Container[] => [
  ...(spec.initContainers ?? []),
  ...(spec.containers ?? []),
  ...(spec.ephemeralContainers ?? []),
];
const named = (names: string[]) => `${plural("container", "containers", names.length)} ${joinQuote(names)}`;

/** "pod and container "c"": who set a forbidden value. */
function setters(podBad: boolean, containers: string[]): string[] {
  return [...(podBad ? ["pod"] : []), ...(containers.length ? [named(containers)] : [])];
}

const appArmorProfile: Check = (spec) => {
  const ok = (t?: string) => t === "RuntimeDefault" || t === "Localhost";
  const bad = new Set<string>();
  const podSc = spec.securityContext?.appArmorProfile;
  const podBad = !!podSc && !ok(podSc.type);
  if (podBad) bad.add(podSc!.type);
  const cs = containersOf(spec)
    .filter(
      (c) =>
        c.securityContext?.appArmorProfile &&
        !ok(c.securityContext.appArmorProfile.type) &&
        bad.add(c.securityContext.appArmorProfile.type),
    )
    .map((c) => c.name);
  const who = setters(podBad, cs);
  if (!who.length) return;
  return {
    reason: plural("forbidden AppArmor profile", "forbidden AppArmor profiles", bad.size),
    detail: `${who.join(" and ")} must not set AppArmor profile type to ${joinQuote(sorted(bad))}`,
  };
};

const hostNamespaces: Check = (spec) => {
  const used = [
    spec.hostIPC && "hostIPC=true",
    spec.hostNetwork && "hostNetwork=true",
    spec.hostPID && "hostPID=true",
  ].filter(Boolean) as string[];
  return used.length ? { reason: "host namespaces", detail: used.join(", ") } : undefined;
};

const hostPathVolumes: Check = (spec) => {
  const vols = (spec.volumes ?? []).filter((v) => v.hostPath).map((v) => v.name);
  return vols.length
    ? { reason: "hostPath volumes", detail: `${plural("volume", "volumes", vols.length)} ${joinQuote(vols)}` }
    : undefined;
};

const hostPorts: Check = (spec) => {
  const ports = new Set<string>();
  const cs = containersOf(spec)
    .filter((c) => {
      const hp = (c.ports ?? []).filter((p) => p.hostPort);
      for (const p of hp) ports.add(String(p.hostPort));
      return hp.length > 0;
    })
    .map((c) => c.name);
  if (!cs.length) return;
  return {
    reason: "hostPort",
    detail: `${named(cs)} ${plural("uses", "use", cs.length)} ${plural("hostPort", "hostPorts", ports.size)} ${sorted(ports).join(", ")}`,
  };
};

const privileged: Check = (spec) => {
  const cs = containersOf(spec)
    .filter((c) => c.securityContext?.privileged === true)
    .map((c) => c.name);
  return cs.length
    ? { reason: "privileged", detail: `${named(cs)} must not set securityContext.privileged=true` }
    : undefined;
};

const procMount: Check = (spec) => {
  const types = new Set<string>();
  const cs = containersOf(spec)
    .filter(
      (c) =>
        c.securityContext?.procMount !== undefined &&
        c.securityContext.procMount !== "Default" &&
        types.add(c.securityContext.procMount),
    )
    .map((c) => c.name);
  return cs.length
    ? {
        reason: "procMount",
        detail: `${named(cs)} must not set securityContext.procMount to ${joinQuote(sorted(types))}`,
      }
    : undefined;
};

const SELINUX_TYPES = new Set(["", "container_t", "container_init_t", "container_kvm_t"]);
const seLinuxOptions: Check = (spec) => {
  const badTypes = new Set<string>();
  let user = false;
  let role = false;
  const valid = (o: { type?: string; user?: string; role?: string }) => {
    let ok = true;
    if (!SELINUX_TYPES.has(o.type ?? "")) {
      badTypes.add(o.type ?? "");
      ok = false;
    }
    if (o.user) [ok, user] = [false, true];
    if (o.role) [ok, role] = [false, true];
    return ok;
  };
  const podBad = !!spec.securityContext?.seLinuxOptions && !valid(spec.securityContext.seLinuxOptions);
  const cs = containersOf(spec)
    .filter((c) => c.securityContext?.seLinuxOptions && !valid(c.securityContext.seLinuxOptions))
    .map((c) => c.name);
  const who = setters(podBad, cs);
  if (!who.length) return;
  const data: string[] = [];
  if (badTypes.size) {
    data.push(`${plural("type", "types", badTypes.size)} ${joinQuote(sorted(badTypes))}`);
    if (user) data.push("user may not be set");
    if (role) data.push("role may not be set");
  }
  return {
    reason: "seLinuxOptions",
    detail: `${who.join(" and ")} set forbidden securityContext.seLinuxOptions: ${data.join("; ")}`,
  };
};

const SYSCTLS = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_unprivileged_port_start",
]);
const sysctls: Check = (spec) => {
  const bad = (spec.securityContext?.sysctls ?? []).map((s) => s.name).filter((n) => !SYSCTLS.has(n));
  return bad.length ? { reason: "forbidden sysctls", detail: bad.join(", ") } : undefined;
};

const windowsHostProcess: Check = (spec) => {
  const podBad = spec.securityContext?.windowsOptions?.hostProcess === true;
  const cs = containersOf(spec)
    .filter((c) => c.securityContext?.windowsOptions?.hostProcess === true)
    .map((c) => c.name);
  const who = setters(podBad, cs);
  return who.length
    ? {
        reason: "hostProcess",
        detail: `${who.join(" and ")} must not set securityContext.windowsOptions.hostProcess=true`,
      }
    : undefined;
};

const BASELINE_CAPS = new Set([
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
]);
const capabilitiesBaseline: Check = (spec) => {
  const caps = new Set<string>();
  const cs = containersOf(spec)
    .filter((c) => {
      const bad = (c.securityContext?.capabilities?.add ?? []).filter((a) => !BASELINE_CAPS.has(a));
      for (const a of bad) caps.add(a);
      return bad.length > 0;
    })
    .map((c) => c.name);
  return cs.length
    ? {
        reason: "non-default capabilities",
        detail: `${named(cs)} must not include ${joinQuote(sorted(caps))} in securityContext.capabilities.add`,
      }
    : undefined;
};

const validSeccomp = (t?: string) => t === "RuntimeDefault" || t === "Localhost";
const seccompBaseline: Check = (spec) => {
  const bad = new Set<string>();
  const pod = spec.securityContext?.seccompProfile;
  const podBad = !!pod && !validSeccomp(pod.type);
  if (podBad) bad.add(pod!.type);
  const cs = containersOf(spec)
    .filter(
      (c) =>
        c.securityContext?.seccompProfile &&
        !validSeccomp(c.securityContext.seccompProfile.type) &&
        bad.add(c.securityContext.seccompProfile.type),
    )
    .map((c) => c.name);
  const who = setters(podBad, cs);
  return who.length
    ? {
        reason: "seccompProfile",
        detail: `${who.join(" and ")} must not set securityContext.seccompProfile.type to ${joinQuote(sorted(bad))}`,
      }
    : undefined;
};

const allowPrivilegeEscalation: Check = (spec) => {
  const cs = containersOf(spec)
    .filter((c) => c.securityContext?.allowPrivilegeEscalation !== false)
    .map((c) => c.name);
  return cs.length
    ? {
        reason: "allowPrivilegeEscalation != false",
        detail: `${named(cs)} must set securityContext.allowPrivilegeEscalation=false`,
      }
    : undefined;
};

const capabilitiesRestricted: Check = (spec) => {
  const missingDrop: string[] = [];
  const adding: string[] = [];
  const caps = new Set<string>();
  for (const c of containersOf(spec)) {
    const cap = c.securityContext?.capabilities;
    if (!cap) {
      missingDrop.push(c.name);
      continue;
    }
    if (!(cap.drop ?? []).includes("ALL")) missingDrop.push(c.name);
    const bad = (cap.add ?? []).filter((a) => a !== "NET_BIND_SERVICE");
    for (const a of bad) caps.add(a);
    if (bad.length) adding.push(c.name);
  }
  const details: string[] = [];
  if (missingDrop.length) details.push(`${named(missingDrop)} must set securityContext.capabilities.drop=["ALL"]`);
  if (adding.length)
    details.push(`${named(adding)} must not include ${joinQuote(sorted(caps))} in securityContext.capabilities.add`);
  return details.length ? { reason: "unrestricted capabilities", detail: details.join("; ") } : undefined;
};

const ALLOWED_VOLUMES = [
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
];
const restrictedVolumes: Check = (spec) => {
  const bad = sorted(
    (spec.volumes ?? [])
      .filter((v) => !ALLOWED_VOLUMES.some((t) => v[t] !== undefined && v[t] !== null))
      .map((v) => v.name),
  );
  // Go's %q of a []string: ["a" "b"].
  return bad.length
    ? {
        reason: "restricted volume types",
        detail: `volumes [${bad.map((n) => JSON.stringify(n)).join(" ")}] have restricted types`,
      }
    : undefined;
};

const runAsNonRoot: Check = (spec) => {
  const podValue = spec.securityContext?.runAsNonRoot;
  const explicit = containersOf(spec)
    .filter((c) => c.securityContext?.runAsNonRoot === false)
    .map((c) => c.name);
  const who = setters(podValue === false, explicit);
  if (who.length)
    return {
      reason: "runAsNonRoot != true",
      detail: `${who.join(" and ")} must not set securityContext.runAsNonRoot=false`,
    };
  const implicit = containersOf(spec)
    .filter((c) => c.securityContext?.runAsNonRoot === undefined && podValue !== true)
    .map((c) => c.name);
  return implicit.length
    ? { reason: "runAsNonRoot != true", detail: `pod or ${named(implicit)} must set securityContext.runAsNonRoot=true` }
    : undefined;
};

const runAsUser: Check = (spec) => {
  const cs = containersOf(spec)
    .filter((c) => c.securityContext?.runAsUser === 0)
    .map((c) => c.name);
  const who = setters(spec.securityContext?.runAsUser === 0, cs);
  return who.length ? { reason: "runAsUser=0", detail: `${who.join(" and ")} must not set runAsUser=0` } : undefined;
};

const seccompRestricted: Check = (spec) => {
  const bad = new Set<string>();
  const pod = spec.securityContext?.seccompProfile;
  const podBad = !!pod && !validSeccomp(pod.type);
  if (podBad) bad.add(pod!.type);
  const podSet = !!pod && !podBad;
  const explicit: string[] = [];
  const implicit: string[] = [];
  for (const c of containersOf(spec)) {
    const p = c.securityContext?.seccompProfile;
    if (p) {
      if (!validSeccomp(p.type)) {
        explicit.push(c.name);
        bad.add(p.type);
      }
    } else if (!podSet) implicit.push(c.name);
  }
  const who = setters(podBad, explicit);
  if (who.length)
    return {
      reason: "seccompProfile",
      detail: `${who.join(" and ")} must not set securityContext.seccompProfile.type to ${joinQuote(sorted(bad))}`,
    };
  return implicit.length
    ? {
        reason: "seccompProfile",
        detail: `pod or ${named(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
      }
    : undefined;
};

const BASELINE: Check[] = [
  appArmorProfile,
  hostNamespaces,
  hostPathVolumes,
  hostPorts,
  privileged,
  procMount,
  seLinuxOptions,
  sysctls,
  windowsHostProcess,
];
const BASELINE_ONLY: Check[] = [capabilitiesBaseline, seccompBaseline];
const RESTRICTED: Check[] = [
  allowPrivilegeEscalation,
  capabilitiesRestricted,
  restrictedVolumes,
  runAsNonRoot,
  runAsUser,
  seccompRestricted,
];

/** Every violation of `level` by a pod spec, in upstream's order. */
export function evaluatePod(level: Level, spec: PodSpec, annotations: Record<string, string> = {}): Violation[] {
  if (level === "privileged" || !spec || typeof spec !== "object") return [];
  const checks = level === "baseline" ? [...BASELINE, ...BASELINE_ONLY] : [...BASELINE, ...RESTRICTED];
  return checks.map((c) => c(spec, annotations)).filter((v): v is Violation => !!v);
}

/** `allowPrivilegeEscalation != false (container "c" must set ...), host namespaces (hostNetwork=true)` */
export function formatViolations(vs: Violation[]): string {
  return vs.map((v) => (v.detail ? `${v.reason} (${v.detail})` : v.reason)).join(", ");
}

export const LABEL_PREFIX = "pod-security.kubernetes.io/";
const LEVELS = new Set(["privileged", "baseline", "restricted"]);

/** The policy a namespace's labels set for one mode; an invalid level is the most restrictive, as upstream. */
export function namespacePolicy(
  labels: Record<string, string> | undefined,
  mode: "enforce" | "warn" | "audit",
): { level: Level; version: string } | undefined {
  const level = labels?.[`${LABEL_PREFIX}${mode}`];
  if (level === undefined) return undefined;
  const version = labels?.[`${LABEL_PREFIX}${mode}-version`] ?? "latest";
  return {
    level: LEVELS.has(level) ? (level as Level) : "restricted",
    version: /^(latest|v1\.\d+)$/.test(version) ? version : "latest",
  };
}

/** The pod template of a workload object (Deployment, Job, CronJob, PodTemplate, ...), if it has one. */
export function podTemplateOf(
  kind: string,
  obj: { spec?: unknown; template?: unknown },
): { metadata?: { annotations?: Record<string, string> }; spec?: PodSpec } | undefined {
  // Each workload's spec has a template; a CronJob's sits under jobTemplate.
  const spec = specOf<Pick<JobSpec, "template"> & Pick<CronJobSpec, "jobTemplate">>(obj);
  if (kind === "PodTemplate") return obj.template as PodTemplateSpec | undefined;
  if (kind === "CronJob") return spec.jobTemplate?.spec?.template;
  if (["Deployment", "ReplicaSet", "ReplicationController", "StatefulSet", "DaemonSet", "Job"].includes(kind))
    return spec.template;
  return undefined;
}
