// Generates src/api/gotypes.json: the Go field types of every served kind (and the bodies of its
// subresources), from the official JavaScript client's models, which are generated from
// Kubernetes' OpenAPI. The API server checks request bodies against them the way Go's JSON
// decoder would. Run: bun scripts/gen-gotypes.ts (after upgrading @kubernetes/client-node).
import * as k8s from "@kubernetes/client-node";
import { readFileSync, writeFileSync } from "node:fs";
import { allKinds } from "../src/api/registry.ts";

type Attr = { name: string; baseName: string; type: string; format: string };
const models = k8s as unknown as Record<string, { getAttributeTypeMap?: () => Attr[] }>;

/** Fields that are resource.Quantity in Go (a string or a number in JSON); the models say "string". */
const QUANTITY = new Set([
  "limits",
  "requests",
  "hard",
  "used",
  "capacity",
  "allocatable",
  "max",
  "min",
  "default",
  "defaultRequest",
  "maxLimitRequestRatio",
  "overhead",
  "allocatedResources",
  "sizeLimit",
  "storage",
]);

function scalar(a: Attr, t: string): string {
  if (t === "string") return QUANTITY.has(a.baseName) ? "q" : a.format === "byte" ? "s" : "s";
  if (t === "number") return a.format === "int32" ? "i32" : a.format === "int64" ? "i64" : "f";
  if (t === "boolean") return "b";
  if (t === "Date" || t === "V1MicroTime") return "t";
  if (t === "IntOrString") return "ios";
  if (t === "any") return "any";
  return "";
}

const out: Record<string, Record<string, string>> = {};
function typeCode(a: Attr, t: string): string {
  const arr = /^Array<(.*)>$/.exec(t);
  if (arr) return `[${typeCode(a, arr[1]!)}]`;
  const map = /^\{ \[key: string\]: (.*); \}$/.exec(t);
  if (map) return `{${typeCode(a, map[1]!)}}`;
  const s = scalar(a, t);
  if (s) return s;
  visit(t);
  return t;
}
function visit(name: string): void {
  if (out[name]) return;
  const cls = models[name];
  if (!cls?.getAttributeTypeMap) throw new Error(`no model ${name}`);
  out[name] = {};
  for (const a of cls.getAttributeTypeMap()) out[name]![a.baseName] = typeCode(a, a.type);
}

const roots: Record<string, string> = {};
for (const k of allKinds()) {
  const v = k.version[0]!.toUpperCase() + k.version.slice(1);
  const candidates = [`${v}${k.kind}`, `Core${v}${k.kind}`, `Events${v}${k.kind}`, `Discovery${v}${k.kind}`];
  const found = candidates.find((c) => models[c]?.getAttributeTypeMap);
  if (!found) throw new Error(`no model for ${k.kind}`);
  visit(found);
  roots[`${k.group}/${k.version}/${k.kind}`] = found;
}
for (const [key, model] of Object.entries({
  "autoscaling/v1/Scale": "V1Scale",
  "meta.k8s.io/v1/DeleteOptions": "V1DeleteOptions",
  "policy/v1/Eviction": "V1Eviction",
  "authentication.k8s.io/v1/TokenRequest": "AuthenticationV1TokenRequest",
})) {
  visit(model);
  roots[key] = model;
}

const sorted = Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
// Data, not code: src/api/gocheck.ts reads it (its header explains the codes).
const table = { source: `@kubernetes/client-node ${k8sVersion()}`, roots, types: sorted };
const file = new URL("../src/api/gotypes.json", import.meta.url);
writeFileSync(file, `${JSON.stringify(table, null, 2)}\n`);
// The project's formatter decides the layout (short structs on one line).
Bun.spawnSync(["npx", "biome", "format", "--write", file.pathname], { stdout: "ignore", stderr: "inherit" });
console.log(`${Object.keys(sorted).length} types, ${Object.keys(roots).length} roots`);

function k8sVersion(): string {
  const pkg = new URL("../node_modules/@kubernetes/client-node/package.json", import.meta.url);
  return (JSON.parse(readFileSync(pkg, "utf8")) as { version: string }).version;
}
