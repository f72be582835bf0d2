// The node's address on the container bridge network (Podman's cni-podman0/podman0, Docker's
// docker0): containers reach the node, and so the service proxy, at this address.
import { networkInterfaces } from "node:os";

const BRIDGES = ["cni-podman0", "podman0", "docker0"];

export function containerNetworkAddress(): string | undefined {
  return containerNetwork()?.address;
}

/** The bridge interface and the node's address on it, when a container network is up. */
export function containerNetwork(): { name: string; address: string } | undefined {
  const ifs = networkInterfaces();
  for (const name of BRIDGES) {
    const v4 = ifs[name]?.find((a) => a.family === "IPv4");
    if (v4) return { name, address: v4.address };
  }
  return undefined;
}
