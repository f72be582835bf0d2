// Pod Security Admission: a namespace's `pod-security.kubernetes.io/enforce|warn|audit` labels
// pick a level (privileged, baseline, restricted). Enforce refuses a violating pod with upstream's
// 403; warn adds upstream's warning to the response, for pods and for workload pod templates
// (which are never refused, as upstream). Labelling a namespace with a stricter enforce level
// warns about the pods already there that would violate it. A pod update is checked again when it
// changes what the checks see (upstream's isSignificantPodUpdate: a container's image or seccomp
// annotation, the number of containers, an ephemeral container added or changed); status and
// metadata-only updates are not. The `audit` label is accepted but has no effect: upstream records
// audit-mode violations only as audit-log annotations, and this API server keeps no audit log.
import type { Container, Pod } from "../../api/kinds/pod.ts";
import { evaluatePod, formatViolations, namespacePolicy, podTemplateOf } from "../../api/pod-security.ts";
import type { KindDef, KubeObject } from "../../api/types.ts";
import type { Store } from "../../store/types.ts";
import { decode, decodeShared } from "./codec.ts";
import { forbidden, qualified } from "./errors.ts";
import { listPrefix, objectKey } from "./paths.ts";

export interface PodSecurity {
  /** Refuses (enforce) or adds warnings (warn) for a create (`old` undefined) or update. */
  admit(kind: KindDef, obj: KubeObject, old: KubeObject | undefined, warnings: string[]): Promise<void>;
}

type Labels = Record<string, string> | undefined;

const SECCOMP_POD = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER = "container.seccomp.security.alpha.kubernetes.io/";

/** Upstream's isSignificantPodUpdate (pod-security-admission/admission/admission.go). */
export function significantPodUpdate(pod: Pod, old: Pod): boolean {
  const a = pod.metadata?.annotations ?? {};
  const oa = old.metadata?.annotations ?? {};
  if (a[SECCOMP_POD] !== oa[SECCOMP_POD]) return true;
  const changed = (c: Container, o: Container) =>
    c.image !== o.image || a[SECCOMP_CONTAINER + c.name] !== oa[SECCOMP_CONTAINER + o.name];
  for (const field of ["containers", "initContainers"] as const) {
    const now = pod.spec?.[field] ?? [];
    const before = old.spec?.[field] ?? [];
    if (now.length !== before.length || now.some((c, i) => changed(c, before[i]!))) return true;
  }
  const before = old.spec?.ephemeralContainers ?? [];
  return (pod.spec?.ephemeralContainers ?? []).some((c) => {
    const o = before.find((x) => x.name === c.name);
    return !o || changed(c, o);
  });
}
const policyText = (p: { level: string; version: string }) => `${p.level}:${p.version}`;

export function createPodSecurity(
  store: Store,
  namespaces: KindDef | undefined,
  pods: KindDef | undefined,
): PodSecurity {
  async function namespaceLabels(ns: string): Promise<Labels> {
    if (!namespaces) return undefined;
    const { kv } = await store.get(objectKey(namespaces, undefined, ns));
    return kv ? decodeShared(kv).metadata?.labels : undefined;
  }

  /** Upstream's warnings about existing pods when a namespace's enforce level changes. */
  async function existingPods(ns: string, labels: Labels, oldLabels: Labels, warnings: string[]): Promise<void> {
    const enforce = namespacePolicy(labels, "enforce");
    const before = namespacePolicy(oldLabels, "enforce");
    if (!enforce || enforce.level === "privileged" || !pods || (before && policyText(before) === policyText(enforce)))
      return;
    const byReason = new Map<string, { name: string; count: number }>();
    for (const kv of (await store.list(listPrefix(pods, ns))).kvs) {
      const pod = decode(kv) as Pod;
      const vs = evaluatePod(enforce.level, pod.spec, pod.metadata?.annotations ?? {});
      if (!vs.length) continue;
      const reason = vs.map((v) => v.reason).join(", ");
      const seen = byReason.get(reason);
      if (!seen) byReason.set(reason, { name: pod.metadata!.name!, count: 1 });
      else {
        seen.count++;
        if (pod.metadata!.name! < seen.name) seen.name = pod.metadata!.name!;
      }
    }
    if (!byReason.size) return;
    warnings.push(
      `existing pods in namespace "${ns}" violate the new PodSecurity enforce level "${policyText(enforce)}"`,
    );
    for (const [reason, { name, count }] of byReason)
      warnings.push(count === 1 ? `${name}: ${reason}` : `${name} (and ${count - 1} other pods): ${reason}`);
  }

  return {
    async admit(kind, obj, old, warnings) {
      if (kind.kind === "Namespace" && !kind.group)
        return existingPods(obj.metadata!.name!, obj.metadata?.labels, old?.metadata?.labels, warnings);
      const isPod = kind.kind === "Pod" && !kind.group;
      if (isPod && old && !significantPodUpdate(obj as Pod, old as Pod)) return;
      const template = isPod ? (obj as Pod) : podTemplateOf(kind.kind, obj as { spec?: unknown; template?: unknown });
      if (!template?.spec || !obj.metadata?.namespace) return;
      const labels = await namespaceLabels(obj.metadata.namespace);
      if (!labels) return;
      const annotations = template.metadata?.annotations ?? {};
      const enforce = isPod ? namespacePolicy(labels, "enforce") : undefined;
      if (enforce) {
        const vs = evaluatePod(enforce.level, template.spec, annotations);
        if (vs.length)
          throw forbidden(
            `${qualified(kind.resource, kind.group)} "${obj.metadata.name ?? ""}" is forbidden: violates PodSecurity "${policyText(enforce)}": ${formatViolations(vs)}`,
          );
      }
      const warn = namespacePolicy(labels, "warn");
      if (warn && (!enforce || policyText(warn) !== policyText(enforce))) {
        const vs = evaluatePod(warn.level, template.spec, annotations);
        if (vs.length) warnings.push(`would violate PodSecurity "${policyText(warn)}": ${formatViolations(vs)}`);
      }
    },
  };
}
