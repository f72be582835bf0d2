// Output formats shared by get and friends: kubectl-style tables (from the server's Table
// answer), -o json|yaml|name|wide|jsonpath=...
import { JSONPath } from "jsonpath-plus";
import { stringify } from "yaml";
import type { KindDef, KubeObject } from "../api/types.ts";
import { CliError } from "./fail.ts";

export interface Table {
  metadata?: { resourceVersion?: string };
  columnDefinitions: { name: string; priority: number }[];
  rows: {
    cells: unknown[];
    object?: { metadata?: { namespace?: string; name?: string; labels?: Record<string, string> } };
  }[];
}

function cell(v: unknown): string {
  if (v === undefined || v === null || v === "") return v === "" ? "" : "<none>";
  return String(v);
}

/** Formats rows as kubectl does: upper-case headers, columns padded with three spaces. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3)))
      .join("")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

export function tableText(
  t: Table,
  opts: { wide?: boolean; withNamespace?: boolean; showLabels?: boolean; noHeaders?: boolean; kindPrefix?: string },
): string {
  const cols = t.columnDefinitions.map((c, i) => ({ ...c, i })).filter((c) => c.priority === 0 || opts.wide);
  const headers = [
    ...(opts.withNamespace ? ["NAMESPACE"] : []),
    ...cols.map((c) => c.name.toUpperCase()),
    ...(opts.showLabels ? ["LABELS"] : []),
  ];
  const rows = t.rows.map((r) => {
    const cells = cols.map((c) => cell(r.cells[c.i]));
    if (opts.kindPrefix && cells.length) cells[0] = `${opts.kindPrefix}/${cells[0]}`;
    const labels =
      Object.entries(r.object?.metadata?.labels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(",") || "<none>";
    return [
      ...(opts.withNamespace ? [r.object?.metadata?.namespace ?? ""] : []),
      ...cells,
      ...(opts.showLabels ? [labels] : []),
    ];
  });
  const text = formatTable(headers, rows);
  return opts.noHeaders ? text.split("\n").slice(1).join("\n") : text;
}

export function nameOf(kind: KindDef, obj: KubeObject): string {
  return `${kind.group ? `${kind.resource.replace(/s$/, "")}.${kind.group}` : kind.singular}/${obj.metadata?.name}`.replace(
    /^endpoint\//,
    "endpoints/",
  );
}

/** kubectl's jsonpath templates: {.a.b}, {.items[*].metadata.name}, {range .items[*]}...{end}, {"\n"}. */
export function jsonpathText(template: string, data: unknown): string {
  const tpl = template.replace(/^'(.*)'$/s, "$1");
  let out = "";
  const tokens = tpl.split(/(\{[^}]*\})/).filter((t) => t !== "");
  const run = (toks: string[], ctx: unknown): void => {
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i]!;
      if (!t.startsWith("{")) {
        out += t;
        continue;
      }
      const expr = t.slice(1, -1).trim();
      if (expr.startsWith("range ")) {
        let depth = 1;
        let j = i + 1;
        for (; j < toks.length; j++) {
          const e = toks[j]!.slice(1, -1).trim();
          if (toks[j]!.startsWith("{") && e.startsWith("range ")) depth++;
          if (toks[j]!.startsWith("{") && e === "end" && --depth === 0) break;
        }
        for (const item of evaluate(expr.slice(6), ctx)) run(toks.slice(i + 1, j), item);
        i = j;
      } else if (/^".*"$/.test(expr)) out += JSON.parse(expr);
      else
        out += evaluate(expr, ctx)
          .map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v)))
          .join(" ");
    }
  };
  run(tokens, data);
  return out;
}

function evaluate(expr: string, ctx: unknown): unknown[] {
  const path =
    expr === "@" || expr === "." ? "$" : `$${expr.startsWith(".") || expr.startsWith("[") ? "" : "."}${expr}`;
  try {
    return JSONPath({ path, json: ctx as object, wrap: true }) as unknown[];
  } catch (err) {
    throw new CliError(`error parsing jsonpath ${expr}: ${(err as Error).message}`);
  }
}

export function printObjects(kind: KindDef, objs: KubeObject[], output: string, asList: boolean): string {
  const list = { apiVersion: "v1", kind: "List", metadata: { resourceVersion: "" }, items: objs };
  const data = asList ? list : objs[0];
  if (output === "json") return JSON.stringify(data, null, 4);
  if (output === "yaml") return stringify(data).trimEnd();
  if (output === "name") return objs.map((o) => nameOf(kind, o)).join("\n");
  if (output.startsWith("jsonpath=")) return jsonpathText(output.slice(9), data);
  throw new CliError(
    `unable to match a printer suitable for the output format "${output}", allowed formats are: json,jsonpath,name,wide,yaml`,
  );
}
