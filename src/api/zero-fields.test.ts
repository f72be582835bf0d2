// fillZeroFields against the table walk it replaced (kept here as the reference): random objects of
// every kind in the table, shaped by its models (fields absent, null, of another type, or objects,
// lists and maps of the field's model, nested), come out the same from both.
import { expect, test } from "bun:test";
import table from "./zero-fields.json" with { type: "json" };
import { fillZeroFields } from "./zero-fields.ts";
import type { KubeObject } from "./types.ts";
import { rng } from "../../test/helpers/rng.ts";

type Spec = "int" | "str" | "bool" | "list" | [string, string, boolean?];
const models = table.models as unknown as Record<string, Record<string, Spec>>;
const kinds = table.kinds as Record<string, string>;

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);
const ZERO = { int: () => 0, str: () => "", bool: () => false, list: () => [] } as const;
function referenceFill(o: Record<string, unknown>, model: string): void {
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
      if (isObject(o[key])) referenceFill(o[key] as Record<string, unknown>, child);
    } else if (type === "list") {
      if ((v === undefined || v === null) && required) o[key] = [];
      if (Array.isArray(o[key])) for (const e of o[key] as unknown[]) if (isObject(e)) referenceFill(e, child);
    } else if (isObject(v)) for (const e of Object.values(v)) if (isObject(e)) referenceFill(e, child);
  }
}

const OTHER = ["s", 7, true, null, [], {}, ["a"]];
function objectOf(r: () => number, model: string, depth: number): Record<string, unknown> {
  const o: Record<string, unknown> = r() < 0.2 ? { extra: "kept" } : {};
  for (const [key, spec] of Object.entries(models[model] ?? {})) {
    const x = r();
    if (x < 0.3) continue;
    if (x < 0.4) o[key] = null;
    else if (x < 0.5) o[key] = OTHER[Math.floor(r() * OTHER.length)];
    else if (typeof spec === "string")
      o[key] = spec === "list" ? ["x"] : spec === "int" ? 3 : spec === "bool" ? true : "v";
    else if (depth > 4) o[key] = spec[0] === "list" ? [] : {};
    else if (spec[0] === "obj") o[key] = objectOf(r, spec[1], depth + 1);
    else if (spec[0] === "list")
      o[key] = Array.from({ length: Math.floor(r() * 3) }, () => (r() < 0.8 ? objectOf(r, spec[1], depth + 1) : "x"));
    else o[key] = { a: objectOf(r, spec[1], depth + 1), b: r() < 0.5 ? 1 : objectOf(r, spec[1], depth + 1) };
  }
  return o;
}

test("fills every kind as the table walk does, on random objects of its models", () => {
  const r = rng(20261203);
  let n = 0;
  for (const [gvk, model] of Object.entries(kinds)) {
    const slash = gvk.lastIndexOf("/");
    const [apiVersion, kind] = [gvk.slice(0, slash), gvk.slice(slash + 1)];
    for (let i = 0; i < 40; i++) {
      const obj = objectOf(r, model, 0);
      const want = structuredClone(obj);
      referenceFill(want, model);
      expect(fillZeroFields(obj as KubeObject, apiVersion, kind) as unknown).toEqual(want);
      n++;
    }
  }
  expect(n).toBeGreaterThan(1000);
});

test("an absent required list or object is a new one each time; unknown kinds are left alone", () => {
  const a = fillZeroFields({ apiVersion: "v1", kind: "Pod", spec: {} } as KubeObject) as {
    spec: { containers: unknown[] };
  };
  const b = fillZeroFields({ apiVersion: "v1", kind: "Pod", spec: {} } as KubeObject) as {
    spec: { containers: unknown[] };
  };
  expect(a.spec.containers).toEqual([]);
  expect(a.spec.containers).not.toBe(b.spec.containers);
  const e = fillZeroFields({ apiVersion: "v1", kind: "Event" } as KubeObject) as Record<string, unknown>;
  expect(e.involvedObject).toEqual({});
  expect(e.metadata).toEqual({});
  expect(fillZeroFields({ apiVersion: "x/v1", kind: "Nope" } as KubeObject)).toEqual({
    apiVersion: "x/v1",
    kind: "Nope",
  });
});
