// Generates src/api/openapi/definitions.json: upstream's OpenAPI v2 definitions for every kind kube
// serves (and the types they reach), so /openapi/v2, /openapi/v3, `kubectl explain` and the
// server's unknown-field check all read one copy of upstream's schema.
//
// Sources (both unchanged upstream text; run `npm pack` for each and unpack them):
//  - @hkube/kubernetes-client 2.0.9 (MIT) ships upstream's swagger.json of Kubernetes 1.22: types,
//    formats, descriptions and the x-kubernetes-* extensions (patch strategy, list types).
//  - kubernetes-types 1.30.0 (Apache-2.0) is generated from upstream's 1.30 spec: every field and
//    its description as of 1.30 (fields added after 1.22, such as Probe.grpc, come from here).
// A field in both keeps 1.22's schema with 1.30's description; a 1.30-only field is typed from
// its TypeScript declaration. Usage:
//   bun scripts/gen-openapi.ts <dir with package/lib/spec/swagger-1.22.json> <kubernetes-types package dir>
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { allKinds } from "../src/api/registry.ts";

type Schema = Record<string, any>;
const [hkDir, ktDir] = process.argv.slice(2);
if (!hkDir || !ktDir)
  throw new Error("usage: bun scripts/gen-openapi.ts <hkube kubernetes-client dir> <kubernetes-types dir>");
const old: Record<string, Schema> = JSON.parse(
  readFileSync(join(hkDir, "package/lib/spec/swagger-1.22.json"), "utf8"),
).definitions;

// kubernetes-types module (path without .d.ts) -> upstream definition prefix.
const prefixOf = (mod: string): string => {
  if (mod === "meta/v1") return "io.k8s.apimachinery.pkg.apis.meta.v1";
  if (mod === "api/resource") return "io.k8s.apimachinery.pkg.api.resource";
  if (mod === "runtime") return "io.k8s.apimachinery.pkg.runtime";
  if (mod === "util/intstr") return "io.k8s.apimachinery.pkg.util.intstr";
  if (mod.startsWith("apiextensions/")) return `io.k8s.apiextensions-apiserver.pkg.apis.${mod.replace("/", ".")}`;
  if (mod.startsWith("apiregistration/")) return `io.k8s.kube-aggregator.pkg.apis.${mod.replace("/", ".")}`;
  return `io.k8s.api.${mod.replace("/", ".")}`;
};
const INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";

interface Decl {
  mod: string;
  node: ts.InterfaceDeclaration | ts.TypeAliasDeclaration;
  imports: Map<string, string>;
  source: ts.SourceFile;
}
const decls = new Map<string, Decl>();
const loaded = new Set<string>();
function load(mod: string): void {
  if (loaded.has(mod)) return;
  loaded.add(mod);
  const text = readFileSync(join(ktDir, `${mod}.d.ts`), "utf8");
  const source = ts.createSourceFile(mod, text, ts.ScriptTarget.Latest, true);
  const imports = new Map<string, string>();
  for (const st of source.statements) {
    if (ts.isImportDeclaration(st)) {
      const from = (st.moduleSpecifier as ts.StringLiteral).text;
      const target = join(mod, "..", from).replace(/^\.\//, "");
      for (const el of (st.importClause?.namedBindings as ts.NamedImports | undefined)?.elements ?? [])
        imports.set(el.name.text, target);
    } else if (ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) {
      decls.set(`${prefixOf(mod)}.${st.name.text}`, { mod, node: st, imports, source });
    }
  }
}

function docOf(node: ts.Node): string | undefined {
  const docs = (node as { jsDoc?: ts.JSDoc[] }).jsDoc;
  const c = docs?.[docs.length - 1]?.comment;
  return typeof c === "string" ? c : undefined;
}

/** A 1.22 definition for the same type, under the name it had then (autoscaling/v2 was v2beta2). */
function oldDef(name: string): { def: Schema; renamed?: [string, string] } | undefined {
  if (old[name]) return { def: old[name] };
  const m = /^(io\.k8s\.api\.\w+)\.v2\.(\w+)$/.exec(name);
  if (m && old[`${m[1]}.v2beta2.${m[2]}`])
    return { def: old[`${m[1]}.v2beta2.${m[2]}`], renamed: [`${m[1]}.v2beta2.`, `${m[1]}.v2.`] };
  return undefined;
}

const out: Record<string, Schema> = {};
const queue: string[] = [];
const want = (name: string) => {
  if (!(name in out) && !queue.includes(name)) queue.push(name);
};

function fromType(t: ts.TypeNode, d: Decl): Schema {
  if (t.kind === ts.SyntaxKind.StringKeyword || ts.isLiteralTypeNode(t)) return { type: "string" };
  if (t.kind === ts.SyntaxKind.NumberKeyword) return { type: "integer", format: "int32" };
  if (t.kind === ts.SyntaxKind.BooleanKeyword) return { type: "boolean" };
  if (ts.isArrayTypeNode(t)) return { type: "array", items: fromType(t.elementType, d) };
  if (ts.isUnionTypeNode(t)) {
    want(INT_OR_STRING);
    return { $ref: `#/definitions/${INT_OR_STRING}` };
  }
  if (ts.isTypeLiteralNode(t)) {
    const index = t.members.find(ts.isIndexSignatureDeclaration);
    return index ? { type: "object", additionalProperties: fromType(index.type, d) } : { type: "object" };
  }
  if (ts.isTypeReferenceNode(t)) {
    const id = t.typeName.getText(d.source);
    if (id === "Array" && t.typeArguments?.[0]) return { type: "array", items: fromType(t.typeArguments[0], d) };
    const mod = d.imports.get(id) ?? d.mod;
    load(mod);
    const name = `${prefixOf(mod)}.${id}`;
    want(name);
    return { $ref: `#/definitions/${name}` };
  }
  return { type: "object" };
}

function rename(s: unknown, renamed?: [string, string]): any {
  if (!renamed) return s;
  return JSON.parse(JSON.stringify(s).replaceAll(renamed[0], renamed[1]));
}

function build(name: string): Schema {
  const d = decls.get(name);
  const prev = oldDef(name);
  if (!d) {
    if (!prev) throw new Error(`no definition for ${name}`);
    return prev.def;
  }
  const description = docOf(d.node);
  if (ts.isTypeAliasDeclaration(d.node)) {
    if (!prev) throw new Error(`alias ${name} has no 1.22 definition`);
    return { ...prev.def, ...(description ? { description } : {}) };
  }
  const base: Schema = prev ? rename(prev.def, prev.renamed) : { type: "object" };
  if (prev?.renamed) delete base["x-kubernetes-group-version-kind"];
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  for (const m of d.node.members) {
    if (!ts.isPropertySignature(m) || !m.type) continue;
    const field = m.name.getText(d.source).replace(/^"|"$/g, "");
    const doc = docOf(m);
    const known = base.properties?.[field] as Schema | undefined;
    // Walk the 1.30 type either way, so every definition it reaches is generated too.
    const fresh = fromType(m.type, d);
    const schema = known ? { ...known } : fresh;
    if (doc) schema.description = doc;
    properties[field] = schema;
    if (!m.questionToken) required.push(field);
  }
  // kubernetes-types leaves out JSONSchemaProps' x-kubernetes-* fields: 1.22's are kept, and the
  // one added since (x-kubernetes-validations, 1.25) is declared as upstream does.
  for (const [field, schema] of Object.entries<Schema>(base.properties ?? {}))
    if (field.startsWith("x-kubernetes-")) properties[field] ??= schema;
  if (name.endsWith("apiextensions.v1.JSONSchemaProps")) {
    const rule = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.ValidationRule";
    want(rule);
    properties["x-kubernetes-validations"] = {
      description:
        "x-kubernetes-validations describes a list of validation rules written in the CEL expression language.",
      items: { $ref: `#/definitions/${rule}` },
      type: "array",
      "x-kubernetes-list-map-keys": ["rule"],
      "x-kubernetes-list-type": "map",
      "x-kubernetes-patch-merge-key": "rule",
      "x-kubernetes-patch-strategy": "merge",
    };
  }
  // An empty interface (FieldsV1, RawExtension) is free-form: it gets no properties at all.
  const def: Schema = Object.keys(properties).length ? { ...base, properties } : { ...base };
  if (description) def.description = description;
  if (required.length) def.required = required;
  else delete def.required;
  if (!def.type) def.type = "object";
  return def;
}

for (const mod of ["core/v1", "meta/v1"]) load(mod);
const modOf = (k: { group: string; version: string }) => `${k.group.split(".")[0] || "core"}/${k.version}`;
const roots = allKinds().map((k) => `${prefixOf(modOf(k))}.${k.kind}`);
// Types the API server returns or accepts besides the kinds themselves.
roots.push(
  "io.k8s.api.autoscaling.v1.Scale",
  "io.k8s.api.policy.v1.Eviction",
  "io.k8s.api.authentication.v1.TokenRequest",
);
roots.push(
  "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
  "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
  "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
);
// kubernetes-types has no kube-aggregator module: APIService comes from the 1.22 schema alone.
for (const k of allKinds()) if (existsSync(join(ktDir, `${modOf(k)}.d.ts`))) load(modOf(k));
for (const mod of ["autoscaling/v1", "policy/v1", "authentication/v1"]) load(mod);
for (const r of roots) want(r);
while (queue.length) {
  const name = queue.shift()!;
  out[name] = build(name);
  // $refs that only the 1.22 schema carries (kept fields) must be generated too.
  for (const m of JSON.stringify(out[name]).matchAll(/"#\/definitions\/([^"]+)"/g)) {
    const ref = m[1]!;
    if (!(ref in out) && !queue.includes(ref)) {
      queue.push(ref);
    }
  }
}
const sorted = Object.fromEntries(
  Object.keys(out)
    .sort()
    .map((k) => [k, out[k]]),
);
writeFileSync(new URL("../src/api/openapi/definitions.json", import.meta.url), JSON.stringify(sorted));
console.log(`${Object.keys(sorted).length} definitions, ${JSON.stringify(sorted).length} bytes`);
