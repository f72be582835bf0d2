// `kube describe`, `kube logs`, `kube exec`: looking at and into running things.
import type { CAC } from "cac";
import { stringify } from "yaml";
import type { KindDef, KubeObject } from "../api/types.ts";
import { apiErrorFrom, resourcePath, type Client } from "../client/index.ts";
import { selectorToString } from "../api/selectors.ts";
import { cliContext, resourceName, targets, withGlobals, type GlobalOptions } from "./context.ts";
import { action, CliError } from "./fail.ts";
import { formatTable } from "./printers.ts";
import type { Event } from "../api/kinds/core.ts";
import { humanDuration, specOf } from "../api/kinds/define.ts";
import type { ServiceSpec } from "../api/kinds/service.ts";
import type { ReplicaSetSpec } from "../api/kinds/workloads.ts";

/** The pod selector of a workload (a label selector) or a Service / ReplicationController (a map). */
const selectorOf = (obj: KubeObject) => specOf<Pick<ReplicaSetSpec | ServiceSpec, "selector">>(obj).selector;

async function eventsFor(client: Client, obj: KubeObject): Promise<string> {
  const ns = obj.metadata?.namespace ?? "default";
  const list = await client
    .resource<Event>("events", ns)
    .list({ fieldSelector: `involvedObject.name=${obj.metadata?.name},involvedObject.uid=${obj.metadata?.uid}` });
  if (list.items.length === 0) return "Events:  <none>";
  const now = Date.now();
  const rows = list.items.map((e) => [
    e.type ?? "",
    e.reason ?? "",
    humanDuration(now - Date.parse(e.lastTimestamp ?? e.metadata?.creationTimestamp ?? "")),
    e.source?.component ?? "",
    e.message ?? "",
  ]);
  return `Events:\n${formatTable(["Type", "Reason", "Age", "From", "Message"], rows)
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n")}`;
}

/** A readable description: the object as indented YAML with its metadata first, then events. */
function describeText(kind: KindDef, obj: KubeObject): string {
  const m = obj.metadata ?? {};
  const head = [
    `Name:         ${m.name}`,
    ...(m.namespace ? [`Namespace:    ${m.namespace}`] : []),
    `Labels:       ${
      Object.entries(m.labels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join("\n              ") || "<none>"
    }`,
    `Annotations:  ${
      Object.entries(m.annotations ?? {})
        .filter(([k]) => !k.includes("last-applied"))
        .map(([k, v]) => `${k}: ${v}`)
        .join("\n              ") || "<none>"
    }`,
    `Created:      ${m.creationTimestamp}`,
    ...(m.ownerReferences?.length
      ? [`Controlled By:  ${m.ownerReferences[0]!.kind}/${m.ownerReferences[0]!.name}`]
      : []),
    ...(selectorOf(obj) ? [`Selector:     ${selectorToString(selectorOf(obj))}`] : []),
  ];
  const body = (key: string, v: unknown) =>
    v === undefined
      ? []
      : [
          `${key}:`,
          ...stringify(v)
            .trimEnd()
            .split("\n")
            .map((l) => `  ${l}`),
        ];
  const rest = Object.fromEntries(
    Object.entries(obj).filter(([k]) => !["apiVersion", "kind", "metadata", "spec", "status"].includes(k)),
  );
  return [
    ...head,
    ...body("Spec", obj.spec),
    ...body("Status", obj.status),
    ...(Object.keys(rest).length ? body("Data", rest) : []),
  ].join("\n");
}

export function registerInspect(cli: CAC): void {
  withGlobals(cli.command("describe [...resources]", "Show details of resources, with their events"))
    .option("-l, --selector <selector>", "Label selector")
    .action(
      action(async (resources: string[], opts: GlobalOptions & { selector?: string }) => {
        const { client, namespace } = cliContext(opts);
        const out: string[] = [];
        for (const t of targets(resources)) {
          const rc = client.resource(resourceName(t.kind), t.kind.namespaced ? namespace : undefined);
          const objs = t.names.length
            ? await Promise.all(t.names.map((n) => rc.get(n)))
            : (await rc.list({ labelSelector: opts.selector })).items;
          for (const o of objs) out.push(`${describeText(t.kind, o)}\n${await eventsFor(client, o)}`);
        }
        console.log(out.join("\n\n\n"));
      }),
    );

  withGlobals(cli.command("logs <pod> [container]", "Print a container's logs"))
    .option("-c, --container <name>", "Container name")
    .option("-f, --follow", "Stream new output")
    .option("--tail <n>", "Lines from the end")
    .option("-p, --previous", "The previous instance's logs")
    .option("--timestamps", "Prefix lines with timestamps")
    .option("--since <duration>", "Only newer lines, e.g. 5s, 2m, 3h")
    .action(
      action(
        async (
          podArg: string,
          containerArg: string | undefined,
          opts: GlobalOptions & {
            container?: string;
            follow?: boolean;
            tail?: string;
            previous?: boolean;
            timestamps?: boolean;
            since?: string;
          },
        ) => {
          const { client, namespace } = cliContext(opts);
          let pod = podArg;
          if (podArg.includes("/") && !podArg.startsWith("pod/") && !podArg.startsWith("pods/")) {
            const [t] = targets([podArg]);
            const owner = await client.resource(resourceName(t!.kind), namespace).get(t!.names[0]!);
            const pods = await client
              .resource("pods", namespace)
              .list({ labelSelector: selectorToString(selectorOf(owner)) });
            if (!pods.items.length) throw new CliError(`no pods found for ${podArg}`);
            pod = pods.items[0]!.metadata!.name!;
          } else pod = podArg.replace(/^pods?\//, "");
          const since = opts.since ? parseDuration(opts.since) : undefined;
          const query: Record<string, string | undefined> = {
            container: opts.container ?? containerArg,
            follow: opts.follow ? "true" : undefined,
            tailLines: opts.tail !== undefined && Number(opts.tail) >= 0 ? String(opts.tail) : undefined,
            previous: opts.previous ? "true" : undefined,
            timestamps: opts.timestamps ? "true" : undefined,
            sinceSeconds: since !== undefined ? String(since) : undefined,
          };
          const res = await client.request(
            "GET",
            resourcePath({ group: "", version: "v1", resource: "pods", namespaced: true }, namespace, pod, "log"),
            { query, accept: "text/plain, */*" },
          );
          if (!res.ok) throw await apiErrorFrom(res);
          const reader = res.body!.getReader();
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            process.stdout.write(value);
          }
        },
      ),
    );
}

function parseDuration(s: string): number {
  const m = s.match(/^(\d+)(s|m|h)$/);
  if (!m) throw new CliError(`invalid duration "${s}": use e.g. 30s, 5m, 2h`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as "s" | "m" | "h"];
}
