// `kube get`: tables like kubectl's (the server renders them), -o wide|json|yaml|name|jsonpath,
// -l, --field-selector, -n, -A, -w, --show-labels, and `get all`.
import type { CAC } from "cac";
import type { KindDef, KubeObject } from "../api/types.ts";
import { allKinds } from "../api/registry.ts";
import { apiErrorFrom, ndjsonLines, resourcePath, type Client } from "../client/index.ts";
import { cliContext, resourceName, targets, withGlobals, type GlobalOptions } from "./context.ts";
import { action, CliError } from "./fail.ts";
import { nameOf, printObjects, tableText, type Table } from "./printers.ts";

const TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

export interface GetOptions extends GlobalOptions {
  output?: string;
  o?: string;
  selector?: string;
  l?: string;
  fieldSelector?: string;
  watch?: boolean;
  w?: boolean;
  showLabels?: boolean;
  noHeaders?: boolean;
}

export function registerGet(cli: CAC): void {
  withGlobals(cli.command("get [...resources]", "Display one or many resources"))
    .option("-o, --output <format>", "json|yaml|wide|name|jsonpath=TEMPLATE")
    .option("-l, --selector <selector>", "Label selector")
    .option("--field-selector <selector>", "Field selector")
    .option("-A, --all-namespaces", "List across all namespaces")
    .option("-w, --watch", "Watch for changes after listing")
    .option("--show-labels", "Show labels as the last column")
    .option("--no-headers", "Omit the header row")
    .action(action((resources: string[], opts: GetOptions) => get(resources, opts)));
}

async function request(
  client: Client,
  path: string,
  query: Record<string, string | undefined>,
  accept: string,
): Promise<any> {
  const res = await client.request("GET", path, { query, accept });
  if (!res.ok) throw await apiErrorFrom(res);
  return res.json();
}

export async function get(resources: string[], opts: GetOptions): Promise<void> {
  const { client, namespace } = cliContext(opts);
  const all = !!opts.allNamespaces || !!opts.A;
  const output = opts.output ?? opts.o ?? "";
  const selector = opts.selector ?? opts.l;
  const expanded = resources[0] === "all" ? [{ kind: undefined, names: resources.slice(1) }] : targets(resources);
  const groups: { kind: KindDef; names: string[] }[] = [];
  for (const t of expanded) {
    if (t.kind) groups.push(t as { kind: KindDef; names: string[] });
    else for (const k of allKinds()) if (k.categories.includes("all")) groups.push({ kind: k, names: t.names });
  }
  const many = groups.length > 1;
  // The watch (-w) continues from the revision the listing was read at: no change falls in between.
  let listedAt: string | undefined;
  const out: string[] = [];
  const collected: { kind: KindDef; obj: KubeObject }[] = [];
  for (const { kind, names } of groups) {
    const ns = kind.namespaced ? (all ? undefined : namespace) : undefined;
    const query = { labelSelector: selector, fieldSelector: opts.fieldSelector };
    if (output && output !== "wide") {
      const objs: KubeObject[] = names.length
        ? await Promise.all(names.map((n) => client.resource(resourceName(kind), ns).get(n)))
        : await client
            .resource(resourceName(kind), ns)
            .list(query)
            .then((l) => {
              listedAt ??= l.metadata.resourceVersion;
              return l.items.map((o) => ({ ...o, apiVersion: o.apiVersion, kind: kind.kind }));
            });
      for (const obj of objs) collected.push({ kind, obj });
      continue;
    }
    const tables: Table[] = names.length
      ? await Promise.all(names.map((n) => request(client, resourcePath(kind, ns ?? namespace, n), {}, TABLE_ACCEPT)))
      : [await request(client, resourcePath(kind, ns), query, TABLE_ACCEPT)];
    const table: Table = { columnDefinitions: tables[0]!.columnDefinitions, rows: tables.flatMap((t) => t.rows) };
    listedAt ??= tables[0]?.metadata?.resourceVersion;
    if (table.rows.length === 0) continue;
    out.push(
      tableText(table, {
        wide: output === "wide",
        withNamespace: all && kind.namespaced,
        showLabels: opts.showLabels,
        noHeaders: opts.noHeaders === false || opts.noHeaders === true ? opts.noHeaders : false,
        kindPrefix: many ? nameOf(kind, { metadata: { name: "" } }).replace(/\/$/, "") : undefined,
      }),
    );
  }
  if (output && output !== "wide") {
    const single = collected.length === 1 && groups.length === 1 && groups[0]!.names.length === 1;
    if (collected.length === 0 && output !== "json" && output !== "yaml") return;
    const text = printObjects(
      collected[0]?.kind ?? groups[0]!.kind,
      collected.map((c) => c.obj),
      output,
      !single,
    );
    // kubectl prints jsonpath output exactly as the template says, without a final newline.
    process.stdout.write(output.startsWith("jsonpath=") ? text : `${text}\n`);
  } else if (out.length === 0) {
    if (!opts.watch && !opts.w)
      console.error(all ? "No resources found" : `No resources found in ${namespace} namespace.`);
  } else console.log(out.join("\n\n"));
  if (opts.watch || opts.w) {
    if (groups.length !== 1)
      throw new CliError("watch is only supported on individual resources and resource collections");
    await watchTable(
      client,
      groups[0]!.kind,
      groups[0]!.kind.namespaced && !all ? namespace : undefined,
      selector,
      opts,
      output,
      listedAt,
    );
  }
}

async function watchTable(
  client: Client,
  kind: KindDef,
  ns: string | undefined,
  selector: string | undefined,
  opts: GetOptions,
  output: string,
  from: string | undefined,
): Promise<void> {
  const resourceVersion =
    from ??
    (
      await client
        .resource(resourceName(kind), ns)
        .list({ labelSelector: selector, fieldSelector: opts.fieldSelector, limit: 1 })
    ).metadata.resourceVersion;
  const res = await client.request("GET", resourcePath(kind, ns), {
    query: { watch: "true", resourceVersion, labelSelector: selector, fieldSelector: opts.fieldSelector },
    accept: output && output !== "wide" ? "application/json" : TABLE_ACCEPT,
  });
  if (!res.ok || !res.body) throw await apiErrorFrom(res);
  let columns: Table["columnDefinitions"] | undefined;
  for await (const line of ndjsonLines(res.body.getReader())) {
    const ev = JSON.parse(line) as { type: string; object: any };
    if (ev.type === "ERROR") throw new CliError(ev.object?.message ?? "watch failed");
    if (ev.type === "BOOKMARK") continue;
    if (output && output !== "wide") {
      console.log(printObjects(kind, [ev.object], output, false));
      continue;
    }
    if (ev.object.columnDefinitions?.length) columns = ev.object.columnDefinitions;
    if (!columns) continue;
    console.log(
      tableText(
        { columnDefinitions: columns, rows: ev.object.rows },
        { wide: output === "wide", withNamespace: !ns && kind.namespaced, noHeaders: true },
      ),
    );
  }
}
