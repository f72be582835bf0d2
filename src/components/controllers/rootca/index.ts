// Every active namespace has the ConfigMap `kube-root-ca.crt` with the cluster CA under
// `ca.crt` (the root-ca-cert-publisher): projected service account volumes and in-cluster tools
// read the CA from it. Kept equal to the CA, recreated when deleted.
import type { KubeObject } from "../../../api/types.ts";
import { isAlreadyExists, isNotFound } from "../../../client/index.ts";
import { Controller } from "../base.ts";

export const ROOT_CA_CONFIGMAP = "kube-root-ca.crt";

export class RootCAPublisher extends Controller {
  readonly name = "root-ca-cert-publisher";

  setup(): void {
    if (!this.ctx.clusterCa) return;
    this.ctx.informers.get("namespaces").on({ add: this.enqueue, update: this.enqueue });
    const mine = (cm: KubeObject) => cm.metadata?.name === ROOT_CA_CONFIGMAP && this.queue.add(cm.metadata.namespace!);
    this.ctx.informers.get("configmaps").on({ update: mine, delete: mine });
  }

  async reconcile(namespace: string): Promise<void> {
    const ca = this.ctx.clusterCa;
    const ns = this.ctx.informers.get("namespaces").get(namespace);
    if (!ca || !ns || ns.metadata?.deletionTimestamp) return;
    const cms = this.ctx.client.resource("configmaps", namespace);
    const current = this.ctx.informers.get("configmaps").get(`${namespace}/${ROOT_CA_CONFIGMAP}`) as (KubeObject & { data?: Record<string, string> }) | undefined;
    if (current?.data?.["ca.crt"] === ca) return;
    const body = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: ROOT_CA_CONFIGMAP, namespace }, data: { "ca.crt": ca } };
    if (current) await cms.update({ ...body, metadata: { ...body.metadata, resourceVersion: current.metadata?.resourceVersion } }).catch((e) => (isNotFound(e) ? this.queue.add(namespace) : Promise.reject(e)));
    else await cms.create(body).catch((e) => (isAlreadyExists(e) ? undefined : Promise.reject(e)));
  }
}
