// Node IPAM, as kube-controller-manager's range allocator (pkg/controller/nodeipam, --allocate-node-cidrs
// with --cluster-cidr and --node-cidr-mask-size): each Node without spec.podCIDR gets the lowest free
// block of the cluster's pod range, written as spec.podCIDR and spec.podCIDRs. Its kubelet makes
// its container network from it and every node routes that block to the node's address, so pod
// addresses are unique in the cluster and routable between nodes (see docs/ARCHITECTURE.md,
// "Pod network across nodes"). Off when no cluster range is configured. One worker, so two nodes
// never get the same block; blocks written but not yet seen in the informer are remembered.
import type { Node } from "../../../api/kinds/core.ts";
import { podCidrBlocks } from "../../../api/cidr.ts";
import { isNotFound } from "../../../client/index.ts";
import { recordEvent } from "../../events.ts";
import { Controller } from "../base.ts";

const podCidrOf = (n: Node) => n.spec?.podCIDR;

export class NodeIpamController extends Controller {
  readonly name = "node-ipam";
  /** Blocks this controller wrote, by node, until the node is deleted. */
  private readonly written = new Map<string, string>();

  setup(): void {
    if (!this.ctx.config.clusterCidr) return;
    const nodes = this.ctx.informers.get<Node>("nodes");
    nodes.on({
      add: this.enqueue,
      update: (_, n) => this.enqueue(n),
      delete: (n) => {
        this.written.delete(n.metadata!.name!);
        // Its block is free again: nodes still waiting for one try again.
        for (const other of nodes.list()) if (!podCidrOf(other)) this.enqueue(other);
      },
    });
  }

  override run(): void {
    if (this.ctx.config.clusterCidr) super.run(1);
  }

  async reconcile(key: string): Promise<void> {
    const node = this.ctx.informers.get<Node>("nodes").get(key);
    if (!node || podCidrOf(node)) return;
    const blocks = podCidrBlocks(this.ctx.config.clusterCidr!, this.ctx.config.nodeCidrMaskSize);
    const used = new Set(this.written.values());
    for (const n of this.ctx.informers.get<Node>("nodes").list()) {
      const c = podCidrOf(n);
      if (c) used.add(c);
    }
    const already = this.written.get(key);
    let cidr = already;
    for (let i = 0; !cidr && i < blocks.count; i++) if (!used.has(blocks.block(i))) cidr = blocks.block(i);
    if (!cidr) {
      // Upstream records the node status change "CIDRNotAvailable".
      recordEvent(
        this.ctx.client,
        "cidrAllocator",
        node,
        "Normal",
        "CIDRNotAvailable",
        `Node ${key} status is now: CIDRNotAvailable`,
      );
      throw new Error(
        `failed to allocate cidr from cluster cidr ${this.ctx.config.clusterCidr}: CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range`,
      );
    }
    this.written.set(key, cidr);
    try {
      await this.ctx.client
        .resource("nodes")
        .patch(
          key,
          { metadata: { resourceVersion: node.metadata?.resourceVersion }, spec: { podCIDR: cidr, podCIDRs: [cidr] } },
          "merge",
        );
      this.ctx.log(`node-ipam: node ${key} gets pod CIDR ${cidr}`);
    } catch (e) {
      if (!already) this.written.delete(key);
      if (!isNotFound(e)) throw e;
    }
  }
}
