// Fields every object of a kind carries, zero-valued if need be, as Go's encoding/json writes
// them (declared without omitempty in k8s.io/api): typed clients refuse objects that lack one
// (the Python client raises on a missing DaemonSetStatus.numberReady). The table is derived
// from the official Python client's models by scripts/gen-zero-fields.py. A leaf module.
import table from "./zero-fields.json" with { type: "json" };
import type { KubeObject } from "./types.ts";

type Spec =
  | "int"
  | "str"
  | "bool"
  | "list"
  | [kind: "obj" | "list", model: string, required: boolean]
  | [kind: "map", model: string];
const models = table.models as unknown as Record<string, Record<string, Spec>>;
const kinds = table.kinds as Record<string, string>;

const ZERO = { int: () => 0, str: () => "", bool: () => false, list: () => [] } as const;
const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);

/** Fills the always-present fields of `obj` (of the kind served at apiVersion) in place; unknown kinds are left alone. */
export function fillZeroFields(obj: KubeObject, apiVersion = obj.apiVersion, kind = obj.kind): KubeObject {
  const model = kinds[`${apiVersion}/${kind}`];
  if (model) fill(obj, model);
  return obj;
}

function fill(o: Record<string, unknown>, model: string): void {
  const fields = models[model];
  if (!fields) return;
  for (const key in fields) {
    const spec = fields[key]!;
    const v = o[key];
    if (typeof spec === "string") {
      if (v === undefined || v === null) o[key] = ZERO[spec]();
      continue;
    }
    const [type, child] = spec;
    const required = spec[2] === true;
    if (type === "obj") {
      if ((v === undefined || v === null) && required) o[key] = {};
      if (isObject(o[key])) fill(o[key] as Record<string, unknown>, child);
    } else if (type === "list") {
      if ((v === undefined || v === null) && required) o[key] = [];
      if (Array.isArray(o[key])) for (const e of o[key] as unknown[]) if (isObject(e)) fill(e, child);
    } else if (isObject(v)) for (const e of Object.values(v)) if (isObject(e)) fill(e, child);
  }
}
