// Checks a JSON object against its Go types the way kube-apiserver's decoder does before
// anything else sees it: a string where a list belongs, 2^31 in an int32, a fraction in an int
// or a malformed quantity is refused with Go's own message; a null becomes Go's zero value
// (a null list entry an empty struct, a null field absent), so later code sees typed data.
// Unknown fields are kept. Bodies nested deeper than Go's decoder allows are refused.
import { GO_ROOTS, GO_TYPES } from "./gotypes.ts";
import { isValidQuantity } from "./quantity.ts";

/** encoding/json's maximum nesting depth. */
export const MAX_DEPTH = 10000;

const INT32 = 2 ** 31;
const INT64 = 2 ** 63;

export class GoDecodeError extends Error {
  override name = "GoDecodeError";
}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (v === null) return "null";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return `number ${goNumber(v)}`;
  return typeof v;
}

/** Go's %v of a float64: 1e+20, 2.147483648e+09, 1.5. */
function goNumber(n: number): string {
  const abs = Math.abs(n);
  if (abs !== 0 && (abs >= 1e21 || abs < 1e-4)) return n.toExponential().replace(/e([+-])(\d)$/, "e$10$2");
  return String(n);
}

/** The Go spelling of a type code: []v1.Container, map[string]string, int32. */
function goType(t: string): string {
  if (t.startsWith("[")) return `[]${goType(t.slice(1, -1))}`;
  if (t.startsWith("{")) return `map[string]${goType(t.slice(1, -1))}`;
  const scalars: Record<string, string> = {
    s: "string",
    q: "resource.Quantity",
    i32: "int32",
    i64: "int64",
    f: "float64",
    b: "bool",
    t: "v1.Time",
    ios: "intstr.IntOrString",
    any: "interface {}",
  };
  return scalars[t] ?? `v1.${structName(t)}`;
}

const structName = (model: string) => model.replace(/^(?:[A-Z][a-z]+)?V\d+(?:(?:alpha|beta)\d+)?/, "");

function zero(t: string): unknown {
  if (t === "s") return "";
  if (t === "q") return "0";
  if (t === "i32" || t === "i64" || t === "f" || t === "ios") return 0;
  if (t === "b") return false;
  if (t === "t" || t === "any") return null;
  if (t.startsWith("[")) return [];
  return {};
}

interface Ctx {
  /** "PodSpec" for a field of PodSpec; undefined at the root. */
  struct?: string;
  path: string;
}

function fail(v: unknown, t: string, ctx: Ctx, why = ""): never {
  const into = ctx.struct ? `Go struct field ${ctx.struct}.${ctx.path}` : "Go value";
  throw new GoDecodeError(
    why ||
      `json: cannot unmarshal ${jsonKind(v).split(" ")[0]}${typeof v === "number" ? ` ${goNumber(v)}` : ""} into ${into} of type ${goType(t)}`,
  );
}

/** Checks `v` against type `t`; returns the value to keep (nulls replaced). */
function check(v: unknown, t: string, ctx: Ctx, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new GoDecodeError("json: exceeded max depth");
  if (v === null) return zero(t);
  switch (t) {
    case "any":
      return v;
    case "s":
    case "t":
      if (typeof v !== "string") fail(v, t, ctx);
      if (t === "t" && v !== "" && Number.isNaN(Date.parse(v as string)))
        fail(v, t, ctx, `parsing time ${JSON.stringify(v)} as "2006-01-02T15:04:05Z07:00": cannot parse`);
      return v;
    case "b":
      if (typeof v !== "boolean") fail(v, t, ctx);
      return v;
    case "f":
      if (typeof v !== "number") fail(v, t, ctx);
      return v;
    case "i32":
    case "i64": {
      if (typeof v !== "number") fail(v, t, ctx);
      const n = v as number;
      const bound = t === "i32" ? INT32 : INT64;
      if (!Number.isInteger(n) || n >= bound || n < -bound) fail(v, t, ctx);
      return v;
    }
    case "ios":
      if (typeof v === "string") return v;
      if (typeof v !== "number" || !Number.isInteger(v) || v >= INT32 || v < -INT32) fail(v, "i32", ctx);
      return v;
    case "q":
      if (!isValidQuantity(v))
        fail(
          v,
          t,
          ctx,
          typeof v === "string"
            ? "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
            : "",
        );
      return v;
  }
  if (t.startsWith("[")) {
    if (!Array.isArray(v)) fail(v, t, ctx);
    const inner = t.slice(1, -1);
    const arr = v as unknown[];
    for (let i = 0; i < arr.length; i++) arr[i] = check(arr[i], inner, ctx, depth + 1);
    return arr;
  }
  if (typeof v !== "object" || Array.isArray(v)) fail(v, t, ctx);
  const obj = v as Record<string, unknown>;
  if (t.startsWith("{")) {
    const inner = t.slice(1, -1);
    for (const k of Object.keys(obj)) obj[k] = check(obj[k], inner, ctx, depth + 1);
    return obj;
  }
  const fields = GO_TYPES[t];
  if (!fields) return obj;
  const struct = structName(t);
  for (const k of Object.keys(obj)) {
    const ft = fields[k];
    if (!ft) continue; // unknown fields: Go drops them; they are kept, unchecked
    if (obj[k] === null && ft !== "t" && ft !== "any") {
      delete obj[k];
      continue;
    }
    obj[k] = check(obj[k], ft, { struct, path: ctx.path ? `${ctx.path}.${k}` : k }, depth + 1);
  }
  return obj;
}

/** Whether Go types are known for "group/version/Kind". */
export function hasGoType(key: string): boolean {
  return key in GO_ROOTS;
}

/**
 * Checks (and normalises in place) `obj` as the Go type of "group/version/Kind"; throws
 * GoDecodeError with Go's message. Kinds without known types are only checked for depth.
 */
export function goDecode(key: string, obj: unknown): void {
  const root = GO_ROOTS[key];
  if (!root) {
    depthCheck(obj, 0);
    return;
  }
  check(obj, root, { path: "" }, 0);
  depthCheck(obj, 0);
}

/** Unknown fields are not walked by the type check: their depth is limited all the same. */
export function depthCheck(v: unknown, depth: number): void {
  if (depth > MAX_DEPTH) throw new GoDecodeError("json: exceeded max depth");
  if (v && typeof v === "object")
    for (const x of Array.isArray(v) ? v : Object.values(v)) if (x && typeof x === "object") depthCheck(x, depth + 1);
}
