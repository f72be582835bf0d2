// `kube cordon|uncordon|drain NODE` and `kube top nodes|pods`.
import type { CAC } from "cac";
import { cpuMillis, formatCpuMillis, memoryBytes } from "../api/quantity.ts";
import type { Node } from "../api/kinds/core.ts";
import type { Summary } from "../api/stats.ts";
import { isNotFound, ignore } from "../client/index.ts";
import { cliContext, withGlobals, type GlobalOptions } from "./context.ts";
import { action, CliError } from "./fail.ts";
import { formatTable } from "./printers.ts";

export function registerNodes(cli: CAC): void {
  for (const [name, unschedulable] of [
    ["cordon", true],
    ["uncordon", false],
  ] as const) {
    withGlobals(
      cli.command(`${name} <node>`, unschedulable ? "Mark a node unschedulable" : "Mark a node schedulable"),
    ).action(
      action(async (node: string, opts: GlobalOptions) => {
        const { client } = cliContext(opts);
        const current = await client.resource<Node>("nodes").get(node);
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
    .action(
      action(
        async (
          node: string,
          opts: GlobalOptions & { ignoreDaemonsets?: boolean; force?: boolean; gracePeriod?: string },
        ) => {
          const { client } = cliContext(opts);
          await client.resource("nodes").patch(node, { spec: { unschedulable: true } }, "merge");
          console.log(`node/${node} cordoned`);
          const pods = (await client.resource("pods").list({ fieldSelector: `spec.nodeName=${node}` })).items;
          const owner = (p: (typeof pods)[number]) => p.metadata?.ownerReferences?.find((r) => r.controller);
          const daemon = pods.filter((p) => owner(p)?.kind === "DaemonSet");
          const bare = pods.filter((p) => !owner(p));
          if (daemon.length && !opts.ignoreDaemonsets)
            throw new CliError(
              `cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): ${daemon.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`).join(", ")}`,
            );
          if (bare.length && !opts.force)
            throw new CliError(
              `cannot delete Pods that declare no controller (use --force to override): ${bare.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`).join(", ")}`,
            );
          for (const p of pods) {
            if (owner(p)?.kind === "DaemonSet") continue;
            await client
              .resource("pods", p.metadata?.namespace)
              .createSubresource(p.metadata!.name!, "eviction", {
                apiVersion: "policy/v1",
                kind: "Eviction",
                metadata: { name: p.metadata!.name, namespace: p.metadata!.namespace },
                ...(opts.gracePeriod ? { deleteOptions: { gracePeriodSeconds: Number(opts.gracePeriod) } } : {}),
              })
              .catch(ignore(isNotFound));
            console.log(`evicting pod ${p.metadata?.namespace}/${p.metadata?.name}`);
          }
          console.log(`node/${node} drained`);
        },
      ),
    );

  withGlobals(
    cli.command("top <what>", "Show CPU and memory use of nodes or pods (nodes|pods), measured by the kubelets"),
  )
    .option("-A, --all-namespaces", "All namespaces")
    .action(
      action(async (what: string, opts: GlobalOptions & { allNamespaces?: boolean }) => {
        if (!what.startsWith("node") && !what.startsWith("pod"))
          throw new CliError(`unknown resource "${what}": use nodes or pods`);
        const { client, namespace } = cliContext(opts);
        const nodes = (await client.resource<Node>("nodes").list()).items;
        // Two samples a second apart: CPU use is the growth of cumulative CPU time.
        const sample = async () => {
          const out = new Map<string, Summary>();
          await Promise.all(
            nodes.map(async (n) => {
              const name = n.metadata!.name!;
              const res = await client.request("GET", `/api/v1/nodes/${name}/proxy/stats/summary`);
              if (res.ok) out.set(name, (await res.json()) as Summary);
              else await res.arrayBuffer();
            }),
          );
          return out;
        };
        const first = await sample();
        const t0 = Date.now();
        await Bun.sleep(1000);
        const second = await sample();
        const seconds = (Date.now() - t0) / 1000;
        const milli = (a: number, b: number) => Math.max(0, Math.round((b - a) / 1e6 / seconds));
        if (what.startsWith("node")) {
          const rows = nodes
            .filter((n) => second.has(n.metadata!.name!))
            .map((n) => {
              const name = n.metadata!.name!;
              const s1 = (second.get(name)!.nodes.find((x) => x.nodeName === name) ?? second.get(name)!.node)!;
              const s0 = first.get(name)?.nodes.find((x) => x.nodeName === name) ?? s1;
              const cpu = milli(s0.cpu.usageCoreNanoSeconds, s1.cpu.usageCoreNanoSeconds);
              const mem = s1.memory.workingSetBytes;
              const a = n.status?.allocatable ?? {};
              return [
                name,
                formatCpuMillis(cpu),
                `${Math.round((100 * cpu) / Math.max(1, cpuMillis(a.cpu)))}%`,
                `${Math.round(mem / 2 ** 20)}Mi`,
                `${Math.round((100 * mem) / Math.max(1, memoryBytes(a.memory)))}%`,
              ];
            });
          if (!rows.length) throw new CliError("metrics not available yet: no kubelet answered");
          return console.log(formatTable(["NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"], rows));
        }
        const before = new Map<string, number>();
        for (const s of first.values())
          for (const p of s.pods)
            before.set(
              p.podRef.uid,
              p.containers.reduce((n, c) => n + c.cpu.usageCoreNanoSeconds, 0),
            );
        const rows: string[][] = [];
        for (const s of second.values())
          for (const p of s.pods) {
            if (!opts.allNamespaces && p.podRef.namespace !== namespace) continue;
            const cpuNow = p.containers.reduce((n, c) => n + c.cpu.usageCoreNanoSeconds, 0);
            const mem = p.containers.reduce((n, c) => n + c.memory.workingSetBytes, 0);
            rows.push([
              ...(opts.allNamespaces ? [p.podRef.namespace] : []),
              p.podRef.name,
              formatCpuMillis(milli(before.get(p.podRef.uid) ?? cpuNow, cpuNow)),
              `${Math.round(mem / 2 ** 20)}Mi`,
            ]);
          }
        if (!rows.length) return console.error(`No resources found in ${namespace} namespace.`);
        console.log(
          formatTable(
            [...(opts.allNamespaces ? ["NAMESPACE"] : []), "NAME", "CPU(cores)", "MEMORY(bytes)"],
            rows.sort((a, b) => a.join().localeCompare(b.join())),
          ),
        );
      }),
    );
}
