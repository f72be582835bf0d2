// The API server's authorizer chain, as kube-apiserver's --authorization-mode=Node,RBAC with the
// privileged group: system:masters may do anything; a kubelet (system:node:NAME in system:nodes)
// is decided by the Node authorizer; everyone else by RBAC. Plus the write-time checks that
// need the object: RBAC escalation prevention and NodeRestriction.
import type { KindDef, KubeObject } from "../../../api/types.ts";
import type { Objects } from "../objects.ts";
import { MASTERS, type Attributes, type UserInfo } from "./attributes.ts";
import { checkRbacWrite } from "./escalation.ts";
import { NodeAuthorizer, nodeOf } from "./node.ts";
import { RbacAuthorizer, type Decision } from "./rbac.ts";
import { reconcileBootstrapPolicy } from "./reconcile.ts";

export interface Authorizer {
  authorize: (a: Attributes) => Promise<Decision>;
  /** The decision when it needs no reads (the admins, RBAC with its objects read); else undefined. */
  authorizeNow: (a: Attributes) => Decision | undefined;
  /** Reconciles the bootstrap roles and bindings (at every start). */
  bootstrap(): Promise<void>;
  invalidate(): void;
  beforeWrite(user: UserInfo, kind: KindDef, namespace: string | undefined, obj: KubeObject): Promise<void>;
  rbac: RbacAuthorizer;
}

const ALLOW: Decision = { allowed: true, reason: "" };

export function createAuthorizer(objects: Objects, lookup: (resource: string) => KindDef | undefined): Authorizer {
  const kinds = {
    roles: lookup("roles")!,
    clusterroles: lookup("clusterroles")!,
    rolebindings: lookup("rolebindings")!,
    clusterrolebindings: lookup("clusterrolebindings")!,
  };
  const rbac = new RbacAuthorizer(objects, kinds);
  const node = new NodeAuthorizer(objects, lookup);
  const authorize = async (a: Attributes): Promise<Decision> => {
    if (a.user.groups.includes(MASTERS)) return ALLOW;
    if (nodeOf(a.user)) return node.authorize(a);
    return rbac.authorize(a);
  };
  return {
    authorize,
    authorizeNow: (a) => (a.user.groups.includes(MASTERS) ? ALLOW : nodeOf(a.user) ? undefined : rbac.authorizeNow(a)),
    rbac,
    async bootstrap() {
      if (!kinds.roles) return;
      await reconcileBootstrapPolicy(objects, kinds);
      rbac.invalidate();
    },
    invalidate: () => rbac.invalidate(),
    async beforeWrite(user, kind, namespace, obj) {
      await checkRbacWrite(user, kind, namespace, obj, rbac, authorize);
      await node.admit(user, kind, namespace, obj);
    },
  };
}
