// A custom resource's structural schema at work: pruning of unknown fields, defaulting, and
// validation. Value validations (types, enum, pattern, formats, bounds, junctors) run in ajv
// against the schema translated to JSON Schema; ajv's errors become Kubernetes' causes with
// upstream's field paths and messages. What ajv cannot express is done here by walking the
// schema: pruning, defaults, x-kubernetes-list-type set/map uniqueness, embedded resources and
// x-kubernetes-validations (CEL).
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import type { Cause } from "../types.ts";
import { evaluateRule, usesOldSelf } from "./cel.ts";
import type { JSONSchemaProps } from "./types.ts";
import { cloneJson } from "../clone.ts";

// Big schemas (a ServiceMonitor's) compile several times faster without ajv's code optimiser.
const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true, code: { optimize: false } });
const AJV_FORMATS = [
  "date",
  "date-time",
  "email",
  "hostname",
  "ipv4",
  "ipv6",
  "uuid",
  "byte",
  "int32",
  "int64",
  "float",
  "double",
  "password",
] as const;
addFormats(ajv, [...AJV_FORMATS]);
// Formats Kubernetes checks with its own (Go) notion of them.
ajv.addFormat("duration", /^[-+]?(\d+(\.\d*)?(ns|us|µs|ms|s|m|h))+$|^0$/);
ajv.addFormat("cidr", /^([0-9.]+|[0-9a-fA-F:.]+)\/\d{1,3}$/);
ajv.addFormat("mac", /^([0-9a-fA-F]{2}[:-]){5}([0-9a-fA-F]{2})$/);
const KNOWN_FORMATS = new Set<string>([...AJV_FORMATS, "duration", "cidr", "mac"]);
ajv.addKeyword({
  keyword: "x-kube-int-or-string",
  errors: false,
  validate: (nullable: boolean, data: unknown) =>
    typeof data === "string" || (typeof data === "number" && Number.isInteger(data)) || (nullable && data === null),
});

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => !!v && typeof v === "object" && !Array.isArray(v);
const ROOT_META = new Set(["apiVersion", "kind", "metadata"]);

/** The schema as JSON Schema for ajv: annotations and Kubernetes extensions dropped or translated. */
function toJsonSchema(s: JSONSchemaProps, root = false): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === "properties" && isObject(v)) {
      const props: Json = {};
      for (const [name, p] of Object.entries(v))
        if (!(root && name === "metadata")) props[name] = toJsonSchema(p as JSONSchemaProps);
      out.properties = props;
    } else if (k === "items" && isObject(v)) out.items = toJsonSchema(v as JSONSchemaProps);
    else if (k === "additionalProperties" && isObject(v)) out.additionalProperties = toJsonSchema(v as JSONSchemaProps);
    else if ((k === "allOf" || k === "anyOf" || k === "oneOf") && Array.isArray(v)) {
      // The int-or-string idiom's anyOf [{type: integer}, {type: string}] is the keyword below.
      if (!s["x-kubernetes-int-or-string"]) out[k] = v.map((x) => toJsonSchema(x as JSONSchemaProps));
    } else if (k === "not" && isObject(v)) out.not = toJsonSchema(v as JSONSchemaProps);
    else if (k === "format") {
      if (KNOWN_FORMATS.has(v as string)) out.format = v;
    } else if (
      k === "required" ||
      k === "enum" ||
      k === "pattern" ||
      k === "type" ||
      k === "nullable" ||
      k === "multipleOf"
    )
      out[k] = v;
    else if (/^(min|max)(Length|Items|Properties|imum)$/.test(k)) out[k] = v;
  }
  if (s["x-kubernetes-int-or-string"]) out["x-kube-int-or-string"] = !!s.nullable;
  if (s.type && s.nullable) out.type = [s.type, "null"];
  delete out.nullable;
  // OpenAPI 3.0's boolean exclusive bounds.
  if (s.exclusiveMinimum === true && s.minimum !== undefined) {
    out.exclusiveMinimum = s.minimum;
    delete out.minimum;
  }
  if (s.exclusiveMaximum === true && s.maximum !== undefined) {
    out.exclusiveMaximum = s.maximum;
    delete out.maximum;
  }
  return out;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** "spec.endpoints[0].port" from ajv's "/spec/endpoints/0/port", reading the data for array indexes. */
function fieldPath(obj: unknown, pointer: string): string {
  let path = "";
  let cur: unknown = obj;
  for (const raw of pointer.split("/").slice(1)) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(cur)) path += `[${seg}]`;
    else path += path ? `.${seg}` : seg;
    cur = cur && typeof cur === "object" ? (cur as Json)[seg] : undefined;
  }
  return path;
}

function valueAt(obj: unknown, pointer: string): unknown {
  let cur: unknown = obj;
  for (const raw of pointer.split("/").slice(1))
    cur = cur && typeof cur === "object" ? (cur as Json)[raw.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined;
  return cur;
}

const q = (v: unknown) => JSON.stringify(v);

function causeOf(obj: unknown, e: ErrorObject): Cause | undefined {
  const field = fieldPath(obj, e.instancePath);
  const value = valueAt(obj, e.instancePath);
  const p = e.params as Record<string, unknown>;
  const inBody = `${field} in body`;
  const invalid = (detail: string, v: unknown = value): Cause => ({
    reason: "FieldValueInvalid",
    field,
    message: `Invalid value: ${q(v)}: ${detail}`,
  });
  switch (e.keyword) {
    case "type": {
      const want = Array.isArray(p.type) ? (p.type as string[]).filter((t) => t !== "null").join(",") : String(p.type);
      return invalid(`${inBody} must be of type ${want}: ${q(typeName(value))}`, typeName(value));
    }
    case "x-kube-int-or-string":
      return invalid(`${inBody} must be of type integer,string: ${q(typeName(value))}`, typeName(value));
    case "required": {
      const f = field ? `${field}.${p.missingProperty}` : String(p.missingProperty);
      return { reason: "FieldValueRequired", field: f, message: "Required value" };
    }
    case "enum":
      return {
        reason: "FieldValueNotSupported",
        field,
        message: `Unsupported value: ${q(value)}: supported values: ${(p.allowedValues as unknown[]).map((v) => q(typeof v === "string" ? v : JSON.stringify(v))).join(", ")}`,
      };
    case "pattern":
      return invalid(`${inBody} should match '${p.pattern}'`);
    case "format":
      return invalid(`${inBody} must be of type ${p.format}: ${q(value)}`);
    case "maxLength":
      return { reason: "FieldValueTooLong", field, message: `Too long: may not be longer than ${p.limit}` };
    case "minLength":
      return invalid(`${inBody} should be at least ${p.limit} chars long`);
    case "maximum":
      return invalid(`${inBody} should be less than or equal to ${p.limit}`);
    case "exclusiveMaximum":
      return invalid(`${inBody} should be less than ${p.limit}`);
    case "minimum":
      return invalid(`${inBody} should be greater than or equal to ${p.limit}`);
    case "exclusiveMinimum":
      return invalid(`${inBody} should be greater than ${p.limit}`);
    case "multipleOf":
      return invalid(`${inBody} should be a multiple of ${p.multipleOf}`);
    case "maxItems":
      return {
        reason: "FieldValueTooMany",
        field,
        message: `Too many: ${(value as unknown[]).length}: must have at most ${p.limit} items`,
      };
    case "minItems":
      return invalid(`${inBody} should have at least ${p.limit} items`, (value as unknown[]).length);
    case "maxProperties":
      return {
        reason: "FieldValueTooMany",
        field,
        message: `Too many: ${Object.keys(value as Json).length}: must have at most ${p.limit} items`,
      };
    case "minProperties":
      return invalid(`${inBody} should have at least ${p.limit} properties`, Object.keys(value as Json).length);
    case "anyOf":
      return invalid(`${inBody} must validate at least one schema (anyOf)`);
    case "oneOf":
      return invalid(`${inBody} must validate one and only one schema (oneOf)`);
    case "not":
      return invalid(`${inBody} must not validate the schema (not)`);
    default:
      return invalid(e.message ?? "is invalid");
  }
}

/** Compiled validators by schema text: versions with the same schema, and rewrites of a CRD, share one. */
const compiled = new Map<string, ValidateFunction>();

export class StructuralSchema {
  private compiledCheck?: ValidateFunction;
  private readonly text: string;
  /** Whether any node has rules or list types (the walk is skipped otherwise). */
  private readonly needsWalk: boolean;

  constructor(readonly root: JSONSchemaProps) {
    this.text = JSON.stringify(root);
    this.needsWalk = plan(root).walk;
  }

  /** Compiled on first use: a CRD is established at once, its first instance pays for the compile. */
  private get check(): ValidateFunction {
    if (this.compiledCheck) return this.compiledCheck;
    let fn = compiled.get(this.text);
    if (!fn) {
      fn = ajv.compile(toJsonSchema(this.root, true));
      if (compiled.size >= 64) compiled.clear();
      compiled.set(this.text, fn);
    }
    return (this.compiledCheck = fn);
  }

  /** Drops fields the schema does not know (x-kubernetes-preserve-unknown-fields keeps them). */
  prune(obj: Json): void {
    pruneObject(obj, this.root, true);
  }

  /** Fills defaults where a field is missing (or null and not nullable), as upstream does on create, update and read. */
  applyDefaults(obj: Json): void {
    defaults(obj, this.root);
  }

  validate(obj: Json, old: Json | undefined): Cause[] {
    const causes: Cause[] = [];
    if (!this.check(obj)) {
      for (const e of this.check.errors ?? []) {
        // Errors of junctors' branches are summed up by the junctor's own error.
        if (/\/(anyOf|oneOf|not)\//.test(e.schemaPath)) continue;
        const c = causeOf(obj, e);
        if (c) causes.push(c);
      }
    }
    if (this.needsWalk) walk(causes, obj, old, this.root, "", true);
    return causes;
  }
}

function pruneObject(v: unknown, s: JSONSchemaProps | undefined, root = false): void {
  if (!s) return;
  if (Array.isArray(v)) {
    if (s.items) for (const x of v) pruneObject(x, s.items);
    return;
  }
  if (!isObject(v)) return;
  const keepMeta = root || s["x-kubernetes-embedded-resource"] === true;
  const preserve = s["x-kubernetes-preserve-unknown-fields"] === true;
  const additional = isObject(s.additionalProperties) ? (s.additionalProperties as JSONSchemaProps) : undefined;
  for (const k of Object.keys(v)) {
    if (keepMeta && ROOT_META.has(k)) continue;
    const p = s.properties?.[k] ?? additional;
    if (p) pruneObject(v[k], p);
    else if (!preserve && s.additionalProperties !== true) delete v[k];
  }
}

/**
 * Per schema node, computed once: the properties with defaults, and those leading to checks the
 * walk does; defaulting and the walk then follow the object, not the whole (large) schema.
 */
interface Plan {
  defaults: boolean;
  walk: boolean;
  /** Properties with a default of their own. */
  defaultProps: [string, JSONSchemaProps][];
  walkProps: [string, JSONSchemaProps][];
}
const plans = new WeakMap<JSONSchemaProps, Plan>();

function plan(s: JSONSchemaProps): Plan {
  let p = plans.get(s);
  if (p) return p;
  const props = Object.entries(s.properties ?? {}).map(([k, c]) => [k, c, plan(c)] as const);
  const items = s.items && typeof s.items === "object" ? plan(s.items) : undefined;
  const additional = isObject(s.additionalProperties) ? plan(s.additionalProperties as JSONSchemaProps) : undefined;
  const listType = s["x-kubernetes-list-type"];
  const self =
    !!s["x-kubernetes-validations"]?.length ||
    listType === "set" ||
    listType === "map" ||
    !!s["x-kubernetes-embedded-resource"];
  p = {
    defaultProps: props.filter(([, c]) => c.default !== undefined).map(([k, c]) => [k, c]),
    walkProps: props.filter(([, , cp]) => cp.walk).map(([k, c]) => [k, c]),
    defaults:
      props.some(([, c, cp]) => c.default !== undefined || cp.defaults) || !!items?.defaults || !!additional?.defaults,
    walk: self || props.some(([, , cp]) => cp.walk) || !!items?.walk || !!additional?.walk,
  };
  plans.set(s, p);
  return p;
}

function defaults(v: unknown, s: JSONSchemaProps | undefined): void {
  if (!s) return;
  if (Array.isArray(v)) {
    if (s.items) for (const x of v) if (x !== null && typeof x === "object") defaults(x, s.items);
    return;
  }
  if (!isObject(v)) return;
  const p = plan(s);
  for (const [k, c] of p.defaultProps) if (!(k in v) || (v[k] === null && !c.nullable)) v[k] = cloneJson(c.default);
  const additional = isObject(s.additionalProperties) ? (s.additionalProperties as JSONSchemaProps) : undefined;
  for (const k of Object.keys(v)) {
    const c = s.properties?.[k] ?? additional;
    if (!c) continue;
    // A null in a field that is not nullable is pruned (it has no default, or got it above).
    if (v[k] === null && !c.nullable) delete v[k];
    else if (v[k] !== null && typeof v[k] === "object") defaults(v[k], c);
  }
}

function goMap(keys: string[], item: Json): string {
  return `map[string]interface {}{${keys.map((k) => `${q(k)}:${q(item[k])}`).join(", ")}}`;
}

/** List types, embedded resources and CEL rules, by walking schema and value together. */
function walk(causes: Cause[], v: unknown, old: unknown, s: JSONSchemaProps, path: string, root = false): void {
  if (v === undefined || v === null) return;
  const listType = s["x-kubernetes-list-type"];
  if (Array.isArray(v) && (listType === "set" || listType === "map")) {
    const seen = new Set<string>();
    const keys = s["x-kubernetes-list-map-keys"] ?? [];
    v.forEach((item, i) => {
      const key = listType === "set" ? JSON.stringify(item) : JSON.stringify(keys.map((k) => (item as Json)?.[k]));
      if (seen.has(key))
        causes.push({
          reason: "FieldValueDuplicate",
          field: `${path}[${i}]`,
          message: `Duplicate value: ${listType === "set" ? q(item) : goMap(keys, item as Json)}`,
        });
      seen.add(key);
    });
  }
  if (s["x-kubernetes-embedded-resource"] && isObject(v)) {
    for (const f of ["apiVersion", "kind"])
      if (typeof v[f] !== "string" || v[f] === "")
        causes.push({
          reason: "FieldValueRequired",
          field: `${path}.${f}`,
          message: "Required value: must not be empty",
        });
  }
  for (const r of s["x-kubernetes-validations"] ?? []) {
    const transition = usesOldSelf(r.rule);
    if (transition && (old === undefined || old === null)) continue;
    const ok = evaluateRule(r.rule, v, old, old !== undefined);
    if (ok === true) continue;
    const field = r.fieldPath ? `${path}${r.fieldPath}` : path;
    const detail = ok === false ? (r.message ?? `failed rule: ${r.rule}`) : `rule evaluation error: ${ok}`;
    causes.push({
      reason: r.reason === "FieldValueForbidden" ? "FieldValueForbidden" : "FieldValueInvalid",
      field: field || "<nil>",
      message: `Invalid value: ${q(typeName(v))}: ${detail}`,
    });
  }
  const child = (seg: string) => (path ? `${path}.${seg}` : seg);
  if (isObject(v)) {
    const o = isObject(old) ? old : undefined;
    for (const [k, p] of plan(s).walkProps)
      if (!(root && k === "metadata") && k in v) walk(causes, v[k], o?.[k], p, child(k));
    if (isObject(s.additionalProperties))
      for (const k of Object.keys(v))
        if (!s.properties?.[k]) walk(causes, v[k], o?.[k], s.additionalProperties as JSONSchemaProps, child(k));
  } else if (Array.isArray(v) && s.items) {
    // oldSelf for list items is the item with the same map keys (map lists) or none.
    const keys = s["x-kubernetes-list-map-keys"];
    const oldList = Array.isArray(old) ? old : [];
    v.forEach((item, i) => {
      const prev = keys ? oldList.find((o) => keys.every((k) => (o as Json)?.[k] === (item as Json)?.[k])) : undefined;
      walk(causes, item, prev, s.items!, `${path}[${i}]`);
    });
  }
}
