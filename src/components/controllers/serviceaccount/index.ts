// Every active namespace has a `default` ServiceAccount, which pods run as unless they name
// another: created with the namespace, and again if deleted (the serviceaccounts-controller).
import type { KubeObject } from "../../../api/types.ts";
import { isAlreadyExists, ignore } from "../../../client/index.ts";
import { Controller } from "../base.ts";

export class ServiceAccountsController extends Controller {
  readonly name = "serviceaccounts";

  setup(): void {
    this.ctx.informers.get("namespaces").on({ add: this.enqueue, update: this.enqueue });
    this.ctx.informers
      .get("serviceaccounts")
      .on({ delete: (sa: KubeObject) => sa.metadata?.name === "default" && this.queue.add(sa.metadata.namespace!) });
  }

  async reconcile(namespace: string): Promise<void> {
    const ns = this.ctx.informers.get("namespaces").get(namespace);
    if (!ns || ns.metadata?.deletionTimestamp) return;
    if (this.ctx.informers.get("serviceaccounts").get(`${namespace}/default`)) return;
    await this.ctx.client
      .resource("serviceaccounts", namespace)
      .create({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace } })
      .catch(ignore(isAlreadyExists));
  }
}
