// managedFields bookkeeping for writes that are not apply (create, update, the other
// patch types): the writing manager gets an "Update" entry owning the fields it set or
// changed, and those fields are taken away from every other manager, as Kubernetes
// does. With these entries in place, a later server-side apply conflicts with the
// manager that last changed a field. Opt-in: the API server calls it on each write.
import { rfc3339 } from "../../../api/time.ts";
import { fieldSetOf, fromFieldsV1, toFieldsV1, valueAt, type FieldSet } from "./fields.ts";
import { deepEqual, isObject, type JsonObject } from "./json.ts";
import { cloneJson } from "../../../api/clone.ts";
import { shapeFor } from "./schema.ts";

export interface UpdateOptions {
  /** `?fieldManager=`; without one nothing is recorded (Kubernetes derives one from the user agent). */
  fieldManager?: string;
  /** The apiVersion the client wrote in (defaults to the object's). */
  apiVersion?: string;
  /** "status" or "scale" when the write went through a subresource. */
  subresource?: string;
  now?: Date;
}

interface Entry extends JsonObject {
  manager?: string;
  operation?: string;
  subresource?: string;
  fieldsV1?: unknown;
}

/**
 * Returns `after` (a copy) with metadata.managedFields updated for a non-apply write by
 * `fieldManager`. `before` is the stored object (undefined on create); managedFields
 * sent by the client are ignored in favour of the stored ones.
 */
export function recordUpdate(kind: string, before: unknown, after: JsonObject, opts: UpdateOptions): JsonObject {
  const out = cloneJson(after);
  const manager = opts.fieldManager;
  const previous =
    isObject(before) && isObject(before.metadata) && Array.isArray(before.metadata.managedFields)
      ? (before.metadata.managedFields.filter(isObject) as Entry[])
      : [];
  if (!manager) return withEntries(out, previous);

  const shape = shapeFor(kind);
  const afterSet = fieldSetOf(out, shape);
  const beforeSet = isObject(before) ? fieldSetOf(before, shape) : (new Map() as FieldSet);
  const touched = new Set<string>();
  for (const [id, path] of afterSet) {
    // A list element or set member is touched when it appears; a field when its value changes.
    const isField = path[path.length - 1]!.startsWith("f:");
    if (!beforeSet.has(id) || (isField && !deepEqual(valueAt(before, path), valueAt(out, path)))) touched.add(id);
  }
  for (const id of beforeSet.keys()) if (!afterSet.has(id)) touched.add(id);

  const mine = (e: Entry) =>
    e.manager === manager && e.operation === "Update" && (e.subresource ?? "") === (opts.subresource ?? "");
  const entries: Entry[] = [];
  let own: FieldSet = new Map();
  let at = -1;
  for (const e of previous) {
    if (mine(e)) {
      own = fromFieldsV1(e.fieldsV1);
      at = entries.length;
      continue;
    }
    const set = fromFieldsV1(e.fieldsV1);
    for (const id of touched) set.delete(id);
    if (set.size > 0)
      entries.push(set.size === fromFieldsV1(e.fieldsV1).size ? e : { ...e, fieldsV1: toFieldsV1(set) });
  }
  for (const id of touched) {
    const path = afterSet.get(id);
    if (path) own.set(id, path);
  }
  for (const id of own.keys()) if (!afterSet.has(id)) own.delete(id);

  if (own.size > 0) {
    const entry: Entry = {
      manager,
      operation: "Update",
      apiVersion: opts.apiVersion ?? String(out.apiVersion ?? ""),
      time: rfc3339(opts.now),
      fieldsType: "FieldsV1",
      fieldsV1: toFieldsV1(own),
    };
    if (opts.subresource) entry.subresource = opts.subresource;
    entries.splice(at < 0 ? entries.length : Math.min(at, entries.length), 0, entry);
  }
  return withEntries(out, entries);
}

function withEntries(obj: JsonObject, entries: Entry[]): JsonObject {
  const meta = isObject(obj.metadata) ? obj.metadata : {};
  obj.metadata = { ...meta, managedFields: entries };
  return obj;
}
