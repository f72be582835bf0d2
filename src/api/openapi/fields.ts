// Unknown and duplicate fields, as upstream's strict decoding reports them: the unknown-field
// walk follows the same definitions /openapi serves, and drops what it reports (upstream's
// decoding never keeps a field its type lacks); the duplicate scan reads the JSON text, since
// JSON.parse silently keeps the last of two equal keys.
import { type Schema, refName } from "./definitions.ts";

const PRESERVE = "x-kubernetes-preserve-unknown-fields";
const EMBEDDED = "x-kubernetes-embedded-resource";
const EMBEDDED_PROPS: Record<string, Schema> = {
  apiVersion: { type: "string" },
  kind: { type: "string" },
  metadata: { $ref: "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" },
};

function resolve(defs: Record<string, Schema>, schema: Schema | undefined): Schema | undefined {
  for (let i = 0; schema && i < 16; i++) {
    if (schema.$ref) schema = defs[refName(schema.$ref)];
    else if (schema.allOf?.length === 1 && !schema.properties) schema = schema.allOf[0];
    else return schema;
  }
  return schema;
}

/**
 * Paths of the fields in `value` that `schema` does not know (`spec.foo`,
 * `spec.containers[0].bar`), each removed from `value`. Free-form objects (no properties, or
 * x-kubernetes-preserve-unknown-fields) keep whatever they hold.
 */
export function pruneUnknown(
  defs: Record<string, Schema>,
  schema: Schema | undefined,
  value: unknown,
  path = "",
): string[] {
  const out: string[] = [];
  walk(defs, schema, value, path, out);
  return out;
}

/** What the walk needs of a schema, resolved once: its known fields, the schema of other keys, its items. */
interface Shape {
  props?: Record<string, Schema>;
  extra?: Schema;
  /** Unknown keys are kept (x-kubernetes-preserve-unknown-fields, additionalProperties: true). */
  free: boolean;
  items?: Schema;
}

/**
 * Shapes by definitions and schema object, made the first time a schema is met: every object of
 * every request resolved its $ref chain (slicing the name out of the reference) and merged an
 * embedded resource's properties again. Schemas are never changed once served (a CRD's new schema
 * is a new object), so a shape stays right as long as its schema lives.
 */
const shapes = new WeakMap<Record<string, Schema>, WeakMap<Schema, Shape | null>>();

function shapeOf(defs: Record<string, Schema>, schemaIn: Schema): Shape | null {
  let byDefs = shapes.get(defs);
  if (!byDefs) {
    byDefs = new WeakMap();
    shapes.set(defs, byDefs);
  }
  let shape = byDefs.get(schemaIn);
  if (shape === undefined) {
    const schema = resolve(defs, schemaIn);
    shape = schema
      ? {
          // An embedded resource (a CRD's x-kubernetes-embedded-resource) always has type and object metadata.
          props: schema[EMBEDDED] ? { ...EMBEDDED_PROPS, ...schema.properties } : schema.properties,
          extra: typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined,
          free: schema[PRESERVE] === true || schema.additionalProperties === true,
          items: schema.items,
        }
      : null;
    byDefs.set(schemaIn, shape);
  }
  return shape;
}

function walk(
  defs: Record<string, Schema>,
  schemaIn: Schema | undefined,
  value: unknown,
  path: string,
  out: string[],
): void {
  if (value === null || typeof value !== "object" || !schemaIn) return;
  const shape = shapeOf(defs, schemaIn);
  if (!shape) return;
  if (Array.isArray(value)) {
    const items = shape.items;
    if (items)
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        if (v !== null && typeof v === "object") walk(defs, items, v, `${path}[${i}]`, out);
      }
    return;
  }
  const obj = value as Record<string, unknown>;
  const { props, extra } = shape;
  // Paths are built only on the way into objects and lists (most fields are scalars).
  if (!props) {
    if (extra)
      for (const k in obj) {
        const v = obj[k];
        if (v !== null && typeof v === "object") walk(defs, extra, v, path ? `${path}.${k}` : k, out);
      }
    return;
  }
  for (const k of Object.keys(obj)) {
    const known = props[k] ?? extra;
    if (known) {
      const v = obj[k];
      if (v !== null && typeof v === "object") walk(defs, known, v, path ? `${path}.${k}` : k, out);
    } else if (!shape.free) {
      out.push(path ? `${path}.${k}` : k);
      delete obj[k];
    }
  }
}

export interface JsonKeys {
  /** Keys that appear twice in one object, by dotted path, with their place in the text. */
  duplicates: { path: string; at: number }[];
  /** Where each key path first appears (keys counted in document order). */
  firstAt: Map<string, number>;
}

/** Duplicate keys of a JSON text (already known to be valid JSON), and the order of all keys. */
export function scanJsonKeys(text: string): JsonKeys {
  // Most bodies have no duplicate: a first pass without paths says so cheaply.
  if (!hasDuplicateKey(text)) return { duplicates: [], firstAt: new Map() };
  return scanWithPaths(text);
}

/** Whether any object of the JSON text repeats a key. */
function hasDuplicateKey(text: string): boolean {
  const stack: (Set<string> | undefined)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let j = i + 1;
      let escaped = false;
      for (; j < text.length; j++) {
        const d = text.charCodeAt(j);
        if (d === 0x5c) {
          escaped = true;
          j++;
        } else if (d === 0x22) break;
      }
      const keys = stack[stack.length - 1];
      if (keys && expectKey) {
        const key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
        if (keys.has(key)) return true;
        keys.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b) {
      stack.push(undefined);
      expectKey = false;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c) expectKey = stack[stack.length - 1] !== undefined;
  }
  return false;
}

function scanWithPaths(text: string): JsonKeys {
  const duplicates: JsonKeys["duplicates"] = [];
  const firstAt = new Map<string, number>();
  let seq = 0;
  // One frame per open object or array: its path, its keys so far (objects) or next index (arrays).
  const stack: { path: string; keys?: Set<string>; index: number }[] = [];
  let pendingKey: string | undefined;
  const childPath = () => {
    const top = stack[stack.length - 1];
    if (!top) return "";
    if (top.keys) return top.path ? `${top.path}.${pendingKey}` : pendingKey!;
    return `${top.path}[${top.index}]`;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // a string: a key when an object awaits one, else a value
      let j = i + 1;
      let escaped = false;
      while (j < text.length) {
        const d = text.charCodeAt(j);
        if (d === 0x5c) {
          escaped = true;
          j += 2;
          continue;
        }
        if (d === 0x22) break;
        j++;
      }
      const top = stack[stack.length - 1];
      if (top?.keys && pendingKey === undefined) {
        const key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
        const path = top.path ? `${top.path}.${key}` : key;
        if (top.keys.has(key)) duplicates.push({ path, at: seq++ });
        else firstAt.set(path, seq++);
        top.keys.add(key);
        pendingKey = key;
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      stack.push({ path: childPath(), keys: c === 0x7b ? new Set() : undefined, index: 0 });
      pendingKey = undefined;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      pendingKey = undefined;
    } else if (c === 0x2c) {
      const top = stack[stack.length - 1];
      if (top && !top.keys) top.index++;
      pendingKey = undefined;
    }
  }
  return { duplicates, firstAt };
}
