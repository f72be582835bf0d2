// What the kubelet reads of the cluster at every pod start, from informer caches as upstream's
// kubelet does (its service lister for the service environment variables and the cluster DNS):
// a pod start then costs no API round trip for them. In kube up these are handles on the process's
// shared informers (the controllers watch services and service accounts already); a node without
// them (a test kubelet) watches services with its own identity and reads service accounts per pod.
import type { ServiceAccount } from "../../api/kinds/access.ts";
import type { Service } from "../../api/kinds/service.ts";
import { Informer, type InformerView, type SharedInformerFactory } from "../../client/index.ts";
import type { Client } from "../../client/index.ts";

/** The services index by namespace (the service links of a pod are those of its namespace). */
export const BY_NAMESPACE = "namespace";

export type ServiceLister = Pick<InformerView<Service>, "get" | "byIndex">;
export type ServiceAccountLister = Pick<InformerView<ServiceAccount>, "get">;

export interface KubeletListers {
  services: ServiceLister;
  /** Absent: each pod's account is read from the API (a node's identity may not list them). */
  serviceAccounts?: ServiceAccountLister;
  stop(): void;
}

/**
 * Starts the listers and waits until services are synced: as upstream's kubelet, no container gets its
 * environment before the services have been read once.
 */
export async function startListers(client: Client, shared?: SharedInformerFactory): Promise<KubeletListers> {
  const services: InformerView<Service> = shared
    ? shared.informer<Service>("services")
    : new Informer<Service>(client.resource<Service>("services"), { stripManagedFields: true });
  services.addIndexer(BY_NAMESPACE, (s) => [s.metadata?.namespace ?? ""]);
  const serviceAccounts = shared?.informer<ServiceAccount>("serviceaccounts");
  services.start();
  serviceAccounts?.start();
  await services.waitForSync();
  return {
    services,
    serviceAccounts,
    stop() {
      services.stop();
      serviceAccounts?.stop();
    },
  };
}
