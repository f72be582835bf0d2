// The node object the kubelet registers (capacity, addresses, labels, Ready condition, the
// kubelet endpoint for logs and exec) and its heartbeat: a Lease in kube-node-lease renewed
// every few seconds, and the Ready condition's heartbeat refreshed less often.
import { LABEL_ARCH, LABEL_HOLLOW, LABEL_HOSTNAME, LABEL_OS } from "../../api/well-known.ts";
import { microTime, now } from "../../api/time.ts";
import { cpus, hostname, release, totalmem } from "node:os";
import type { Node, NodeCondition } from "../../api/kinds/core.ts";
import { isAlreadyExists, isConflict, isNotFound, type Client } from "../../client/index.ts";

/** Where the kubelet publishes the token its server expects from the API server. */

export interface NodeSpecInput {
  name: string;
  runtime: "engine" | "sim";
  kubeletPort: number;
  address: string;
  cpu?: string;
  memory?: string;
  pods?: number;
  runtimeVersion?: string;
}

export function nodeObject(n: NodeSpecInput): Node {
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const cpu = n.cpu ?? String(cpus().length);
  const memory = n.memory ?? `${Math.floor(totalmem() / 1024)}Ki`;
  const capacity = { cpu, memory, pods: String(n.pods ?? 110) };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: n.name,
      labels: {
        [LABEL_HOSTNAME]: n.name,
        [LABEL_OS]: process.platform,
        [LABEL_ARCH]: arch,
        "beta.kubernetes.io/os": process.platform,
        "beta.kubernetes.io/arch": arch,
        ...(n.runtime === "sim" ? { [LABEL_HOLLOW]: "true" } : {}),
      },
    },
    spec: {},
    status: {
      capacity,
      allocatable: capacity,
      addresses: [
        { type: "InternalIP", address: n.address },
        { type: "Hostname", address: n.runtime === "sim" ? n.name : hostname() },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: n.kubeletPort } },
      nodeInfo: {
        kubeletVersion: "v1.30.0-kube",
        kubeProxyVersion: "v1.30.0-kube",
        operatingSystem: process.platform,
        architecture: arch,
        osImage: n.runtime === "sim" ? "hollow" : "Linux",
        kernelVersion: release(),
        containerRuntimeVersion: n.runtimeVersion ?? (n.runtime === "sim" ? "sim://1" : "docker-engine-api://1.41"),
        machineID: "",
        systemUUID: "",
        bootID: "",
      },
      conditions: [
        {
          type: "Ready",
          status: "True",
          reason: "KubeletReady",
          message: "kubelet is posting ready status",
          lastHeartbeatTime: now(),
          lastTransitionTime: now(),
        },
      ],
    },
  };
}

/** Creates the node, or takes over an existing one (a restarted kubelet), refreshing its status. */
export async function registerNode(client: Client, node: Node): Promise<void> {
  const nodes = client.resource<Node>("nodes");
  const name = node.metadata!.name!;
  await nodes.create(node).catch(async (e) => {
    if (!isAlreadyExists(e)) throw e;
    const current = await nodes.get(name);
    const labels = { ...current.metadata?.labels, ...node.metadata?.labels };
    await nodes.patch(name, { metadata: { labels, annotations: node.metadata?.annotations ?? {} } }, "merge");
    await nodes.patch(name, { status: node.status }, "merge", { subresource: "status" });
  });
}

/**
 * Renews the node's Lease (the heartbeat). Each request gives up after timeoutMs, as upstream's
 * heartbeat client has a timeout (the status update frequency, 10 s): a request sent over a
 * connection that died with the network (a pulled cable, a moved address) would otherwise hang until
 * TCP gives up, and the node would be marked NotReady long after its server is reachable again.
 */
export async function renewLease(
  client: Client,
  node: string,
  durationSeconds = 40,
  timeoutMs = 10_000,
): Promise<void> {
  const leases = client.resource("leases.coordination.k8s.io", "kube-node-lease");
  const signal = AbortSignal.timeout(timeoutMs);
  const spec = {
    holderIdentity: node,
    leaseDurationSeconds: durationSeconds,
    renewTime: microTime(),
  };
  try {
    await leases.patch(node, { spec }, "merge", { signal });
  } catch (e) {
    if (!isNotFound(e)) throw e;
    await leases
      .create(
        {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name: node, namespace: "kube-node-lease" },
          spec,
        },
        { signal },
      )
      .catch((err) => {
        if (!isAlreadyExists(err) && !isConflict(err)) throw err;
      });
  }
}

/** Upstream's nodeStatusReportFrequency: an unchanged status is posted this often (the Lease is the heartbeat). */
export const NODE_STATUS_REPORT_MS = 5 * 60_000;

/**
 * Posts Ready=True when the node's stored Ready condition differs (someone marked it Unknown, say)
 * or was last posted NODE_STATUS_REPORT_MS ago, as the kubelet's tryUpdateNodeStatus: with
 * thousands of hollow nodes, a write per node every 40 s was most of an idle cluster's work.
 */
export async function postReady(client: Client, node: string, reportMs = NODE_STATUS_REPORT_MS): Promise<void> {
  const t = now();
  const current = await client.resource<Node>("nodes").get(node);
  const all = current.status?.conditions ?? [];
  const old = all.find((c) => c.type === "Ready");
  const heartbeat = old?.lastHeartbeatTime ? Date.parse(old.lastHeartbeatTime) : 0;
  if (old?.status === "True" && old.reason === "KubeletReady" && Date.now() - heartbeat < reportMs) return;
  const conds: NodeCondition[] = all.filter((c) => c.type !== "Ready");
  conds.push({
    type: "Ready",
    status: "True",
    reason: "KubeletReady",
    message: "kubelet is posting ready status",
    lastHeartbeatTime: t,
    lastTransitionTime: old?.status === "True" ? old.lastTransitionTime : t,
  });
  await client.resource("nodes").patch(node, { status: { conditions: conds } }, "merge", { subresource: "status" });
}
