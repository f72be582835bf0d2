// Server-side apply (application/apply-patch+yaml), as a practical approximation of
// structured-merge-diff. What it does:
// - a new object is the applied configuration itself;
// - otherwise the configuration is merged into the live object with the
//   strategic-merge rules of schema.ts (keyed lists by key, sets as sets, other lists
//   replaced, maps merged); fields the configuration does not mention are kept;
// - each manager's owned fields live in metadata.managedFields (FieldsV1);
// - a field owned by another manager whose live value differs from the applied one
//   is a conflict: 409 unless force, which moves ownership to the applier;
// - fields this manager applied before, left out now and owned by nobody else, are
//   removed (so dropping a label from the configuration drops it from the object).
// What it does not: OpenAPI listType/mapType schemas (lists keyed by several fields),
// ownership of defaulted fields, or version conversion of managed field sets.
import { rfc3339 } from "../../../api/time.ts";
import { PatchError, badRequest, type PatchCause } from "./errors.ts";
import {
  deleteAt,
  describePath,
  fieldSetOf,
  fromFieldsV1,
  isMissing,
  toFieldsV1,
  valueAt,
  type FieldSet,
} from "./fields.ts";
import { deepEqual, isObject, isUnsafeKey, type JsonObject } from "./json.ts";
import { cloneJson } from "../../../api/clone.ts";
import { shapeFor } from "./schema.ts";
import { mergeMap } from "./strategic.ts";

export interface ApplyOptions {
  fieldManager?: string;
  force?: boolean;
  now?: Date;
}

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: unknown;
  subresource?: string;
  [key: string]: unknown;
}

interface Conflict {
  manager: string;
  apiVersion: string;
  path: string[];
}

export function applyServerSide(kind: string, current: unknown, applied: unknown, opts: ApplyOptions): JsonObject {
  if (!isObject(applied)) throw badRequest("the apply configuration must be an object");
  const manager = opts.fieldManager;
  if (!manager) throw badRequest("PATCH, fieldManager is required for apply requests");
  const shape = shapeFor(kind);
  const config = withoutNulls(cloneJson(applied)) as JsonObject;
  if (isObject(config.metadata)) delete config.metadata.managedFields;
  const owned = fieldSetOf(config, shape);
  const apiVersion = String(config.apiVersion ?? (isObject(current) ? current.apiVersion : "") ?? "");
  const entry: ManagedFieldsEntry = {
    manager,
    operation: "Apply",
    apiVersion,
    time: rfc3339(opts.now ?? new Date()),
    fieldsType: "FieldsV1",
    fieldsV1: toFieldsV1(owned),
  };

  if (!isObject(current)) return withManagedFields(config, [entry]);

  const live = cloneJson(current);
  const entries = managedFieldsOf(live);
  const mine = (e: ManagedFieldsEntry) => e.manager === manager && e.operation === "Apply";
  const others = entries.filter((e) => !mine(e)).map((e) => ({ e, set: fromFieldsV1(e.fieldsV1) }));

  const conflicts: Conflict[] = [];
  for (const { e, set } of others) {
    for (const [id, path] of owned) {
      // A list element or set member exists for both owners: only values can differ.
      if (!set.has(id) || !path[path.length - 1]!.startsWith("f:")) continue;
      const before = valueAt(live, path);
      if (isMissing(before) || deepEqual(before, valueAt(config, path))) continue;
      conflicts.push({ manager: String(e.manager ?? ""), apiVersion: String(e.apiVersion ?? ""), path });
    }
  }
  if (conflicts.length > 0 && !opts.force) throw conflictError(conflicts);

  // Forcing: the applier takes the conflicting fields away from their owners.
  const forced = new Set(conflicts.map((c) => JSON.stringify(c.path)));
  const kept: ManagedFieldsEntry[] = [];
  for (const e of entries) {
    if (mine(e)) continue;
    const other = others.find((o) => o.e === e)!;
    if (!conflicts.some((c) => c.manager === e.manager)) {
      kept.push(e);
      continue;
    }
    for (const id of forced) other.set.delete(id);
    if (other.set.size > 0) kept.push({ ...e, fieldsV1: toFieldsV1(other.set) });
  }

  const merged = mergeMap(live, cloneJson(config), shape);
  const previous = entries.find(mine);
  if (previous) removeAbandoned(merged, fromFieldsV1(previous.fieldsV1), [owned, ...others.map((o) => o.set)]);

  const at = entries.findIndex(mine);
  const next = [...kept];
  // An apply that changes nothing this manager owns keeps its entry's time, so an unchanged
  // apply leaves the object (and its resourceVersion) as it was.
  if (
    previous &&
    JSON.stringify(previous.fieldsV1) === JSON.stringify(entry.fieldsV1) &&
    previous.apiVersion === entry.apiVersion &&
    deepEqual(stripManaged(merged), stripManaged(live))
  )
    entry.time = previous.time;
  // Keep this manager's entry where it was, so the list stays stable across applies.
  next.splice(at < 0 ? next.length : Math.min(at, next.length), 0, entry);
  return withManagedFields(merged, next);
}

/**
 * Removes fields the manager applied before but no longer does, unless someone owns
 * them now; maps and lists left empty by a removal go too (an emptied `labels`).
 */
function removeAbandoned(obj: JsonObject, before: FieldSet, ownedNow: FieldSet[]): void {
  const owned = (path: string[]) => ownedNow.some((s) => s.has(JSON.stringify(path)));
  const dropped = [...before.values()].filter((path) => !owned(path)).sort((a, b) => a.length - b.length); // parents (list elements) before their fields
  for (const path of dropped) {
    if (isMissing(valueAt(obj, path))) continue;
    deleteAt(obj, path);
    for (let depth = path.length - 1; depth > 0; depth--) {
      const parent = path.slice(0, depth);
      if (!isEmptyContainer(valueAt(obj, parent)) || owned(parent)) break;
      deleteAt(obj, parent);
    }
  }
}

function stripManaged(obj: JsonObject): JsonObject {
  const c = cloneJson(obj);
  if (isObject(c.metadata)) delete c.metadata.managedFields;
  return c;
}

function isEmptyContainer(v: unknown): boolean {
  return Array.isArray(v) ? v.length === 0 : isObject(v) && Object.keys(v).length === 0;
}

function conflictError(conflicts: Conflict[]): PatchError {
  const who = (c: Conflict) => `"${c.manager}" using ${c.apiVersion}`;
  const causes: PatchCause[] = conflicts.map((c) => ({
    type: "FieldManagerConflict",
    message: `conflict with ${who(c)}`,
    field: describePath(c.path),
  }));
  if (conflicts.length === 1) {
    return new PatchError(409, `Apply failed with 1 conflict: ${causes[0]!.message}: ${causes[0]!.field}`, causes);
  }
  // As the Go API server words it: grouped by manager, managers sorted.
  const byManager = new Map<string, string[]>();
  for (const [i, c] of conflicts.entries()) {
    const key = who(c);
    byManager.set(key, [...(byManager.get(key) ?? []), causes[i]!.field]);
  }
  const lines = [...byManager.keys()]
    .sort()
    .flatMap((m) => [`conflicts with ${m}:`, ...byManager.get(m)!.map((f) => `- ${f}`)]);
  return new PatchError(409, `Apply failed with ${conflicts.length} conflicts: ${lines.join("\n")}`, causes);
}

function managedFieldsOf(obj: JsonObject): ManagedFieldsEntry[] {
  const meta = obj.metadata;
  if (!isObject(meta) || !Array.isArray(meta.managedFields)) return [];
  return meta.managedFields.filter(isObject) as ManagedFieldsEntry[];
}

function withManagedFields(obj: JsonObject, entries: ManagedFieldsEntry[]): JsonObject {
  const meta = isObject(obj.metadata) ? obj.metadata : {};
  obj.metadata = { ...meta, managedFields: entries };
  return obj;
}

/** In an apply configuration a null field means "not set". */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, child] of Object.entries(v)) {
    if (child !== null && !k.startsWith("$") && !isUnsafeKey(k)) out[k] = withoutNulls(child);
  }
  return out;
}
