// The `default/kubernetes` Service every cluster has: the API server behind the first address of
// the service range (port 443), with Endpoints naming where it really listens. Reconciled at
// every start, since the port (and so the Endpoints) may differ from the last run.
import { createClient, inProcessTransport } from "../../client/index.ts";

export interface KubernetesServiceOptions {
  fetch: (req: Request) => Promise<Response>;
  token: string;
  clusterIP: string;
  /** Where the API server listens. */
  address: string;
  port: number;
}

export async function ensureKubernetesService(o: KubernetesServiceOptions): Promise<void> {
  const client = createClient(inProcessTransport(o.fetch, o.token));
  const opts = { fieldManager: "kube-apiserver", force: true };
  const labels = { component: "apiserver", provider: "kubernetes" };
  // A cluster IP cannot change: a service left from another range (--service-cidr) is made again.
  const old = (await client
    .resource("services", "default")
    .get("kubernetes")
    .catch(() => undefined)) as { spec?: { clusterIP?: string } } | undefined;
  if (old?.spec?.clusterIP && old.spec.clusterIP !== o.clusterIP)
    await client.resource("services", "default").delete("kubernetes");
  await client.resource("services", "default").patch(
    "kubernetes",
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "kubernetes", namespace: "default", labels },
      spec: {
        type: "ClusterIP",
        clusterIP: o.clusterIP,
        sessionAffinity: "None",
        ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: o.port }],
      },
    },
    "apply",
    opts,
  );
  await client.resource("endpoints", "default").patch(
    "kubernetes",
    {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: {
        name: "kubernetes",
        namespace: "default",
        labels: { "endpointslice.kubernetes.io/skip-mirror": "true" },
      },
      subsets: [{ addresses: [{ ip: o.address }], ports: [{ name: "https", port: o.port, protocol: "TCP" }] }],
    },
    "apply",
    opts,
  );
}
