// The Node authorizer and NodeRestriction (plugin/pkg/auth/authorizer/node,
// plugin/pkg/admission/noderestriction): a kubelet (user system:node:NAME, group system:nodes)
// gets the system:node role's rules, but reads a Secret, ConfigMap, PersistentVolumeClaim or
// PersistentVolume, or requests a service account token, only when a pod bound to its node uses
// it; it changes only its own Node and Lease, and only the pods bound to it (status, deletion,
// eviction); it creates only mirror pods bound to itself.
import type { Pod, PodSpec } from "../../../api/kinds/pod.ts";
import type { PersistentVolumeClaim } from "../../../api/kinds/storage.ts";
import type { KindDef, KubeObject } from "../../../api/types.ts";
import { HttpError } from "../errors.ts";
import type { Matcher } from "../filters.ts";
import type { Objects } from "../objects.ts";
import type { Attributes, UserInfo } from "./attributes.ts";
import { CLUSTER_ROLES } from "./bootstrap-policy.ts";
import type { Decision } from "./rbac.ts";
import { rulesAllow } from "./rules.ts";

const NODE_RULES = CLUSTER_ROLES.find((r) => r.name === "system:node")!.rules;

/** The node a kubelet identity acts for. */
export function nodeOf(user: UserInfo): string | undefined {
  return user.name.startsWith("system:node:") && user.groups.includes("system:nodes")
    ? user.name.slice("system:node:".length)
    : undefined;
}

/** The names of the objects of one resource a pod uses. */
function references(spec: PodSpec, resource: string): string[] {
  const out: (string | undefined)[] = [];
  const containers = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  if (resource === "secrets") {
    for (const v of spec.volumes ?? [])
      out.push(v.secret?.secretName, ...(v.projected?.sources ?? []).map((s) => s.secret?.name));
    for (const c of containers)
      out.push(
        ...(c.env ?? []).map((e) => e.valueFrom?.secretKeyRef?.name),
        ...(c.envFrom ?? []).map((e) => e.secretRef?.name),
      );
    out.push(...(spec.imagePullSecrets ?? []).map((s) => s.name));
  } else if (resource === "configmaps") {
    for (const v of spec.volumes ?? [])
      out.push(v.configMap?.name, ...(v.projected?.sources ?? []).map((s) => s.configMap?.name));
    for (const c of containers)
      out.push(
        ...(c.env ?? []).map((e) => e.valueFrom?.configMapKeyRef?.name),
        ...(c.envFrom ?? []).map((e) => e.configMapRef?.name),
      );
  } else if (resource === "persistentvolumeclaims")
    out.push(...(spec.volumes ?? []).map((v) => v.persistentVolumeClaim?.claimName));
  else if (resource === "serviceaccounts") out.push(spec.serviceAccountName || "default");
  return out.filter((n): n is string => !!n);
}

const DENY = (reason: string): Decision => ({ allowed: false, reason });
const ALLOW: Decision = { allowed: true, reason: "" };

export class NodeAuthorizer {
  constructor(
    private readonly objects: Objects,
    private readonly lookup: (resource: string) => KindDef | undefined,
  ) {}

  /** Pods bound to the node that pass `and`; the stored text of pods bound elsewhere is skipped undecoded. */
  private onNode(node: string, and: (pod: Pod) => boolean = () => true): Matcher {
    const field = `"nodeName":${JSON.stringify(node)}`;
    return Object.assign((p: KubeObject) => (p as Pod).spec?.nodeName === node && and(p as Pod), {
      textFilter: (stored: string) => stored.includes(field),
    });
  }

  private async podsOn(node: string, namespace: string | undefined): Promise<Pod[]> {
    const pods = this.lookup("pods");
    if (!pods) return [];
    return (await this.objects.list(pods, namespace, { match: this.onNode(node) })).items as Pod[];
  }

  /** Whether a pod bound to the node uses the object (the authorizer's graph, read on demand). */
  private async related(node: string, resource: string, namespace: string, name: string): Promise<boolean> {
    if (resource === "persistentvolumes") {
      const pvcs = this.lookup("persistentvolumeclaims");
      for (const pod of await this.podsOn(node, undefined))
        for (const claim of references(pod.spec, "persistentvolumeclaims")) {
          const pvc = pvcs ? await this.objects.tryGet(pvcs, pod.metadata!.namespace, claim) : undefined;
          if ((pvc?.obj as PersistentVolumeClaim | undefined)?.spec?.volumeName === name) return true;
        }
      return false;
    }
    // One such pod is enough: the list ends at the first. Asked at every pod start (its token), so
    // it does not decode every pod of the namespace.
    const pods = this.lookup("pods");
    if (!pods) return false;
    const match = this.onNode(node, (p) => references(p.spec, resource).includes(name));
    return (await this.objects.list(pods, namespace, { match, limit: 1 })).items.length > 0;
  }

  async authorize(a: Attributes): Promise<Decision> {
    const node = nodeOf(a.user)!;
    if (!a.resourceRequest) return rulesAllow(a, NODE_RULES) ? ALLOW : DENY("");
    const noRelation = () => DENY(`no relationship found between node '${node}' and this object`);
    if (a.apiGroup === "") {
      if (
        ["secrets", "configmaps", "persistentvolumeclaims", "persistentvolumes"].includes(a.resource) &&
        !a.subresource
      ) {
        const readVerbs = a.resource === "secrets" || a.resource === "configmaps" ? ["get", "list", "watch"] : ["get"];
        if (!readVerbs.includes(a.verb)) return DENY(`can only read resources of this type`);
        if (!a.name) return DENY("can only get individual resources of this type");
        return (await this.related(node, a.resource, a.namespace, a.name)) ? ALLOW : noRelation();
      }
      // Not upstream: this kubelet reads the pod's account for automountServiceAccountToken
      // (upstream's ServiceAccount admission does that when the pod is created).
      if (a.resource === "serviceaccounts" && !a.subresource)
        return a.verb === "get" && (await this.related(node, "serviceaccounts", a.namespace, a.name))
          ? ALLOW
          : noRelation();
      if (a.resource === "serviceaccounts" && a.subresource === "token") {
        if (a.verb !== "create") return DENY("can only create tokens for individual service accounts");
        return (await this.related(node, "serviceaccounts", a.namespace, a.name)) ? ALLOW : noRelation();
      }
      if (a.resource === "nodes" && a.name && a.name !== node && !["get", "list", "watch"].includes(a.verb))
        return DENY(`node '${node}' cannot modify node '${a.name}'`);
      if (
        a.resource === "pods" &&
        a.name &&
        (a.verb === "delete" || a.subresource === "status" || a.subresource === "eviction")
      ) {
        const pods = this.lookup("pods");
        const pod = pods ? await this.objects.tryGet(pods, a.namespace, a.name) : undefined;
        if (pod && (pod.obj as Pod).spec?.nodeName !== node)
          return DENY(`node '${node}' can only modify pods bound to it`);
      }
    }
    if (a.apiGroup === "coordination.k8s.io" && a.resource === "leases") {
      if (a.namespace !== "kube-node-lease" || (a.verb !== "create" && a.name !== node))
        return DENY(`can only access node lease with the same name as the requesting node`);
    }
    return rulesAllow(a, NODE_RULES) ? ALLOW : DENY("");
  }

  /** NodeRestriction: what a kubelet writes must be its own. */
  async admit(user: UserInfo, kind: KindDef, _namespace: string | undefined, obj: KubeObject): Promise<void> {
    const node = nodeOf(user);
    if (!node) return;
    const refuse = (msg: string) => new HttpError(403, "Forbidden", msg);
    if (kind.kind === "Node" && obj.metadata?.name !== node)
      throw refuse(`node "${node}" is not allowed to modify node "${obj.metadata?.name}"`);
    if (kind.kind === "Lease" && obj.metadata?.name !== node)
      throw refuse(`node "${node}" is not allowed to modify lease "${obj.metadata?.name}"`);
    if (kind.kind === "Pod") {
      const spec = (obj as Pod).spec;
      if (spec?.nodeName !== node) throw refuse(`node "${node}" can only create pods with spec.nodeName set to itself`);
      if (!obj.metadata?.annotations?.["kubernetes.io/config.mirror"])
        throw refuse(
          `pod does not have "kubernetes.io/config.mirror" annotation, node "${node}" can only create mirror pods`,
        );
    }
  }
}
