// The node's address on the container bridge network (Podman's cni-podman0/podman0, Docker's
// docker0): containers reach the node, and so the service proxy, at this address.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { networkInterfaces } from "node:os";

/** The bridge of a node's pod network (its podCIDR), at most 15 characters as Linux requires. */
export const podBridgeName = (node: string) => `kube${createHash("sha1").update(node).digest("hex").slice(0, 8)}`;

const BRIDGES = ["cni-podman0", "podman0", "docker0"];

export function containerNetworkAddress(node?: string): string | undefined {
  return containerNetwork(node)?.address;
}

const bridgeNames = (node?: string) => [...(node ? [podBridgeName(node)] : []), ...BRIDGES];

/**
 * Which of the bridges containerNetwork looks for exist, from /sys/class/net: a few stats, where
 * networkInterfaces() reads every interface's addresses (one veth more per running pod).
 */
export function bridgesPresent(node?: string): string {
  return bridgeNames(node)
    .filter((name) => existsSync(`/sys/class/net/${name}`))
    .join(",");
}

/** The bridge interface and the node's address on it, when a container network is up: the node's pod network first. */
export function containerNetwork(node?: string): { name: string; address: string } | undefined {
  const ifs = networkInterfaces();
  for (const name of bridgeNames(node)) {
    const v4 = ifs[name]?.find((a) => a.family === "IPv4");
    if (v4) return { name, address: v4.address };
  }
  return undefined;
}
