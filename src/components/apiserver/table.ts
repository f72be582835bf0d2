// meta.k8s.io/v1 Table output for kubectl (Accept: application/json;as=Table;...). Rows carry
// the object's metadata (PartialObjectMetadata) so `-A` and `--show-labels` work.
import type { KindDef, KubeObject } from "../../api/types.ts";

export function wantsTable(accept: string | undefined): boolean {
  // Most requests name no Table at all: answered without splitting the header (every GET asks).
  if (!accept?.includes("as=Table")) return false;
  return /as=Table/.test(accept.split(",")[0] ?? "");
}

function partialMetadata(obj: KubeObject, includeObject: string | undefined): unknown {
  if (includeObject === "None") return undefined;
  if (includeObject === "Object") return obj;
  const { managedFields: _m, ...metadata } = obj.metadata ?? {};
  return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata };
}

export function tableOf(
  kind: KindDef,
  items: KubeObject[],
  listMeta: { resourceVersion: string; continue?: string; remainingItemCount?: number },
  opts: { includeObject?: string; withColumns?: boolean; now?: Date },
): unknown {
  const now = opts.now ?? new Date();
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: listMeta,
    columnDefinitions: opts.withColumns === false ? [] : tableColumns(kind),
    rows: items.map((obj) => tableRow(kind, obj, now, opts.includeObject)),
  };
}

/** The Table's columnDefinitions for `kind`. */
export function tableColumns(kind: KindDef): unknown[] {
  return kind.table.columns.map((c) => ({
    ...c,
    format: c.format ?? (c.name === "Name" || c.name === "NAME" ? "name" : ""),
    description: c.description ?? "",
  }));
}

/** One row of a Table: the cells and what includeObject asks for of the object. */
export function tableRow(kind: KindDef, obj: KubeObject, now: Date, includeObject: string | undefined): unknown {
  return { cells: kind.table.row(obj, now), object: partialMetadata(obj, includeObject) };
}
