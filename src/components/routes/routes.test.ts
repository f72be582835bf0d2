// The routes a node derives from the Nodes' pod CIDR blocks (what node IPAM hands out).
import { expect, test } from "bun:test";
import type { Node } from "../../api/kinds/core.ts";
import { wantedRoutes } from "./index.ts";

test("routes: every other node with a block and a non-loopback address", () => {
  const node = (name: string, cidr: string | undefined, ip: string) =>
    ({
      metadata: { name },
      spec: cidr ? { podCIDR: cidr } : {},
      status: { addresses: [{ type: "InternalIP", address: ip }] },
    }) as Node;
  const routes = wantedRoutes(
    [
      node("self", "10.42.0.0/24", "192.168.1.1"),
      node("b", "10.42.1.0/24", "192.168.1.2"),
      node("no-block", undefined, "192.168.1.3"),
      node("local", "10.42.3.0/24", "127.0.0.1"),
    ],
    "self",
    "192.168.1.1",
  );
  expect([...routes]).toEqual([["10.42.1.0/24", "192.168.1.2"]]);
});
