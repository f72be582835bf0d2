// Every active namespace has the ConfigMap `kube-root-ca.crt` with the cluster CA under
// `ca.crt` (the root-ca-cert-publisher): projected service account volumes and in-cluster tools
// read the CA from it. Kept equal to the CA, recreated when deleted.
import type { KubeObject } from "../../../api/types.ts";
import { Informer, isAlreadyExists, isNotFound, ignore } from "../../../client/index.ts";
import { Controller } from "../base.ts";

export const ROOT_CA_CONFIGMAP = "kube-root-ca.crt";

export class RootCAPublisher extends Controller {
  readonly name = "root-ca-cert-publisher";
  // Only the CA ConfigMaps: a cluster with 100k ConfigMaps would otherwise hold them all in
  // memory and list them all at every start.
  // Read with the informers' (controller manager's) credentials, as upstream's shared informers are.
  private readonly caMaps = new Informer<KubeObject>(this.ctx.informers.client.resource("configmaps"), {
    fieldSelector: `metadata.name=${ROOT_CA_CONFIGMAP}`,
    resyncMs: 60_000,
  });

  setup(): void {
    if (!this.ctx.clusterCa) return;
    this.ctx.informers.get("namespaces").on({ add: this.enqueue, update: this.enqueue });
    const mine = (cm: KubeObject) => this.queue.add(cm.metadata!.namespace!);
    this.caMaps.on({ add: mine, update: (_, cm) => mine(cm), delete: mine });
  }

  // Until its first list lands, a reconcile may try to create a map that exists (AlreadyExists is
  // ignored); the list's add events then bring every namespace back for a check against the CA.
  override run(workers?: number): void {
    if (this.ctx.clusterCa) this.caMaps.start();
    super.run(workers);
  }

  override async stop(): Promise<void> {
    this.caMaps.stop();
    await super.stop();
  }

  async reconcile(namespace: string): Promise<void> {
    const ca = this.ctx.clusterCa;
    const ns = this.ctx.informers.get("namespaces").get(namespace);
    if (!ca || !ns || ns.metadata?.deletionTimestamp) return;
    const cms = this.ctx.client.resource("configmaps", namespace);
    const current = this.caMaps.get(`${namespace}/${ROOT_CA_CONFIGMAP}`) as
      | (KubeObject & { data?: Record<string, string> })
      | undefined;
    if (current?.data?.["ca.crt"] === ca) return;
    const body = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: ROOT_CA_CONFIGMAP, namespace },
      data: { "ca.crt": ca },
    };
    if (current)
      await cms
        .update({ ...body, metadata: { ...body.metadata, resourceVersion: current.metadata?.resourceVersion } })
        .catch((e) => (isNotFound(e) ? this.queue.add(namespace) : Promise.reject(e)));
    else await cms.create(body).catch(ignore(isAlreadyExists));
  }
}
