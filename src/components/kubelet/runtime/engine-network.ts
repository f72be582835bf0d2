// The node's pod network on the engine: a bridge network whose subnet is the node's podCIDR
// (Node.spec.podCIDR, from node IPAM), what a CNI bridge plugin configured from the podCIDR is for
// a kubelet. Podman and Docker both create it through the Engine API's /networks/create; its bridge
// gets a name derived from the node's (node-address.ts), so the proxy finds it.
import { ipToInt, intToIp } from "../../../api/cidr.ts";
import { podBridgeName } from "../../node-address.ts";
import type { EngineHttp } from "./engine-http.ts";

interface NetworkAnswer {
  Name?: string;
  IPAM?: { Config?: { Subnet?: string }[] | null };
  Containers?: Record<string, unknown> | null;
}

export const podNetworkName = (node: string) => `kube-pods-${node}`.slice(0, 60);

/** The network's first usable address, the bridge's (the pods' gateway). */
export const gatewayOf = (cidr: string) => intToIp((ipToInt(cidr.split("/")[0]!) ?? 0) + 1);

/**
 * Makes sure the engine has network `kube-pods-<node>` on `cidr` and returns its name. One left by
 * an earlier start with another subnet is replaced (it must not hold containers then).
 */
export async function ensurePodNetwork(http: EngineHttp, node: string, cidr: string): Promise<string> {
  const name = podNetworkName(node);
  const res = await http.request("GET", `/networks/${encodeURIComponent(name)}`);
  if (res.ok) {
    const net = (await res.json()) as NetworkAnswer;
    if ((net.IPAM?.Config ?? []).some((c) => c.Subnet === cidr)) return name;
    await http.call("DELETE", `/networks/${encodeURIComponent(name)}`);
  } else await res.arrayBuffer();
  await http.json("POST", "/networks/create", {
    json: {
      Name: name,
      Driver: "bridge",
      CheckDuplicate: true,
      IPAM: { Driver: "default", Config: [{ Subnet: cidr, Gateway: gatewayOf(cidr) }] },
      Options: { "com.docker.network.bridge.name": podBridgeName(node) },
      Labels: { "io.kube.node": node },
    },
  });
  return name;
}

/** Removes the node's pod network (kube's clean exit); a missing one is fine. */
export async function removePodNetwork(http: EngineHttp, node: string): Promise<void> {
  const res = await http.request("DELETE", `/networks/${encodeURIComponent(podNetworkName(node))}`);
  await res.arrayBuffer();
}
