// `kube rollout status|history|undo deployment/NAME`: watching a Deployment converge, its
// revisions (from its ReplicaSets' annotations), and going back to the previous template.
import type { CAC } from "cac";
import type { Deployment, ReplicaSet } from "../api/kinds/workloads.ts";
import { selectorToString } from "../api/selectors.ts";
import { cliContext, resourceName, targets, withGlobals, type GlobalOptions } from "./context.ts";
import { action, CliError } from "./fail.ts";
import { formatTable } from "./printers.ts";
import { cloneJson } from "../api/clone.ts";

const REVISION = "deployment.kubernetes.io/revision";

function progress(d: Deployment): { done: boolean; message: string } {
  const want = d.spec.replicas ?? 1;
  const s = d.status ?? {};
  if ((d.metadata?.generation ?? 0) > (s.observedGeneration ?? 0))
    return { done: false, message: "Waiting for deployment spec update to be observed..." };
  if ((s.updatedReplicas ?? 0) < want)
    return {
      done: false,
      message: `Waiting for deployment "${d.metadata?.name}" rollout to finish: ${s.updatedReplicas ?? 0} out of ${want} new replicas have been updated...`,
    };
  if ((s.replicas ?? 0) > (s.updatedReplicas ?? 0))
    return {
      done: false,
      message: `Waiting for deployment "${d.metadata?.name}" rollout to finish: ${(s.replicas ?? 0) - (s.updatedReplicas ?? 0)} old replicas are pending termination...`,
    };
  if ((s.availableReplicas ?? 0) < want)
    return {
      done: false,
      message: `Waiting for deployment "${d.metadata?.name}" rollout to finish: ${s.availableReplicas ?? 0} of ${want} updated replicas are available...`,
    };
  return { done: true, message: `deployment "${d.metadata?.name}" successfully rolled out` };
}

async function replicaSetsOf(opts: GlobalOptions, d: Deployment): Promise<ReplicaSet[]> {
  const { client, namespace } = cliContext(opts);
  const rss = await client
    .resource<ReplicaSet>("replicasets.apps", namespace)
    .list({ labelSelector: selectorToString(d.spec.selector) });
  return rss.items
    .filter((r) => r.metadata?.ownerReferences?.some((o) => o.uid === d.metadata?.uid))
    .sort(
      (a, b) => Number(a.metadata?.annotations?.[REVISION] ?? 0) - Number(b.metadata?.annotations?.[REVISION] ?? 0),
    );
}

export function registerRollout(cli: CAC): void {
  withGlobals(cli.command("rollout <action> <resource>", "status|history|undo a Deployment rollout"))
    .option("--timeout <seconds>", "Give up waiting after this long (status)")
    .option("--to-revision <n>", "Revision to go back to (undo)")
    .action(
      action(
        async (what: string, resource: string, opts: GlobalOptions & { timeout?: string; toRevision?: string }) => {
          const [t] = targets([resource]);
          if (t!.kind.kind !== "Deployment")
            throw new CliError(`rollout is supported for deployments here, not ${t!.kind.resource}`);
          const { client, namespace } = cliContext(opts);
          const rc = client.resource<Deployment>(resourceName(t!.kind), namespace);
          const name = t!.names[0]!;
          if (what === "status") {
            const deadline = opts.timeout ? Date.now() + Number(opts.timeout) * 1000 : Infinity;
            let last = "";
            const w = rc.watch({ fieldSelector: `metadata.name=${name}` });
            try {
              const check = (d: Deployment) => {
                const p = progress(d);
                if (p.message !== last) console.log(p.message);
                last = p.message;
                return p.done;
              };
              if (check(await rc.get(name))) return;
              const timer = Number.isFinite(deadline) ? setTimeout(() => w.close(), deadline - Date.now()) : undefined;
              for await (const ev of w)
                if (ev.type !== "BOOKMARK" && ev.type !== "DELETED" && check(ev.object)) return clearTimeout(timer);
              throw new CliError(`timed out waiting for the condition`);
            } finally {
              w.close();
            }
          }
          const d = await rc.get(name);
          const rss = await replicaSetsOf(opts, d);
          if (what === "history") {
            const rows = rss.map((r) => [
              r.metadata?.annotations?.[REVISION] ?? "",
              r.metadata?.annotations?.["kubernetes.io/change-cause"] ?? "<none>",
            ]);
            return console.log(`deployment.apps/${name}\n${formatTable(["REVISION", "CHANGE-CAUSE"], rows)}`);
          }
          if (what === "undo") {
            const current = Number(d.metadata?.annotations?.[REVISION] ?? 0);
            const target = opts.toRevision
              ? rss.find((r) => r.metadata?.annotations?.[REVISION] === String(opts.toRevision))
              : [...rss].reverse().find((r) => Number(r.metadata?.annotations?.[REVISION]) < current);
            if (!target)
              throw new CliError(
                opts.toRevision
                  ? `unable to find specified revision ${opts.toRevision} in history`
                  : "no rollout history found for deployment",
              );
            const template = cloneJson(target.spec.template);
            delete template.metadata?.labels?.["pod-template-hash"];
            await rc.patch(name, { spec: { template } }, "strategic");
            return console.log(`deployment.apps/${name} rolled back`);
          }
          throw new CliError(`unknown rollout action "${what}": use status, history or undo`);
        },
      ),
    );
}
