// The namespace controller: a namespace being deleted is emptied (every namespaced resource the
// server serves, custom resources included, read from discovery), then finalized through
// /finalize so the API server removes it.
import { isNotFound, type DiscoveredResource, ignore } from "../../../client/index.ts";
import { Controller } from "../base.ts";

export class NamespaceController extends Controller {
  readonly name = "namespace";

  setup(): void {
    const ns = this.ctx.informers.get("namespaces");
    ns.on({ add: this.enqueue, update: (_, o) => this.enqueue(o) });
  }

  async reconcile(name: string): Promise<void> {
    const ns = this.ctx.informers.get("namespaces").get(name);
    if (!ns?.metadata?.deletionTimestamp) return;
    let remaining = 0;
    for (const kind of await this.namespacedResources()) {
      const rc = this.ctx.client.dynamic(kind, name);
      const list = await rc.list();
      if (list.items.length === 0) continue;
      remaining += list.items.length;
      // Pods are force-deleted: nothing will run in a namespace that is going away.
      await rc.deleteCollection(kind.kind === "Pod" ? { gracePeriodSeconds: 0 } : {}).catch(ignore(isNotFound));
    }
    if (remaining > 0) {
      this.queue.addAfter(name, 250);
      return;
    }
    await this.ctx.client
      .request("PUT", `/api/v1/namespaces/${name}/finalize`, {
        body: { apiVersion: "v1", kind: "Namespace", metadata: { name }, spec: { finalizers: [] } },
      })
      .then(async (r) => {
        if (!r.ok && r.status !== 404) throw new Error(`finalize ${name}: ${r.status} ${await r.text()}`);
      });
  }

  /** Namespaced resources that can be emptied, one version per group/resource. */
  private async namespacedResources(): Promise<DiscoveredResource[]> {
    const seen = new Set<string>();
    return (await this.ctx.client.discover()).filter((r) => {
      const key = `${r.group}/${r.resource}`;
      if (!r.namespaced || !r.verbs.includes("deletecollection") || seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }
}
