// The RBAC authorizer (plugin/pkg/auth/authorizer/rbac): a request is allowed when a rule of a
// role bound to the user (ClusterRoleBindings everywhere, RoleBindings in the request's
// namespace) allows it. Roles and bindings are read once into memory and re-read after any
// RBAC write; the rules of each (user, groups, namespace) are resolved once per generation, so
// an ordinary request costs a map lookup and a scan of that user's rules.
import type { Role, RoleBinding, RoleRef, Subject } from "../../../api/kinds/access.ts";
import type { KindDef } from "../../../api/types.ts";
import type { Objects } from "../objects.ts";
import type { Attributes, UserInfo } from "./attributes.ts";
import { rulesAllow, type PolicyRule } from "./rules.ts";

/** A RoleBinding or ClusterRoleBinding as the authorizer indexes it ("" namespace: cluster-wide). */
interface Binding {
  namespace: string;
  roleRef: Pick<RoleRef, "kind" | "name">;
  subjects: Subject[];
}

export interface RbacKinds {
  roles: KindDef;
  clusterroles: KindDef;
  rolebindings: KindDef;
  clusterrolebindings: KindDef;
}

export interface Resolved {
  rules: PolicyRule[];
  /** Bindings whose role does not exist (said in the Forbidden reason, as upstream). */
  errors: string[];
}

export interface Decision {
  allowed: boolean;
  reason: string;
}

function appliesTo(s: Subject, user: UserInfo, bindingNs: string): boolean {
  if (s.kind === "User") return s.name === user.name;
  if (s.kind === "Group") return user.groups.includes(s.name);
  if (s.kind === "ServiceAccount") return user.name === `system:serviceaccount:${s.namespace || bindingNs}:${s.name}`;
  return false;
}

export class RbacAuthorizer {
  private gen = 1;
  private loadedGen = 0;
  private loading: Promise<void> | undefined;
  private roles = new Map<string, PolicyRule[]>();
  private clusterRoles = new Map<string, PolicyRule[]>();
  private clusterBindings: Binding[] = [];
  private bindings = new Map<string, Binding[]>();
  private resolved = new Map<string, Resolved>();

  constructor(
    private readonly objects: Objects,
    private readonly kinds: RbacKinds,
  ) {}

  /** Called after any write to an RBAC object: the next decision re-reads them. */
  invalidate(): void {
    this.gen++;
  }

  private async load(): Promise<void> {
    const list = async (kind: KindDef) => (await this.objects.list(kind, undefined, {})).items;
    const [roles, clusterRoles, bindings, clusterBindings] = await Promise.all([
      list(this.kinds.roles),
      list(this.kinds.clusterroles),
      list(this.kinds.rolebindings),
      list(this.kinds.clusterrolebindings),
    ]);
    this.roles = new Map((roles as Role[]).map((o) => [`${o.metadata!.namespace}/${o.metadata!.name}`, o.rules ?? []]));
    this.clusterRoles = new Map((clusterRoles as Role[]).map((o) => [o.metadata!.name!, o.rules ?? []]));
    const binding = (o: RoleBinding): Binding => ({
      namespace: o.metadata?.namespace ?? "",
      roleRef: { kind: o.roleRef?.kind ?? "", name: o.roleRef?.name ?? "" },
      subjects: o.subjects ?? [],
    });
    this.clusterBindings = (clusterBindings as RoleBinding[]).map(binding);
    this.bindings = new Map();
    for (const b of (bindings as RoleBinding[]).map(binding))
      (this.bindings.get(b.namespace) ?? this.bindings.set(b.namespace, []).get(b.namespace)!).push(b);
    this.resolved = new Map();
  }

  private fresh(): Promise<void> | undefined {
    if (this.loadedGen === this.gen) return undefined;
    return (this.loading ??= (async () => {
      try {
        while (this.loadedGen !== this.gen) {
          const g = this.gen;
          await this.load();
          this.loadedGen = g;
        }
      } finally {
        this.loading = undefined;
      }
    })());
  }

  private roleRules(ref: Binding["roleRef"], namespace: string, errors: string[]): PolicyRule[] {
    const rules =
      ref.kind === "ClusterRole"
        ? this.clusterRoles.get(ref.name)
        : ref.kind === "Role"
          ? this.roles.get(`${namespace}/${ref.name}`)
          : undefined;
    if (!rules)
      errors.push(
        `${ref.kind === "Role" ? "role" : "clusterrole"}.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found`,
      );
    return rules ?? [];
  }

  /** Every rule that applies to the user in the namespace ("" = cluster-wide rules only). */
  async rulesFor(user: UserInfo, namespace: string): Promise<Resolved> {
    const wait = this.fresh();
    if (wait) await wait;
    return this.resolve(user, namespace);
  }

  private resolve(user: UserInfo, namespace: string): Resolved {
    const key = `${user.name}\0${user.groups.join("\0")}\0${namespace}`;
    let r = this.resolved.get(key);
    if (!r) {
      r = { rules: [], errors: [] };
      for (const b of this.clusterBindings)
        if (b.subjects.some((s) => appliesTo(s, user, ""))) r.rules.push(...this.roleRules(b.roleRef, "", r.errors));
      if (namespace)
        for (const b of this.bindings.get(namespace) ?? [])
          if (b.subjects.some((s) => appliesTo(s, user, namespace)))
            r.rules.push(...this.roleRules(b.roleRef, namespace, r.errors));
      if (this.resolved.size > 10000) this.resolved.clear();
      this.resolved.set(key, r);
    }
    return r;
  }

  /** The rules of a role a binding refers to (escalation checks of bindings). */
  async roleRefRules(ref: Partial<RoleRef>, namespace: string): Promise<PolicyRule[] | undefined> {
    const wait = this.fresh();
    if (wait) await wait;
    if (ref.kind === "ClusterRole") return this.clusterRoles.get(ref.name ?? "");
    if (ref.kind === "Role") return this.roles.get(`${namespace}/${ref.name}`);
    return undefined;
  }

  async authorize(a: Attributes): Promise<Decision> {
    return this.decide(a, await this.rulesFor(a.user, a.namespace));
  }

  /**
   * Which roles and bindings decisions are made from now: it changes at every RBAC write, so a
   * decision taken at one generation holds while it stays the same (0 while they are re-read).
   */
  generation(): number {
    return this.loadedGen === this.gen ? this.gen : 0;
  }

  /** authorize() without waiting, when the roles and bindings read are current; else undefined. */
  authorizeNow(a: Attributes): Decision | undefined {
    if (this.loadedGen !== this.gen) return undefined;
    return this.decide(a, this.resolve(a.user, a.namespace));
  }

  private decide(a: Attributes, r: Resolved): Decision {
    if (rulesAllow(a, r.rules)) return { allowed: true, reason: "" };
    return {
      allowed: false,
      reason: r.errors.length ? `RBAC: ${r.errors.length === 1 ? r.errors[0] : `[${r.errors.join(", ")}]`}` : "",
    };
  }
}
