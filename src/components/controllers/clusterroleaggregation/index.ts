// The clusterrole-aggregation controller: a ClusterRole with an aggregationRule gets, as its
// rules, the union of the rules of every other ClusterRole its selectors match (admin, edit and
// view gather the aggregate-to-* roles; a CRD's installer adds its own), kept up to date.
import type { ClusterRole, PolicyRule } from "../../../api/kinds/access.ts";
import { isNotFound, ignore } from "../../../client/index.ts";
import { selectorMatches } from "../../../api/selectors.ts";
import { Controller } from "../base.ts";

export class ClusterRoleAggregationController extends Controller {
  readonly name = "clusterrole-aggregation";

  setup(): void {
    // Any role's change may change what an aggregated role gathers: re-check every aggregated role.
    const all = () => {
      for (const r of this.ctx.informers.get<ClusterRole>("clusterroles").list())
        if (r.aggregationRule) this.enqueue(r);
    };
    this.ctx.informers.get("clusterroles").on({ add: all, update: all, delete: all });
  }

  async reconcile(name: string): Promise<void> {
    const roles = this.ctx.informers.get<ClusterRole>("clusterroles");
    const role = roles.get(name);
    const selectors = role?.aggregationRule?.clusterRoleSelectors;
    if (!role || !selectors) return;
    const sources = roles
      .list()
      .filter((r) => r.metadata?.name !== name && selectors.some((s) => selectorMatches(s, r.metadata?.labels ?? {})))
      .sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
    const rules: PolicyRule[] = [];
    const seen = new Set<string>();
    for (const r of sources)
      for (const rule of r.rules ?? []) {
        const key = JSON.stringify(rule);
        if (!seen.has(key)) seen.add(key), rules.push(rule);
      }
    if (JSON.stringify(role.rules ?? []) === JSON.stringify(rules)) return;
    await this.ctx.client
      .resource<ClusterRole>("clusterroles.rbac.authorization.k8s.io")
      .update({ ...role, rules })
      .catch(ignore(isNotFound));
  }
}
