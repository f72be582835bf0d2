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
/** What an absent required object or list becomes. */
const ZERO_OF = { obj: () => ({}), list: () => [] };
const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);

const SCALAR = 0;
const OBJ = 1;
const LIST = 2;
const MAP = 3;
/** One field of a model as fill acts on it (one shape for all, so the loop reads them alike). */
interface Step {
  key: string;
  type: typeof SCALAR | typeof OBJ | typeof LIST | typeof MAP;
  /** The zero of an absent scalar, or of an absent required object or list. */
  zero: (() => unknown) | undefined;
  /** The steps of the field's model; undefined when it has nothing to fill. */
  child: Step[] | undefined;
}

/**
 * Each model's table read once into the steps that can change an object of it: a field whose model
 * has nothing to fill and that is not required is left out. Walking the table for every object (all
 * its fields, each spec taken apart again) was ~5 us a pod, paid at its create and at its binding.
 */
const compiled = new Map<string, Step[]>();
const compiling = new Set<string>();

function compile(model: string): Step[] {
  let steps = compiled.get(model);
  if (steps) return steps;
  steps = [];
  // Cached before its fields are read: a model may hold itself (JSONSchemaProps).
  compiled.set(model, steps);
  compiling.add(model);
  const fields = models[model] ?? {};
  for (const key in fields) {
    const spec = fields[key]!;
    if (typeof spec === "string") {
      steps.push({ key, type: SCALAR, zero: ZERO[spec], child: undefined });
      continue;
    }
    const [type, name] = spec;
    const c = compile(name);
    // A model still being compiled may yet have steps: kept.
    const child = c.length > 0 || compiling.has(name) ? c : undefined;
    const required = spec[2] === true;
    if (type === "map") {
      if (child) steps.push({ key, type: MAP, zero: undefined, child });
    } else if (child || required)
      steps.push({ key, type: type === "obj" ? OBJ : LIST, zero: required ? ZERO_OF[type] : undefined, child });
  }
  compiling.delete(model);
  return steps;
}
/** Fills the always-present fields of `obj` (of the kind served at apiVersion) in place; unknown kinds are left alone. */
export function fillZeroFields(obj: KubeObject, apiVersion = obj.apiVersion, kind = obj.kind): KubeObject {
  const model = kinds[`${apiVersion}/${kind}`];
  if (model) fill(obj, compile(model));
  return obj;
}

function fill(o: Record<string, unknown>, steps: Step[]): void {
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    let v = o[s.key];
    if ((v === undefined || v === null) && s.zero) o[s.key] = v = s.zero();
    const child = s.child;
    if (!child) continue;
    if (s.type === OBJ) {
      if (isObject(v)) fill(v, child);
    } else if (s.type === LIST) {
      if (Array.isArray(v)) for (const e of v) if (isObject(e)) fill(e, child);
    } else if (s.type === MAP && isObject(v)) for (const e of Object.values(v)) if (isObject(e)) fill(e, child);
  }
}
