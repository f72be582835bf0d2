// `kube cordon|uncordon|drain NODE` and `kube top nodes|pods`.
import type { CAC } from "cac";
import { cpuMillis, formatCpuMillis, memoryBytes } from "../api/quantity.ts";
import { isNotFound } from "../client/index.ts";
import { cliContext, withGlobals, type GlobalOptions } from "./context.ts";
import { action, CliError } from "./fail.ts";
import { formatTable } from "./printers.ts";

export function registerNodes(cli: CAC): void {
  for (const [name, unschedulable] of [["cordon", true], ["uncordon", false]] as const) {
    withGlobals(cli.command(`${name} <node>`, unschedulable ? "Mark a node unschedulable" : "Mark a node schedulable")).action(
      action(async (node: string, opts: GlobalOptions) => {
        const { client } = cliContext(opts);
        const current = (await client.resource("nodes").get(node)) as { spec?: { unschedulable?: boolean } };
        if (!!current.spec?.unschedulable === unschedulable) return console.log(`node/${node} already ${name}ed`);
        await client.resource("nodes").patch(node, { spec: { unschedulable: unschedulable ? true : null } }, "merge");
        console.log(`node/${node} ${name}ed`);
      }),
    );
  }

  withGlobals(cli.command("drain <node>", "Cordon a node and evict its pods"))
    .option("--ignore-daemonsets", "Leave DaemonSet pods in place")
    .option("--force", "Also delete pods no controller will recreate")
    .option("--grace-period <seconds>", "Grace period for the pods")
    .action(action(async (node: string, opts: GlobalOptions & { ignoreDaemonsets?: boolean; force?: boolean; gracePeriod?: string }) => {
      const { client } = cliContext(opts);
      await client.resource("nodes").patch(node, { spec: { unschedulable: true } }, "merge");
      console.log(`node/${node} cordoned`);
      const pods = (await client.resource("pods").list({ fieldSelector: `spec.nodeName=${node}` })).items;
      const owner = (p: (typeof pods)[number]) => p.metadata?.ownerReferences?.find((r) => r.controller);
      const daemon = pods.filter((p) => owner(p)?.kind === "DaemonSet");
      const bare = pods.filter((p) => !owner(p));
      if (daemon.length && !opts.ignoreDaemonsets) throw new CliError(`cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): ${daemon.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`).join(", ")}`);
      if (bare.length && !opts.force) throw new CliError(`cannot delete Pods that declare no controller (use --force to override): ${bare.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`).join(", ")}`);
      for (const p of pods) {
        if (owner(p)?.kind === "DaemonSet") continue;
        await client
          .resource("pods", p.metadata?.namespace)
          .createSubresource(p.metadata!.name!, "eviction", { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: p.metadata!.name, namespace: p.metadata!.namespace }, ...(opts.gracePeriod ? { deleteOptions: { gracePeriodSeconds: Number(opts.gracePeriod) } } : {}) })
          .catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
        console.log(`evicting pod ${p.metadata?.namespace}/${p.metadata?.name}`);
      }
      console.log(`node/${node} drained`);
    }));

  withGlobals(cli.command("top <what>", "Show resource requests of nodes or pods (nodes|pods)"))
    .option("-A, --all-namespaces", "All namespaces")
    .action(action(async (what: string, opts: GlobalOptions & { allNamespaces?: boolean }) => {
      const { client, namespace } = cliContext(opts);
      const pods = (await client.resource("pods", opts.allNamespaces ? undefined : what.startsWith("node") ? undefined : namespace).list()).items as any[];
      const req = (p: any, k: "cpu" | "memory") => (p.spec?.containers ?? []).reduce((n: number, c: any) => n + (k === "cpu" ? cpuMillis(c.resources?.requests?.cpu) : memoryBytes(c.resources?.requests?.memory)), 0);
      if (what.startsWith("node")) {
        const nodes = (await client.resource("nodes").list()).items as any[];
        const rows = nodes.map((n) => {
          const mine = pods.filter((p) => p.spec?.nodeName === n.metadata.name && !["Succeeded", "Failed"].includes(p.status?.phase));
          const cpu = mine.reduce((s, p) => s + req(p, "cpu"), 0);
          const mem = mine.reduce((s, p) => s + req(p, "memory"), 0);
          const a = n.status?.allocatable ?? {};
          return [n.metadata.name, formatCpuMillis(cpu), `${Math.round((100 * cpu) / Math.max(1, cpuMillis(a.cpu)))}%`, `${Math.round(mem / 2 ** 20)}Mi`, `${Math.round((100 * mem) / Math.max(1, memoryBytes(a.memory)))}%`];
        });
        return console.log(formatTable(["NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"], rows));
      }
      if (!what.startsWith("pod")) throw new CliError(`unknown resource "${what}": use nodes or pods`);
      const rows = pods.map((p) => [...(opts.allNamespaces ? [p.metadata.namespace] : []), p.metadata.name, formatCpuMillis(req(p, "cpu")), `${Math.round(req(p, "memory") / 2 ** 20)}Mi`]);
      console.log(formatTable([...(opts.allNamespaces ? ["NAMESPACE"] : []), "NAME", "CPU(cores)", "MEMORY(bytes)"], rows));
    }));
}
