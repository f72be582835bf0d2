// The kinds a CustomResourceDefinition serves: one registry entry per served version, all
// stored under the same key prefix (conversion None: versions differ only in apiVersion).
// Each entry prunes, defaults and validates by its version's structural schema, prints its
// additionalPrinterColumns, selects by its selectableFields and declares its subresources.
import { JSONPath } from "jsonpath-plus";
import type { KindDef, KubeObject, TableColumn } from "../types.ts";
import { Causes, objectMeta } from "../validation.ts";
import { age, ageColumn, humanDuration, nameColumn, STANDARD_VERBS } from "../kinds/define.ts";
import { StructuralSchema } from "./schema.ts";
import type { CrdSpec, CrdVersion, PrinterColumn } from "./types.ts";

/** Reads a printer column's or selectable field's JSON path (".spec.x" fast; filters via jsonpath-plus). */
export function jsonPathReader(path: string): (obj: KubeObject) => unknown {
  if (/^(\.[A-Za-z0-9_-]+)+$/.test(path)) {
    const parts = path.slice(1).split(".");
    return (obj) => {
      let cur: unknown = obj;
      for (const p of parts) cur = cur && typeof cur === "object" ? (cur as Record<string, unknown>)[p] : undefined;
      return cur;
    };
  }
  const expr = `$${path}`;
  return (obj) => {
    const found = JSONPath({ path: expr, json: obj as object, wrap: true }) as unknown[];
    return found.length === 0 ? undefined : found.length === 1 ? found[0] : found;
  };
}

/** A cell as apiextensions-apiserver's table convertor renders it. */
function cell(type: string, v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (type === "date" && typeof v === "string") {
    const t = Date.parse(v);
    return Number.isNaN(t) ? "<invalid>" : humanDuration(Date.now() - t);
  }
  if (type === "integer") return typeof v === "number" && Number.isInteger(v) ? v : null;
  if (type === "number") return typeof v === "number" ? v : null;
  if (type === "boolean") return typeof v === "boolean" ? v : null;
  if (type === "string") return typeof v === "string" ? v : JSON.stringify(v);
  return v;
}

function table(columns: PrinterColumn[] | undefined): KindDef["table"] {
  if (!columns?.length) return { columns: [nameColumn, ageColumn], row: (o, now) => [o.metadata?.name, age(o, now)] };
  const readers = columns.map((c) => jsonPathReader(c.jsonPath));
  const defs: TableColumn[] = columns.map((c) => ({
    name: c.name,
    type: (["string", "integer", "number", "boolean", "date"].includes(c.type)
      ? c.type
      : "string") as TableColumn["type"],
    format: c.format ?? "",
    description: c.description ?? "",
    priority: (c.priority ?? 0) > 0 ? 1 : 0,
  }));
  return {
    columns: [nameColumn, ...defs],
    row: (o) => [o.metadata?.name, ...columns.map((c, i) => cell(c.type, readers[i]!(o)))],
  };
}

const KUBE_VERSION = /^v(\d+)(?:(alpha|beta)(\d+))?$/;
/** Kubernetes' version priority: GA > beta > alpha, higher numbers first; others by name. */
export function compareVersions(a: string, b: string): number {
  const ma = KUBE_VERSION.exec(a);
  const mb = KUBE_VERSION.exec(b);
  if (!ma || !mb) return ma ? -1 : mb ? 1 : a.localeCompare(b);
  const rank = (m: RegExpExecArray) => (m[2] === undefined ? 3 : m[2] === "beta" ? 2 : 1);
  if (rank(ma) !== rank(mb)) return rank(mb) - rank(ma);
  if (ma[1] !== mb[1]) return Number(mb[1]) - Number(ma[1]);
  return Number(mb[3] ?? 0) - Number(ma[3] ?? 0);
}

function customKind(spec: CrdSpec, v: CrdVersion, schemaRevision: number): KindDef {
  const names = spec.names;
  const schema = new StructuralSchema(
    v.schema?.openAPIV3Schema ?? { type: "object", "x-kubernetes-preserve-unknown-fields": true },
  );
  const hasStatusSub = !!v.subresources?.status;
  const apiVersion = `${spec.group}/${v.name}`;
  const scale = v.subresources?.scale;
  const strip = (p: string) => p.replace(/^\./, "");
  const selectable = Object.fromEntries(
    (v.selectableFields ?? []).map((f) => {
      const read = jsonPathReader(f.jsonPath);
      return [strip(f.jsonPath), (o: KubeObject) => (read(o) === undefined ? undefined : String(read(o)))];
    }),
  );
  const kind: KindDef = {
    group: spec.group,
    version: v.name,
    kind: names.kind,
    listKind: names.listKind ?? `${names.kind}List`,
    resource: names.plural,
    singular: names.singular ?? names.kind.toLowerCase(),
    namespaced: spec.scope === "Namespaced",
    shortNames: names.shortNames ?? [],
    categories: names.categories ?? [],
    verbs: STANDARD_VERBS,
    custom: true,
    subresources: {
      ...(hasStatusSub ? { status: true } : {}),
      ...(scale
        ? {
            scale: {
              specReplicasPath: strip(scale.specReplicasPath),
              statusReplicasPath: strip(scale.statusReplicasPath),
              labelSelectorPath: scale.labelSelectorPath ? strip(scale.labelSelectorPath) : undefined,
            },
          }
        : {}),
    },
    hasStatus: hasStatusSub,
    openAPIV3Schema: v.schema?.openAPIV3Schema as Record<string, unknown> | undefined,
    ...(v.deprecated
      ? { deprecationWarning: v.deprecationWarning ?? `${apiVersion} ${names.kind} is deprecated` }
      : {}),
    defaults(obj) {
      obj.apiVersion = apiVersion;
      obj.kind = names.kind;
      if (hasStatusSub && obj.status && Object.keys(obj.status as object).length === 0) delete obj.status;
      schema.prune(obj);
      schema.applyDefaults(obj);
    },
    validate(obj, old) {
      const c = new Causes();
      objectMeta(c, obj);
      for (const f of ["apiVersion", "kind"] as const) if (obj[f] === undefined) c.required(f);
      return [...c.list, ...schema.validate(obj, old)];
    },
    // Any change but metadata (and status, when it is a subresource) is a spec change.
    specChanged: (a, b) =>
      JSON.stringify(withoutMeta(a, hasStatusSub)) !== JSON.stringify(withoutMeta(b, hasStatusSub)),
    fieldSelectors: selectable,
    table: table(v.additionalPrinterColumns),
    hooks: {
      readAsStoredAfter: schemaRevision,
      onRead(obj) {
        obj.apiVersion = apiVersion;
        schema.applyDefaults(obj);
        return obj;
      },
    },
  };
  return kind;
}

function withoutMeta(o: KubeObject, dropStatus: boolean): unknown {
  const { metadata: _m, apiVersion: _a, kind: _k, ...rest } = o;
  if (dropStatus) delete rest.status;
  return rest;
}

/**
 * The served versions' kinds, highest-priority version first (discovery's preferred version).
 * schemaRevision: the CRD's store revision; objects written later need no defaulting on read.
 */
export function customResourceKinds(spec: CrdSpec, schemaRevision = Infinity): KindDef[] {
  return spec.versions
    .filter((v) => v.served)
    .sort((a, b) => compareVersions(a.name, b.name))
    .map((v) => customKind(spec, v, schemaRevision));
}
