// apiVersion and kind of a request body, checked against the endpoint as kube-apiserver's
// decoder does: missing ones come from the URL (typed clients leave them out), a body of
// another kind cannot be "handled as" the endpoint's kind, and another version of the same
// group is refused by the handler (AcceptsGroupVersion). Messages are upstream's.
import type { KindDef, KubeObject } from "../../api/types.ts";
import { badRequest } from "./errors.ts";
import { apiVersion as apiVersionOf } from "./watch.ts";

/** Go package names in the converter's messages: v1.Pod (versioned), core.Namespace (internal). */
const internalPackage = (group: string) => (group ? group.split(".")[0]! : "core");
const versionOf = (apiVersion: string) => apiVersion.slice(apiVersion.indexOf("/") + 1);

/** The first 30 bytes of the body as upstream's summarizeData shows them. */
function summary(body: KubeObject): string {
  const text = JSON.stringify(body);
  return text.length > 30 ? `${text.slice(0, 30)} ...` : text;
}

/**
 * Fills and checks apiVersion/kind of `body` in place for an endpoint serving `kind`.
 * `known` says whether the cluster serves a kind under an apiVersion (for upstream's two messages).
 */
export function checkTypeMeta(
  kind: KindDef,
  body: KubeObject,
  known: (apiVersion: string, kind: string) => boolean,
): KubeObject {
  const want = apiVersionOf(kind);
  for (const f of ["apiVersion", "kind"] as const) {
    const v = body[f];
    if (v !== undefined && v !== null && typeof v !== "string")
      throw badRequest(
        `the object provided is unrecognized (must be of type ${kind.kind}): couldn't get version/kind; json parse error: json: cannot unmarshal ${goType(v)} into Go struct field .${f} of type string (${summary(body)})`,
      );
  }
  // Go's decoder defaults the kind and the group/version independently from the endpoint.
  if (!body.kind) body.kind = kind.kind;
  if (!body.apiVersion) body.apiVersion = want;
  const av = body.apiVersion;
  const k = body.kind;
  if (av === want && k === kind.kind) return body;
  const version = versionOf(av);
  if (!known(av, k))
    throw badRequest(
      `${k} in version "${version}" cannot be handled as a ${kind.kind}: no kind "${k}" is registered for version "${av}" in scheme "pkg/api/legacyscheme/scheme.go:30"`,
    );
  if (k !== kind.kind)
    throw badRequest(
      `${k} in version "${version}" cannot be handled as a ${kind.kind}: converting (${version}.${k}) to (${internalPackage(kind.group)}.${kind.kind}): unknown conversion`,
    );
  throw badRequest(`the API version in the data (${av}) does not match the expected API version (${want})`);
}

function goType(v: unknown): string {
  if (typeof v === "number") return "number";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "array";
  return "object";
}
