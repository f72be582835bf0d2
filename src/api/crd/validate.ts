// Validation of a CustomResourceDefinition as apiextensions-apiserver does it: names, group,
// scope, versions (exactly one storage version), subresources, printer columns, conversion, and
// the schema, which must be structural (every field typed; logic only in value validations).
import type { KubeObject } from "../types.ts";
import { Causes, dns1123Label, dns1123Subdomain } from "../validation.ts";
import type { CrdSpec, JSONSchemaProps } from "./types.ts";
import { compileRule } from "./cel.ts";

const KIND = /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const COLUMN_TYPES = ["boolean", "date", "integer", "number", "string"];

function kindName(c: Causes, field: string, v: string | undefined, required = true): void {
  if (!v) return required ? c.required(field) : undefined;
  if (!KIND.test(v.toLowerCase()) || !KIND.test(v))
    c.invalid(field, v, "may have mixed case, but should otherwise match: [a-z]([-a-z0-9]*[a-z0-9])?");
}

export function validateCrd(obj: KubeObject): Causes {
  const c = new Causes();
  const spec = (obj.spec ?? {}) as Partial<CrdSpec>;
  const name = obj.metadata?.name ?? "";
  const names = spec.names ?? ({} as CrdSpec["names"]);
  if (!spec.group) c.required("spec.group");
  else {
    dns1123Subdomain(c, "spec.group", spec.group);
    if (spec.group.split(".").length < 2)
      c.invalid("spec.group", spec.group, "should be a domain with at least one dot");
  }
  if (name && spec.group && names.plural && name !== `${names.plural}.${spec.group}`)
    c.invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group');
  if (!spec.scope) c.required("spec.scope");
  else if (spec.scope !== "Namespaced" && spec.scope !== "Cluster")
    c.notSupported("spec.scope", spec.scope, ["Cluster", "Namespaced"]);

  if (!names.plural) c.required("spec.names.plural");
  else dns1123Label(c, "spec.names.plural", names.plural);
  if (names.singular) dns1123Label(c, "spec.names.singular", names.singular);
  kindName(c, "spec.names.kind", names.kind);
  kindName(c, "spec.names.listKind", names.listKind, false);
  if (names.kind && names.listKind === names.kind)
    c.invalid(
      "spec.names.listKind",
      names.listKind,
      "kind and listKind may not be the same or parsing errors will occur",
    );
  (names.shortNames ?? []).forEach((s, i) => dns1123Label(c, `spec.names.shortNames[${i}]`, s));
  (names.categories ?? []).forEach((s, i) => dns1123Label(c, `spec.names.categories[${i}]`, s));

  const strategy = spec.conversion?.strategy ?? "None";
  if (strategy === "Webhook") c.notSupported("spec.conversion.strategy", strategy, ["None"]);
  else if (strategy !== "None") c.notSupported("spec.conversion.strategy", strategy, ["None", "Webhook"]);
  if (spec.preserveUnknownFields === true) c.invalid("spec.preserveUnknownFields", true, "must be false");

  const versions = Array.isArray(spec.versions) ? spec.versions : [];
  if (versions.length === 0) c.required("spec.versions");
  else if (versions.filter((v) => v?.storage).length !== 1)
    c.invalid(
      "spec.versions",
      versions.map((v) => v?.name),
      "must have exactly one version marked as storage version",
    );
  const seen = new Set<string>();
  versions.forEach((v, i) => {
    const at = `spec.versions[${i}]`;
    if (!v?.name) return c.required(`${at}.name`);
    if (!DNS1035.test(v.name) || v.name.length > 63)
      c.invalid(
        `${at}.name`,
        v.name,
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
      );
    if (seen.has(v.name)) c.duplicate(`${at}.name`, v.name);
    seen.add(v.name);
    const schema = v.schema?.openAPIV3Schema;
    if (!schema) c.required(`${at}.schema.openAPIV3Schema`, "schemas are required");
    else structural(c, `${at}.schema.openAPIV3Schema`, schema, "root");
    const scale = v.subresources?.scale;
    if (scale) {
      if (!scale.specReplicasPath) c.required(`${at}.subresources.scale.specReplicasPath`);
      else if (!scale.specReplicasPath.startsWith(".spec."))
        c.invalid(
          `${at}.subresources.scale.specReplicasPath`,
          scale.specReplicasPath,
          "should be a json path under .spec",
        );
      if (!scale.statusReplicasPath) c.required(`${at}.subresources.scale.statusReplicasPath`);
      else if (!scale.statusReplicasPath.startsWith(".status."))
        c.invalid(
          `${at}.subresources.scale.statusReplicasPath`,
          scale.statusReplicasPath,
          "should be a json path under .status",
        );
      if (
        scale.labelSelectorPath &&
        !scale.labelSelectorPath.startsWith(".spec.") &&
        !scale.labelSelectorPath.startsWith(".status.")
      )
        c.invalid(
          `${at}.subresources.scale.labelSelectorPath`,
          scale.labelSelectorPath,
          "should be a json path under either .spec or .status",
        );
    }
    (v.additionalPrinterColumns ?? []).forEach((col, j) => {
      const cat = `${at}.additionalPrinterColumns[${j}]`;
      if (!col?.name) c.required(`${cat}.name`);
      if (!col?.type) c.required(`${cat}.type`);
      else if (!COLUMN_TYPES.includes(col.type)) c.notSupported(`${cat}.type`, col.type, COLUMN_TYPES);
      if (!col?.jsonPath) c.required(`${cat}.JSONPath`);
      else if (!col.jsonPath.startsWith("."))
        c.invalid(`${cat}.JSONPath`, col.jsonPath, "must be a simple json path starting with .");
    });
    (v.selectableFields ?? []).forEach((f, j) => {
      if (!f?.jsonPath) c.required(`${at}.selectableFields[${j}].jsonPath`);
      else if (!f.jsonPath.startsWith("."))
        c.invalid(`${at}.selectableFields[${j}].jsonPath`, f.jsonPath, "must be a simple json path starting with .");
    });
  });
  return c;
}

type Level = "root" | "field" | "item";

/** Structural schema rules (apiextensions-apiserver's pkg/apiserver/schema/validation.go). */
function structural(c: Causes, at: string, s: JSONSchemaProps, lvl: Level): void {
  if (!s || typeof s !== "object") return c.invalid(at, s, "must be an object");
  const intOrString = s["x-kubernetes-int-or-string"] === true;
  const preserve = s["x-kubernetes-preserve-unknown-fields"] === true;
  if (s.$ref !== undefined) c.forbidden(`${at}.$ref`, "$ref is not supported");
  if (intOrString && s.type) c.invalid(`${at}.type`, s.type, "must be empty if x-kubernetes-int-or-string is true");
  else if (s["x-kubernetes-embedded-resource"] && s.type !== "object")
    c.invalid(`${at}.type`, s.type ?? "", "must be object if x-kubernetes-embedded-resource is true");
  else if (!s.type && !intOrString && !preserve)
    c.required(
      `${at}.type`,
      lvl === "root"
        ? "must not be empty at the root"
        : lvl === "item"
          ? "must not be empty for specified array items"
          : "must not be empty for specified object fields",
    );
  if (lvl === "root" && s.type && s.type !== "object") c.invalid(`${at}.type`, s.type, "must be object at the root");
  if (s["x-kubernetes-preserve-unknown-fields"] === false)
    c.invalid(`${at}.x-kubernetes-preserve-unknown-fields`, false, "must be true or undefined");
  if (
    s.properties &&
    s.additionalProperties !== undefined &&
    s.additionalProperties !== true &&
    s.additionalProperties !== false
  )
    c.forbidden(`${at}.additionalProperties`, "additionalProperties and properties are mutual exclusive");
  if (s.type === "array" && !s.items) c.required(`${at}.items`, "must be specified");
  if (s.uniqueItems === true)
    c.forbidden(
      `${at}.uniqueItems`,
      "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
    );
  if (s.additionalProperties === false)
    c.forbidden(`${at}.additionalProperties`, "must not explicitly set additionalProperties: false");
  if (s["x-kubernetes-list-type"] === "map") {
    const keys = s["x-kubernetes-list-map-keys"] ?? [];
    if (keys.length === 0)
      c.required(`${at}.x-kubernetes-list-map-keys`, "must not be empty if x-kubernetes-list-type is map");
    if (s.items && s.items.type !== "object")
      c.invalid(`${at}.x-kubernetes-list-type`, "map", "must only be used if items.type is object");
  } else if (s["x-kubernetes-list-map-keys"])
    c.forbidden(`${at}.x-kubernetes-list-map-keys`, 'must not be set if x-kubernetes-list-type is not "map"');
  if (s["x-kubernetes-list-type"] && s.type !== "array")
    c.invalid(`${at}.x-kubernetes-list-type`, s["x-kubernetes-list-type"], "must only be used with type array");
  if (s.pattern !== undefined) {
    try {
      new RegExp(s.pattern, "u");
    } catch {
      c.invalid(`${at}.pattern`, s.pattern, "must be a valid regular expression");
    }
  }
  if (lvl === "root" && s.properties?.metadata) {
    const meta = s.properties.metadata;
    const extra = Object.keys(meta.properties ?? {}).filter((k) => k !== "name" && k !== "generateName");
    if (extra.length || (meta.type && meta.type !== "object"))
      c.forbidden(
        `${at}.properties[metadata]`,
        "must not specify anything other than name and generateName, but metadata is implicitly specified",
      );
  }
  (s["x-kubernetes-validations"] ?? []).forEach((r, i) => {
    const err = r?.rule ? compileRule(r.rule) : "rule is required";
    if (err) c.invalid(`${at}.x-kubernetes-validations[${i}].rule`, r?.rule ?? "", `compilation failed: ${err}`);
  });
  for (const [k, p] of Object.entries(s.properties ?? {})) structural(c, `${at}.properties[${k}]`, p, "field");
  if (s.items && typeof s.items === "object" && !Array.isArray(s.items)) structural(c, `${at}.items`, s.items, "item");
  else if (Array.isArray(s.items)) c.forbidden(`${at}.items`, "items must be a schema object and not an array");
  if (s.additionalProperties && typeof s.additionalProperties === "object")
    structural(c, `${at}.additionalProperties`, s.additionalProperties, "field");
  for (const j of ["allOf", "anyOf", "oneOf"] as const)
    (s[j] ?? []).forEach((sub, i) => valueValidation(c, `${at}.${j}[${i}]`, sub, intOrString));
  if (s.not) valueValidation(c, `${at}.not`, s.not);
}

/** Inside allOf/anyOf/oneOf/not only value validations are allowed (no types, defaults, nullable). */
function valueValidation(c: Causes, at: string, s: JSONSchemaProps, intOrString = false): void {
  if (!s || typeof s !== "object") return;
  // The int-or-string idiom: anyOf: [{type: integer}, {type: string}] next to x-kubernetes-int-or-string.
  if (intOrString && (s.type === "integer" || s.type === "string") && Object.keys(s).length === 1) return;
  for (const f of [
    "type",
    "default",
    "nullable",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource",
    "x-kubernetes-int-or-string",
  ] as const)
    if (s[f] !== undefined && s[f] !== false && s[f] !== "")
      c.forbidden(`${at}.${f}`, "must be empty to be structural");
  for (const p of Object.values(s.properties ?? {})) valueValidation(c, at, p);
  if (s.items) valueValidation(c, `${at}.items`, s.items);
}
