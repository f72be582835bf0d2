// RBAC escalation prevention (registry/rbac/{role,clusterrole,rolebinding,...}/policybased): a
// role may only be created or updated with rules its author already holds, and a binding only to
// a role whose rules its author holds, unless the author may `escalate` (roles) or `bind` (the
// referenced role). system:masters may do anything.
import type { Role, RoleBinding, RoleRef } from "../../../api/kinds/access.ts";
import type { KindDef, KubeObject } from "../../../api/types.ts";
import { HttpError, qualified } from "../errors.ts";
import { MASTERS, type Attributes, type UserInfo } from "./attributes.ts";
import type { Decision, RbacAuthorizer } from "./rbac.ts";
import { compactString, quoteList, uncovered, type PolicyRule } from "./rules.ts";

const GROUP = "rbac.authorization.k8s.io";

/** Merges broken-down rules on the same group, resource and name into one rule per verb set. */
function compact(rules: PolicyRule[]): PolicyRule[] {
  const byKey = new Map<string, PolicyRule>();
  const out: PolicyRule[] = [];
  for (const r of rules) {
    if (r.nonResourceURLs?.length) {
      out.push(r);
      continue;
    }
    const key = JSON.stringify([r.apiGroups, r.resources, r.resourceNames ?? []]);
    const seen = byKey.get(key);
    if (seen) seen.verbs = [...new Set([...seen.verbs, ...r.verbs])];
    else byKey.set(key, { ...r, verbs: [...r.verbs] });
  }
  return [...byKey.values(), ...out];
}

function escalationError(kind: KindDef, name: string, user: UserInfo, missing: PolicyRule[]): HttpError {
  const lines = [...new Set(compact(missing).map(compactString))].sort();
  const msg = `user ${JSON.stringify(user.name)} (groups=${quoteList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${lines.join("\n")}`;
  return new HttpError(
    403,
    "Forbidden",
    `${qualified(kind.resource, kind.group)} ${JSON.stringify(name)} is forbidden: ${msg}`,
    { name, group: kind.group, kind: kind.resource },
  );
}

export async function checkRbacWrite(
  user: UserInfo,
  kind: KindDef,
  namespace: string | undefined,
  obj: KubeObject,
  rbac: RbacAuthorizer,
  authorize: (a: Attributes) => Promise<Decision>,
): Promise<void> {
  if (kind.group !== GROUP || user.groups.includes(MASTERS)) return;
  const ns = kind.namespaced ? (namespace ?? "") : "";
  const name = obj.metadata?.name ?? "";
  const attrs = (verb: string, resource: string, n: string): Attributes => ({
    user,
    verb,
    resourceRequest: true,
    path: "",
    apiGroup: GROUP,
    apiVersion: "v1",
    namespace: ns,
    resource,
    subresource: "",
    name: n,
  });
  let rules: PolicyRule[];
  if (kind.kind === "Role" || kind.kind === "ClusterRole") {
    if ((await authorize(attrs("escalate", kind.resource, name))).allowed) return;
    rules = (obj as Role).rules ?? [];
  } else if (kind.kind === "RoleBinding" || kind.kind === "ClusterRoleBinding") {
    const ref: Partial<RoleRef> = (obj as RoleBinding).roleRef ?? {};
    if ((await authorize(attrs("bind", ref.kind === "Role" ? "roles" : "clusterroles", ref.name ?? ""))).allowed)
      return;
    const found = await rbac.roleRefRules(ref, ns);
    if (!found)
      throw new HttpError(
        403,
        "Forbidden",
        `${qualified(kind.resource, kind.group)} ${JSON.stringify(name)} is forbidden: ${ref.kind === "Role" ? "role" : "clusterrole"}.rbac.authorization.k8s.io ${JSON.stringify(ref.name ?? "")} not found`,
        { name, group: kind.group, kind: kind.resource },
      );
    rules = found;
  } else return;
  const missing = uncovered((await rbac.rulesFor(user, ns)).rules, rules);
  if (missing.length) throw escalationError(kind, name, user, missing);
}
