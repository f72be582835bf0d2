// fieldValidation=Strict|Warn|Ignore on create, update and patch, as upstream: unknown fields (by
// the kind's OpenAPI definition) are always dropped; duplicate keys keep the last value; Strict
// refuses either with a 400 naming every field, Warn (the default) sends one Warning header per
// field, Ignore says nothing.
import { BUILTIN_DEFINITIONS, definitionName, type Schema } from "../../api/openapi/definitions.ts";
import { pruneUnknown, scanJsonKeys } from "../../api/openapi/fields.ts";
import type { KindDef, KubeObject } from "../../api/types.ts";
import { type BodyText, parseYamlText } from "./body.ts";
import { badRequest } from "./errors.ts";

export type FieldValidation = "Strict" | "Warn" | "Ignore";

export function fieldValidationOf(q: URLSearchParams): FieldValidation {
  const v = q.get("fieldValidation") ?? "";
  if (v === "") return "Warn";
  if (v === "Strict" || v === "Warn" || v === "Ignore") return v;
  throw badRequest(`fieldValidation: Unsupported value: "${v}": supported values: "", "Ignore", "Strict", "Warn"`);
}

/**
 * Root definitions made once: a custom resource's by its schema object (a new schema is a new
 * object), a built-in kind's by the kind. The same root object each time also lets the unknown-field
 * walk keep what it resolved of it.
 */
const customRoots = new WeakMap<object, Schema>();
const builtinRoots = new WeakMap<KindDef, Schema | null>();

/** The kind's root definition: a custom resource's own schema, else upstream's. */
function rootSchema(kind: KindDef): Schema | undefined {
  if (kind.openAPIV3Schema) {
    let root = customRoots.get(kind.openAPIV3Schema);
    if (!root) {
      root = customRoot(kind.openAPIV3Schema as Schema);
      customRoots.set(kind.openAPIV3Schema, root);
    }
    return root;
  }
  let root = builtinRoots.get(kind);
  if (root === undefined) {
    root = BUILTIN_DEFINITIONS[definitionName(kind)] ?? null;
    builtinRoots.set(kind, root);
  }
  return root ?? undefined;
}

/** A custom resource's root: metadata is always ObjectMeta, whatever the CRD's schema says about it. */
function customRoot(schema: Schema): Schema {
  return {
    ...schema,
    properties: {
      ...schema.properties,
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: { $ref: "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" },
    },
  };
}

/** Duplicate keys of a JSON or YAML body, as upstream words them (YAML's as one decoder error). */
function duplicatesOf(body: BodyText | undefined): { json?: ReturnType<typeof scanJsonKeys>; yaml: string[] } {
  if (!body?.text) return { yaml: [] };
  if (body.yaml) return { yaml: body.yamlDuplicates ?? [] };
  if (body.serialized) return { json: { duplicates: [], firstAt: new Map() }, yaml: [] };
  return { json: scanJsonKeys(body.text), yaml: [] };
}

function finish(kind: KindDef, mode: FieldValidation, issues: string[], prefix: boolean): string[] {
  if (mode === "Ignore" || issues.length === 0) return [];
  if (mode === "Warn") return issues;
  const head = prefix ? `${kind.kind} in version "${kind.version}" cannot be handled as a ${kind.kind}: ` : "";
  throw badRequest(`${head}strict decoding error: ${issues.join(", ")}`);
}

const yamlError = (lines: string[]) => `yaml: unmarshal errors:\n  ${lines.join("\n  ")}`;

/**
 * Checks (and prunes) the object of a create or update. JSON issues come in document order, a
 * key both unknown and repeated reported once as unknown; YAML's duplicates come first, then
 * the unknown fields sorted, as upstream's two decoders do.
 */
export function checkBody(kind: KindDef, obj: KubeObject, body: BodyText | undefined, mode: FieldValidation): string[] {
  const schema = rootSchema(kind);
  const unknown = schema ? pruneUnknown(BUILTIN_DEFINITIONS, schema, obj) : [];
  if (mode === "Ignore") return [];
  // A body this process's client serialized has no duplicate keys: nothing unknown, nothing to say.
  if (unknown.length === 0 && body?.serialized && !body.yaml) return [];
  const dups = duplicatesOf(body);
  if (dups.json) {
    const unknownSet = new Set(unknown);
    const issues = [
      ...dups.json.duplicates
        .filter((d) => !unknownSet.has(d.path))
        .map((d) => ({ at: d.at, text: `duplicate field "${d.path}"` })),
      // Without duplicates there is no order map: the walk's order is the document's.
      ...unknown.map((path, i) => ({ at: dups.json!.firstAt.get(path) ?? i, text: `unknown field "${path}"` })),
    ].sort((a, b) => a.at - b.at);
    return finish(
      kind,
      mode,
      issues.map((i) => i.text),
      true,
    );
  }
  const unknownText = unknown.sort().map((p) => `unknown field "${p}"`);
  if (mode === "Warn") return finish(kind, mode, [...dups.yaml, ...unknownText], true);
  return finish(kind, mode, [...(dups.yaml.length ? [yamlError(dups.yaml)] : []), ...unknownText], true);
}

/** Duplicate keys of a patch body (checked before it is applied). */
export function patchDuplicates(text: string, contentType: string): string[] {
  const trimmed = text.trimStart();
  if (/apply-patch\+yaml/.test(contentType) && !trimmed.startsWith("{")) {
    try {
      const dups = parseYamlText(text).duplicates;
      return dups.length ? [yamlError(dups)] : [];
    } catch {
      return []; // the patch parser reports the syntax error
    }
  }
  try {
    JSON.parse(text);
  } catch {
    return [];
  }
  return scanJsonKeys(text).duplicates.map((d) => `duplicate field "${d.path}"`);
}

/** Checks (and prunes) the result of a patch: the patch's duplicates first, then unknown fields sorted. */
export function checkPatched(
  kind: KindDef,
  patched: KubeObject,
  duplicates: string[],
  mode: FieldValidation,
): string[] {
  const schema = rootSchema(kind);
  const unknown = schema ? pruneUnknown(BUILTIN_DEFINITIONS, schema, patched).sort() : [];
  return finish(kind, mode, [...duplicates, ...unknown.map((p) => `unknown field "${p}"`)], false);
}

/** `Warning: 299 - "unknown field \"spec.foo\""` headers on a response. */
export function withWarnings(res: Response, warnings: string[]): Response {
  for (const w of warnings) res.headers.append("warning", `299 - ${JSON.stringify(w.replaceAll("\n", " "))}`);
  return res;
}
