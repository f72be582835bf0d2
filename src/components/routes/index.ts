// Pod routes between nodes, as flannel's host-gw backend (k3s's `--flannel-backend host-gw`): each
// node routes every other node's podCIDR (Node.spec.podCIDR, from node IPAM) via that node's
// InternalIP, so a pod reaches a pod on another node at its own address with no overlay and no
// encapsulation; the nodes must share an L2 segment (or a router must know the same routes).
// Watching Nodes keeps the routes in step as nodes join, change address or leave. Each process's
// routes carry metric = its pid and protocol 107 (so two kube processes on one host never remove
// each other's, as the proxy's local range); they are removed on exit, and those of dead processes
// by the next process that starts. Pod to pod traffic is not masqueraded (noNatRule). Only with a
// cluster pod range (--cluster-cidr), as root, for the engine runtime.
import type { Node } from "../../api/kinds/core.ts";
import { Informer } from "../../client/index.ts";
import { ip, runCommand } from "../../util/ip-command.ts";
import { processAlive } from "../../util/process.ts";
import { clientOf, type Component, type ComponentContext } from "../types.ts";

/** Routes of ours carry this protocol number (`ip route ... proto 107`). */
export const ROUTE_PROTO = "107";

interface NodeNet {
  cidr: string;
  via: string;
}

/** The other nodes' pod ranges and where to send them (nodes without a podCIDR or a usable address are skipped). */
export function wantedRoutes(nodes: Node[], self: string, selfIp?: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const n of nodes) {
    if (n.metadata?.name === self) continue;
    const cidr = n.spec?.podCIDR;
    const via = n.status?.addresses?.find((a) => a.type === "InternalIP")?.address;
    if (!cidr || !via || via.startsWith("127.") || via === selfIp) continue;
    out.set(cidr, via);
  }
  return out;
}

const iptables = (args: string[]): Promise<string> => runCommand("iptables", ["-w", "5", ...args]);

/**
 * Pod to pod stays unNATed (Kubernetes' network model; flannel's `-s cluster -d cluster RETURN`):
 * the engine masquerades whatever leaves its subnet, so traffic from this node's block to the
 * cluster range is accepted first in nat POSTROUTING, in the iptables table where the engine's
 * rule is. Tagged with our pid, removed on exit, and left-overs of dead processes at the next start.
 */
const noNatRule = (podCidr: string, clusterCidr: string) => [
  "POSTROUTING",
  "-s",
  podCidr,
  "-d",
  clusterCidr,
  "-m",
  "comment",
  "--comment",
  `kube pod traffic unNATed ${process.pid}`,
  "-j",
  "ACCEPT",
];

async function removeDeadNoNatRules(): Promise<void> {
  const listed = await iptables(["-t", "nat", "-S", "POSTROUTING"]);
  for (const m of listed.matchAll(/^-A (POSTROUTING .*kube pod traffic unNATed (\d+)"? .*)$/gm)) {
    const pid = Number(m[2]);
    if (pid > 1 && pid !== process.pid && !processAlive(pid))
      await iptables([
        "-t",
        "nat",
        "-D",
        ...(m[1]!.match(/"[^"]*"|\S+/g) ?? []).map((a) => a.replace(/^"|"$/g, "")),
      ]).catch(() => {});
  }
}

/** Removes routes of ours left by processes that died. */
async function removeDeadRoutes(): Promise<void> {
  const listed = await ip(["-4", "route", "show", "proto", ROUTE_PROTO]);
  for (const m of listed.matchAll(/^(\S+) via (\S+) .*metric (\d+)/gm)) {
    const pid = Number(m[3]);
    if (pid > 1 && pid !== process.pid && !processAlive(pid))
      await ip(["route", "del", m[1]!, "proto", ROUTE_PROTO, "metric", String(pid)]).catch(() => {});
  }
}

export const routesComponent: Component = {
  name: "routes",
  async start(ctx: ComponentContext) {
    if (!ctx.config.clusterCidr || ctx.runtime !== "engine" || process.getuid?.() !== 0) return { async stop() {} };
    const log = (m: string) => ctx.log("routes", m);
    await removeDeadRoutes().catch((e) => log(`old routes: ${e.message}`));
    await removeDeadNoNatRules().catch((e) => log(`old nat rules: ${e.message}`));
    let noNat: string[] | undefined;
    let noNatTried = false;
    const client = clientOf(ctx, `system:node:${ctx.nodeName}`, ["system:nodes"]);
    const nodes = new Informer<Node>(client.resource<Node>("nodes"));
    const installed = new Map<string, NodeNet>();
    const metric = String(process.pid);
    let syncing = Promise.resolve();
    let stopped = false;
    const sync = () => {
      syncing = syncing.then(async () => {
        if (stopped) return;
        const own = nodes.get(ctx.nodeName)?.spec?.podCIDR;
        if (own && !noNatTried) {
          noNatTried = true;
          const rule = noNatRule(own, ctx.config.clusterCidr!);
          await iptables(["-t", "nat", "-I", rule[0]!, "1", ...rule.slice(1)]).then(
            () => (noNat = rule),
            (e) => log(`pod traffic to other nodes is masqueraded by the engine: ${e.message}`),
          );
        }
        const wanted = wantedRoutes(nodes.list(), ctx.nodeName, ctx.nodeIp);
        for (const [cidr, net] of installed)
          if (wanted.get(cidr) !== net.via) {
            await ip(["route", "del", cidr, "proto", ROUTE_PROTO, "metric", metric]).catch(() => {});
            installed.delete(cidr);
            log(`route to ${cidr} via ${net.via} removed`);
          }
        for (const [cidr, via] of wanted) {
          if (installed.get(cidr)?.via === via) continue;
          try {
            await ip(["route", "replace", cidr, "via", via, "proto", ROUTE_PROTO, "metric", metric]);
            installed.set(cidr, { cidr, via });
            log(`pods of ${cidr} are reached via ${via}`);
          } catch (e) {
            // Retried at the next node event (a node's address may not be reachable yet).
            log(`route to ${cidr} via ${via}: ${(e as Error).message}`);
          }
        }
      });
    };
    nodes.on({ add: sync, update: sync, delete: sync });
    nodes.start();
    await nodes.waitForSync();
    sync();
    await syncing;
    return {
      async stop() {
        stopped = true;
        nodes.stop();
        await syncing;
        for (const cidr of installed.keys())
          await ip(["route", "del", cidr, "proto", ROUTE_PROTO, "metric", metric]).catch(() => {});
        installed.clear();
        if (noNat) await iptables(["-t", "nat", "-D", ...noNat]).catch(() => {});
      },
    };
  },
};
