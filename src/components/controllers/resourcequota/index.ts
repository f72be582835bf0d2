// The resourcequota controller: keeps each ResourceQuota's status.hard (= spec.hard) and
// status.used, recomputed from the objects themselves (as upstream's controller does), so usage
// goes down when objects go away and any over-charge by admission is corrected. Pods, services,
// configmaps, secrets, claims and replication controllers are watched; other `count/...`
// resources are listed when their quota is reconciled (and at each resync).
import {
  countName,
  fromUsage,
  matchingResources,
  sumUsage,
  toUsage,
  type Quota,
  type Usage,
} from "../../../api/quota.ts";
import type { KubeObject } from "../../../api/types.ts";
import { isNotFound, keyOf, splitKey, ignore, isConflict } from "../../../client/index.ts";
import { Controller } from "../base.ts";

/** Watched resources: every object event in a namespace re-counts its quotas. */
const WATCHED = ["pods", "services", "configmaps", "secrets", "persistentvolumeclaims", "replicationcontrollers"];
/**
 * Of those, the ones only counted: a metadata-only informer that lists in the background is enough, so a
 * store full of ConfigMaps does not hold up the controllers' start.
 */
const COUNTED = new Set(["configmaps", "secrets"]);

export class ResourceQuotaController extends Controller {
  readonly name = "resourcequota";
  private stopped = false;

  private informer(resource: string) {
    return COUNTED.has(resource) ? this.ctx.informers.metadata(resource) : this.ctx.informers.get(resource);
  }

  setup(): void {
    const quotas = this.ctx.informers.get<Quota>("resourcequotas");
    quotas.on({ add: this.enqueue, update: (_, q) => this.enqueue(q) });
    const touched = (o: KubeObject) => {
      for (const q of quotas.list()) if (q.metadata?.namespace === o.metadata?.namespace) this.queue.add(keyOf(q));
    };
    for (const r of WATCHED) this.informer(r).on({ add: touched, update: (_, o) => touched(o), delete: touched });
  }

  /** Workers start once the counted kinds' caches have synced, so usage is never computed from half a list. */
  override run(workers = 2): void {
    void Promise.all([...COUNTED].map((r) => this.informer(r).waitForSync()))
      .then(() => {
        if (!this.stopped) super.run(workers);
      })
      .catch(() => undefined); // stopped before it synced
  }

  override async stop(): Promise<void> {
    this.stopped = true;
    await super.stop();
  }

  /** `count/deployments.apps` -> resource and group; core counts have no group. */
  private async objectsOf(
    hardKey: string,
    namespace: string,
  ): Promise<{ resource: string; group: string; items: KubeObject[] } | undefined> {
    const [resource, ...rest] = hardKey.slice("count/".length).split(".");
    const group = rest.join(".");
    if (!group && WATCHED.includes(resource!))
      return {
        resource: resource!,
        group,
        items: this.informer(resource!)
          .list()
          .filter((o) => o.metadata?.namespace === namespace),
      };
    const items = await this.ctx.client
      .resource(group ? `${resource}.${group}` : resource!, namespace)
      .list()
      .then((l) => l.items as KubeObject[])
      .catch(() => undefined);
    return items ? { resource: resource!, group, items } : undefined;
  }

  async reconcile(key: string): Promise<void> {
    const quota = this.ctx.informers.get<Quota>("resourcequotas").get(key);
    if (!quota) return;
    const { namespace } = splitKey(key);
    const hard = quota.spec?.hard ?? {};
    const keys = Object.keys(toUsage(hard));
    const used: Usage = {};
    for (const r of WATCHED) {
      const tracked = matchingResources(r, "", keys);
      if (!tracked.length) continue;
      const items = this.informer(r)
        .list()
        .filter((o) => o.metadata?.namespace === namespace);
      Object.assign(used, sumUsage(r, "", items, quota, tracked));
    }
    for (const k of keys.filter((k) => k.startsWith("count/") && !(k in used))) {
      const found = await this.objectsOf(k, namespace!);
      if (found && countName(found.resource, found.group) === k)
        Object.assign(used, sumUsage(found.resource, found.group, found.items, quota, [k]));
    }
    // Resources nothing here counts are reported as 0, so `status unknown` never blocks a quota.
    for (const k of keys) used[k] ??= 0;
    const status = { hard, used: fromUsage(used) };
    if (JSON.stringify(status) === JSON.stringify(quota.status ?? {})) return;
    await this.ctx.client
      .resource("resourcequotas", namespace)
      .updateStatus({ ...quota, status } as KubeObject)
      .catch((e) => (isConflict(e) ? this.queue.add(key) : ignore(isNotFound)(e)));
  }
}
