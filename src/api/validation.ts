// Kubernetes validation rules as small functions that add Causes with Kubernetes' messages:
// DNS-1123 names, label keys and values, ports, required and enumerated fields.
import type { Cause, KubeObject } from "./types.ts";
import { isValidQuantity } from "./quantity.ts";

export class Causes {
  readonly list: Cause[] = [];
  required(field: string, detail = ""): void {
    this.list.push({ reason: "FieldValueRequired", field, message: `Required value${detail ? `: ${detail}` : ""}` });
  }
  invalid(field: string, value: unknown, detail: string): void {
    this.list.push({
      reason: "FieldValueInvalid",
      field,
      message: `Invalid value: ${JSON.stringify(value)}: ${detail}`,
    });
  }
  notSupported(field: string, value: unknown, supported: string[]): void {
    this.list.push({
      reason: "FieldValueNotSupported",
      field,
      message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => `"${s}"`).join(", ")}`,
    });
  }
  duplicate(field: string, value: unknown): void {
    this.list.push({ reason: "FieldValueDuplicate", field, message: `Duplicate value: ${JSON.stringify(value)}` });
  }
  forbidden(field: string, detail: string): void {
    this.list.push({ reason: "FieldValueForbidden", field, message: `Forbidden: ${detail}` });
  }
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

export function dns1123Label(c: Causes, field: string, v: string): void {
  if (v.length > 63) c.invalid(field, v, "must be no more than 63 characters");
  if (!DNS1123_LABEL.test(v))
    c.invalid(
      field,
      v,
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    );
}

export function dns1123Subdomain(c: Causes, field: string, v: string): void {
  if (v.length > 253) c.invalid(field, v, "must be no more than 253 characters");
  if (!DNS1123_SUBDOMAIN.test(v))
    c.invalid(
      field,
      v,
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
}

export function qualifiedName(c: Causes, field: string, key: string): void {
  const parts = key.split("/");
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  if (
    parts.length > 2 ||
    (parts.length === 2 && (parts[0] === "" || !DNS1123_SUBDOMAIN.test(parts[0]!) || parts[0]!.length > 253))
  ) {
    c.invalid(
      field,
      key,
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    );
    return;
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name))
    c.invalid(
      field,
      key,
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'), and be no more than 63 characters",
    );
}

export function labels(c: Causes, field: string, l: unknown): void {
  if (l === undefined || l === null) return;
  if (typeof l !== "object" || Array.isArray(l)) return c.invalid(field, l, "must be a map of strings");
  for (const [k, v] of Object.entries(l as Record<string, unknown>)) {
    qualifiedName(c, field, k);
    if (typeof v !== "string") c.invalid(`${field}[${k}]`, v, "must be a string");
    else if (v.length > 63 || !LABEL_VALUE.test(v))
      c.invalid(
        field,
        v,
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
      );
  }
}

export function annotations(c: Causes, field: string, a: unknown): void {
  if (a === undefined || a === null) return;
  if (typeof a !== "object" || Array.isArray(a)) return c.invalid(field, a, "must be a map of strings");
  let size = 0;
  for (const [k, v] of Object.entries(a as Record<string, unknown>)) {
    qualifiedName(c, field, k.toLowerCase());
    if (typeof v !== "string") c.invalid(`${field}[${k}]`, v, "must be a string");
    size += k.length + String(v).length;
  }
  if (size > 256 * 1024)
    c.list.push({ reason: "FieldValueTooLong", field, message: "Too long: must have at most 262144 bytes" });
}

export type NameRule = "subdomain" | "label" | "path";

/** metadata: name (or generateName), labels, annotations, ownerReferences. */
/** path.ValidatePathSegmentName: RBAC objects may be named "system:node" and the like. */
export function pathSegmentName(c: Causes, field: string, name: string): void {
  if (name === "." || name === "..") c.invalid(field, name, `may not be '${name}'`);
  for (const ch of ["/", "%"]) if (name.includes(ch)) c.invalid(field, name, `may not contain '${ch}'`);
}

export function objectMeta(c: Causes, obj: KubeObject, rule: NameRule = "subdomain"): void {
  const m = obj.metadata;
  if (!m || typeof m !== "object") return c.required("metadata");
  if (m.name === undefined || m.name === "") {
    if (!m.generateName) c.required("metadata.name", "name or generateName is required");
  } else if (typeof m.name !== "string") c.invalid("metadata.name", m.name, "must be a string");
  else if (rule === "label") dns1123Label(c, "metadata.name", m.name);
  else if (rule === "path") pathSegmentName(c, "metadata.name", m.name);
  else dns1123Subdomain(c, "metadata.name", m.name);
  if (m.namespace !== undefined && typeof m.namespace === "string" && m.namespace !== "")
    dns1123Label(c, "metadata.namespace", m.namespace);
  labels(c, "metadata.labels", m.labels);
  annotations(c, "metadata.annotations", m.annotations);
  (m.ownerReferences ?? []).forEach((r, i) => {
    for (const f of ["apiVersion", "kind", "name", "uid"] as const)
      if (!r?.[f]) c.required(`metadata.ownerReferences[${i}].${f}`);
  });
  if ((m.ownerReferences ?? []).filter((r) => r?.controller).length > 1)
    c.invalid("metadata.ownerReferences", m.ownerReferences, "Only one reference can have Controller set to true");
}

export function port(c: Causes, field: string, v: unknown, required = true): void {
  if (v === undefined || v === null) {
    if (required) c.required(field);
    return;
  }
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 65535)
    c.invalid(field, v, "must be between 1 and 65535, inclusive");
}

/** A port given as a number or an IANA service name (targetPort, probe ports). */
export function intOrPortName(c: Causes, field: string, v: unknown): void {
  if (typeof v === "string") {
    if (/^\d+$/.test(v)) return port(c, field, Number(v));
    if (v.length > 15 || !IANA_SVC_NAME.test(v) || !/[a-z]/.test(v) || v.includes("--"))
      c.invalid(
        field,
        v,
        "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-), at most 15 characters",
      );
    return;
  }
  port(c, field, v);
}

export function portName(c: Causes, field: string, v: unknown): void {
  if (v === undefined) return;
  if (typeof v !== "string" || v.length > 15 || !IANA_SVC_NAME.test(v) || !/[a-z]/.test(v))
    c.invalid(
      field,
      v,
      "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-), at most 15 characters, at least one letter",
    );
}

export function envName(c: Causes, field: string, v: unknown): void {
  if (typeof v !== "string" || v === "") return c.required(field);
  if (!ENV_NAME.test(v))
    c.invalid(
      field,
      v,
      "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit",
    );
}

export function nonNegativeInt(c: Causes, field: string, v: unknown): void {
  if (v === undefined || v === null) return;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) c.invalid(field, v, "must be greater than or equal to 0");
}

export function positiveInt(c: Causes, field: string, v: unknown): void {
  if (v === undefined || v === null) return;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) c.invalid(field, v, "must be greater than 0");
}

export function oneOf(c: Causes, field: string, v: unknown, allowed: string[], required = false): void {
  if (v === undefined || v === null) {
    if (required) c.required(field);
    return;
  }
  if (typeof v !== "string" || !allowed.includes(v)) c.notSupported(field, v, allowed);
}

export function quantity(c: Causes, field: string, v: unknown): void {
  if (!isValidQuantity(v)) c.invalid(field, v, "must match the regex ^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$");
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

/** An int-or-percent like maxSurge: 0+ integer or "N%". */
export function intOrPercent(c: Causes, field: string, v: unknown): void {
  if (v === undefined) return;
  if (typeof v === "number") return nonNegativeInt(c, field, v);
  if (typeof v !== "string" || !/^\d+%$/.test(v))
    c.invalid(
      field,
      v,
      "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
    );
}
