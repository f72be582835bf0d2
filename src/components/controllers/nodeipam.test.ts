// Node IPAM (the range allocator): distinct blocks of the cluster range in order, a freed block
// reused, a full range refused with CIDRNotAvailable (the routes each node derives from the blocks:
// ../routes/routes.test.ts).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Event, Node, NodeSpec } from "../../api/kinds/core.ts";
import { podCidrBlocks } from "../../api/cidr.ts";
import { waitFor } from "../../../test/helpers/wait.ts";
import { startCluster, type TestCluster } from "../../../test/helpers/cluster.ts";
import { readyNode } from "../../../test/helpers/controllers.ts";

let env: TestCluster;
beforeAll(async () => {
  // A /29 of /30s: two blocks, so the third node finds the range full.
  env = await startCluster({ runtime: "none", config: { clusterCidr: "10.77.0.0/29", nodeCidrMaskSize: 30 } });
});
afterAll(() => env.close());

const podCidr = async (name: string): Promise<NodeSpec> =>
  (await env.client.resource<Node>("nodes").get(name)).spec ?? {};

describe("node IPAM", () => {
  test("blocks of a range", () => {
    const b = podCidrBlocks("10.42.0.0/16", 24);
    expect([b.count, b.block(0), b.block(1), b.block(255)]).toEqual([
      256,
      "10.42.0.0/24",
      "10.42.1.0/24",
      "10.42.255.0/24",
    ]);
    expect(() => podCidrBlocks("10.42.0.0/16", 12)).toThrow("node CIDR mask size 12 must be between 16 and 30");
    expect(() => podCidrBlocks("10.42.0.300/16", 24)).toThrow("invalid cluster CIDR");
  });

  test("each node gets its own block; a full range gives CIDRNotAvailable; a freed block is reused", async () => {
    for (const n of ["ipam-a", "ipam-b"]) await env.client.resource("nodes").create(readyNode(n));
    const a = await waitFor("ipam-a's block", async () => (await podCidr("ipam-a")).podCIDR);
    const b = await waitFor("ipam-b's block", async () => (await podCidr("ipam-b")).podCIDR);
    expect(new Set([a, b])).toEqual(new Set(["10.77.0.0/30", "10.77.0.4/30"]));
    expect((await podCidr("ipam-a")).podCIDRs).toEqual([a]);
    await env.client.resource("nodes").create(readyNode("ipam-c"));
    const event = await waitFor("CIDRNotAvailable", async () =>
      (await env.client.resource<Event>("events", "default").list()).items.find((e) => e.reason === "CIDRNotAvailable"),
    );
    expect(event.message).toBe("Node ipam-c status is now: CIDRNotAvailable");
    await env.client.resource("nodes").delete("ipam-a");
    expect(await waitFor("ipam-c's block", async () => (await podCidr("ipam-c")).podCIDR)).toBe(a);
    expect((await podCidr("ipam-b")).podCIDR).toBe(b);
  });
});
