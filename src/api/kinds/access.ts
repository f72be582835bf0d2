// ServiceAccount and the RBAC kinds (Role, RoleBinding, ClusterRole, ClusterRoleBinding):
// RBAC objects are enforced by the API server's authorizer (components/apiserver/auth); their
// names may be any path segment ("system:node"), as upstream.
import * as v from "../validation.ts";
import { Causes } from "../validation.ts";
import { MetaOnlySchema, shapeCauses } from "../schema.ts";
import { age, ageColumn, col, defineKind, nameColumn } from "./define.ts";
import type { KindDef, KubeObject, ObjectReference } from "../types.ts";
import type { LabelSelector } from "../selectors.ts";

/** rbac/v1 PolicyRule. */
export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}
/** A ClusterRole whose rules are the union of those of the ClusterRoles its selectors match. */
export interface AggregationRule {
  clusterRoleSelectors?: LabelSelector[];
}
/** rbac/v1 Role (namespaced) and ClusterRole: their fields are top-level (no spec). */
export interface Role extends KubeObject {
  rules?: PolicyRule[] | null;
}
export interface ClusterRole extends Role {
  aggregationRule?: AggregationRule | null;
}
export interface Subject {
  kind: string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}
export interface RoleRef {
  apiGroup: string;
  kind: string;
  name: string;
}
/** rbac/v1 RoleBinding and ClusterRoleBinding. */
export interface RoleBinding extends KubeObject {
  roleRef: RoleRef;
  subjects?: Subject[] | null;
}

function metaOnly(obj: KubeObject, names: v.NameRule = "subdomain"): ReturnType<KindDef["validate"]> {
  const shape = shapeCauses(MetaOnlySchema, obj);
  if (shape.length) return shape;
  const c = new Causes();
  v.objectMeta(c, obj, names);
  return c.list;
}

export interface ServiceAccount extends KubeObject {
  secrets?: ObjectReference[];
  imagePullSecrets?: { name?: string }[];
  automountServiceAccountToken?: boolean;
}

/** authentication.k8s.io/v1 TokenRequest, the body and answer of serviceaccounts/NAME/token. */
export interface TokenRequestSpec {
  audiences?: string[];
  expirationSeconds?: number;
  boundObjectRef?: { apiVersion?: string; kind?: string; name?: string; uid?: string } | null;
}
export interface TokenRequestStatus {
  token: string;
  expirationTimestamp: string;
}
export interface TokenRequest extends KubeObject {
  spec?: TokenRequestSpec;
  status?: TokenRequestStatus;
}

export const serviceAccountKind = defineKind({
  group: "",
  version: "v1",
  kind: "ServiceAccount",
  resource: "serviceaccounts",
  namespaced: true,
  shortNames: ["sa"],
  subresources: { extra: ["token"] },
  validate: (obj) => metaOnly(obj),
  specChanged: () => false,
  table: {
    columns: [nameColumn, col("Secrets", 0, "integer"), ageColumn],
    row: (o, now) => [o.metadata?.name, ((o.secrets as unknown[]) ?? []).length, age(o, now)],
  },
});

function rbac(kind: string, resource: string, namespaced: boolean, binding: boolean): KindDef {
  return defineKind({
    group: "rbac.authorization.k8s.io",
    version: "v1",
    kind,
    resource,
    namespaced,
    validate(obj) {
      const causes = metaOnly(obj, "path");
      if (binding && !(obj.roleRef as { name?: string } | undefined)?.name)
        causes.push({ reason: "FieldValueRequired", field: "roleRef.name", message: "Required value" });
      return causes;
    },
    specChanged: () => false,
    table: binding
      ? {
          columns: [nameColumn, col("Role"), ageColumn],
          row: (o, now) => [
            o.metadata?.name,
            `${(o.roleRef as { kind?: string })?.kind}/${(o.roleRef as { name?: string })?.name}`,
            age(o, now),
          ],
        }
      : { columns: [nameColumn, col("Created At")], row: (o) => [o.metadata?.name, o.metadata?.creationTimestamp] },
  });
}

export const roleKind = rbac("Role", "roles", true, false);
export const roleBindingKind = rbac("RoleBinding", "rolebindings", true, true);
export const clusterRoleKind = rbac("ClusterRole", "clusterroles", false, false);
export const clusterRoleBindingKind = rbac("ClusterRoleBinding", "clusterrolebindings", false, true);
