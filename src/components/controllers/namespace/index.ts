// The namespace controller: a namespace being deleted is emptied (every namespaced kind), then
// finalized through /finalize so the API server removes it.
import { allKinds } from "../../../api/registry.ts";
import { isNotFound } from "../../../client/index.ts";
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
    for (const kind of allKinds()) {
      if (!kind.namespaced || !kind.verbs.includes("deletecollection")) continue;
      const rc = this.ctx.client.resource(kind.group ? `${kind.resource}.${kind.group}` : kind.resource, name);
      const list = await rc.list();
      if (list.items.length === 0) continue;
      remaining += list.items.length;
      // Pods are force-deleted: nothing will run in a namespace that is going away.
      await rc.deleteCollection(kind.kind === "Pod" ? { gracePeriodSeconds: 0 } : {}).catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
    }
    if (remaining > 0) {
      this.queue.addAfter(name, 250);
      return;
    }
    await this.ctx.client.request("PUT", `/api/v1/namespaces/${name}/finalize`, {
      body: { apiVersion: "v1", kind: "Namespace", metadata: { name }, spec: { finalizers: [] } },
    }).then(async (r) => {
      if (!r.ok && r.status !== 404) throw new Error(`finalize ${name}: ${r.status} ${await r.text()}`);
    });
  }
}
