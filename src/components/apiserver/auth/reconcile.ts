// Bootstrap policy reconciliation at every start, as kube-apiserver's rbac/bootstrap-roles post
// start hook: missing roles and bindings are created; existing ones annotated
// rbac.authorization.kubernetes.io/autoupdate (not "false") get back missing rules, labels,
// aggregation rules and subjects, and keep whatever was added to them.
import { ignore, isAlreadyExists } from "../../../client/index.ts";
import type { ClusterRole, RoleBinding, Subject } from "../../../api/kinds/access.ts";
import type { Objects } from "../objects.ts";
import {
  CLUSTER_ROLE_BINDINGS,
  CLUSTER_ROLES,
  CONTROLLER_ROLES,
  NAMESPACE_ROLE_BINDINGS,
  NAMESPACE_ROLES,
  type BootstrapBinding,
  type BootstrapRole,
} from "./bootstrap-policy.ts";
import type { RbacKinds } from "./rbac.ts";
import { uncovered } from "./rules.ts";
import { cloneJson } from "../../../api/clone.ts";

const GROUP = "rbac.authorization.k8s.io";
const AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate";
const meta = (name: string, namespace: string | undefined, labels: Record<string, string> = {}) => ({
  name,
  ...(namespace ? { namespace } : {}),
  labels: { "kubernetes.io/bootstrapping": "rbac-defaults", ...labels },
  annotations: { [AUTOUPDATE]: "true" },
});

function roleObject(kind: string, role: BootstrapRole, namespace?: string): ClusterRole {
  return {
    apiVersion: `${GROUP}/v1`,
    kind,
    metadata: meta(role.name, namespace, role.labels),
    ...(role.aggregateFrom
      ? {
          aggregationRule: {
            clusterRoleSelectors: [{ matchLabels: { [`${GROUP}/aggregate-to-${role.aggregateFrom}`]: "true" } }],
          },
        }
      : {}),
    rules: role.rules,
  };
}

function bindingObject(kind: string, b: BootstrapBinding, namespace?: string): RoleBinding {
  return {
    apiVersion: `${GROUP}/v1`,
    kind,
    metadata: meta(b.name, namespace),
    roleRef: { apiGroup: GROUP, kind: namespace ? "Role" : "ClusterRole", name: b.role },
    subjects: b.subjects.map((s) =>
      s.kind === "ServiceAccount"
        ? { kind: s.kind, name: s.name, namespace: s.namespace }
        : { apiGroup: GROUP, kind: s.kind, name: s.name },
    ),
  };
}

/** A role or a binding: reconciliation reads the fields of both. */
type Rbac = ClusterRole & Pick<RoleBinding, "subjects">;

/** What an existing object lacks from the bootstrap one; undefined when nothing. */
function reconciled(existing: Rbac, wanted: Rbac): Rbac | undefined {
  if (existing.metadata?.annotations?.[AUTOUPDATE] === "false") return undefined;
  const next = cloneJson(existing);
  let changed = false;
  const labels = { ...(next.metadata!.labels ?? {}) };
  for (const [k, v] of Object.entries(wanted.metadata!.labels ?? {}))
    if (labels[k] !== v) (labels[k] = v), (changed = true);
  next.metadata!.labels = labels;
  if (wanted.aggregationRule && !next.aggregationRule)
    (next.aggregationRule = wanted.aggregationRule), (changed = true);
  if (wanted.rules && !wanted.aggregationRule) {
    const missing = wanted.rules.filter((r) => uncovered(next.rules ?? [], [r]).length > 0);
    if (missing.length) (next.rules = [...(next.rules ?? []), ...missing]), (changed = true);
  }
  if (wanted.subjects) {
    const has = (s: Subject) =>
      (next.subjects ?? []).some(
        (x) => x.kind === s.kind && x.name === s.name && (x.namespace ?? "") === (s.namespace ?? ""),
      );
    const missing = wanted.subjects.filter((s) => !has(s));
    if (missing.length) (next.subjects = [...(next.subjects ?? []), ...missing]), (changed = true);
  }
  return changed ? next : undefined;
}

export async function reconcileBootstrapPolicy(objects: Objects, kinds: RbacKinds): Promise<void> {
  const ensure = async (kind: RbacKinds[keyof RbacKinds], obj: Rbac) => {
    const ns = obj.metadata!.namespace;
    const existing = await objects.tryGet(kind, ns, obj.metadata!.name!);
    if (!existing) {
      await objects.create(kind, ns, obj).catch(ignore(isAlreadyExists));
      return;
    }
    const next = reconciled(existing.obj as Rbac, obj);
    if (next) await objects.update(kind, ns, obj.metadata!.name!, next, "main");
  };
  // Issued together, the writes share the store's group commits.
  await Promise.all([
    ...[...CLUSTER_ROLES, ...CONTROLLER_ROLES].map((role) =>
      ensure(kinds.clusterroles, roleObject("ClusterRole", role)),
    ),
    ...CLUSTER_ROLE_BINDINGS.map((b) => ensure(kinds.clusterrolebindings, bindingObject("ClusterRoleBinding", b))),
    ...NAMESPACE_ROLES.map((role) => ensure(kinds.roles, roleObject("Role", role, role.namespace))),
    ...NAMESPACE_ROLE_BINDINGS.map((b) => ensure(kinds.rolebindings, bindingObject("RoleBinding", b, b.namespace))),
  ]);
}
