// The API server's patch engine: pure functions from (current object, patch body)
// to the patched object, for the four PATCH content types Kubernetes accepts.
// Errors are PatchErrors carrying the HTTP code of the Status to answer with.
import { parse as parseYaml } from "yaml";
import { applyServerSide } from "./apply.ts";
import { PatchError, badRequest, unprocessable } from "./errors.ts";
import { isObject, jsonType } from "./json.ts";
import { cloneJson } from "../../../api/clone.ts";
import { applyJsonPatch } from "./jsonpatch.ts";
import { jsonMergePatch } from "./merge.ts";
import { shapeFor } from "./schema.ts";
import { strategicMergePatch } from "./strategic.ts";

export { PatchError, type PatchCause } from "./errors.ts";
export { fieldsV1Of } from "./fields.ts";
export { recordUpdate, type UpdateOptions } from "./managed.ts";

export type PatchKind = "merge" | "json" | "strategic" | "apply";

export interface PatchOptions {
  /** The field manager (`?fieldManager=`); required for apply. */
  fieldManager?: string;
  /** `?force=true`: apply takes ownership of conflicting fields instead of failing. */
  force?: boolean;
  /** The time recorded in managedFields (default: now). */
  now?: Date;
}

const contentTypes: Record<string, PatchKind> = {
  "application/merge-patch+json": "merge",
  "application/json-patch+json": "json",
  "application/strategic-merge-patch+json": "strategic",
  "application/apply-patch+yaml": "apply",
};

/** The patch kind for a request's Content-Type (parameters such as charset ignored), or undefined (415). */
export function patchTypeFromContentType(ct: string): PatchKind | undefined {
  const mediaType = ct.split(";")[0]?.trim().toLowerCase() ?? "";
  return contentTypes[mediaType];
}

/** Parses a PATCH body: JSON for every kind, YAML (a superset of JSON) for apply. */
export function parsePatchBody(type: PatchKind, text: string): unknown {
  try {
    if (type !== "apply") return JSON.parse(text);
    // kubectl sends apply bodies as JSON: take the fast path when it parses.
    if (text.trimStart().startsWith("{")) {
      try {
        return JSON.parse(text);
      } catch {
        // Not JSON after all (YAML flow mapping): fall through to YAML.
      }
    }
    return parseYaml(text);
  } catch (err) {
    const what = type === "apply" ? "YAML" : "JSON";
    throw badRequest(`error decoding ${what} patch: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Returns the patched object (a new value; `current` and `patch` are untouched).
 * `kind` selects the strategic-merge strategies (e.g. "Pod", "Deployment").
 * `current` is undefined only for apply to an object that does not exist yet.
 */
export function applyPatch(
  kind: string,
  current: unknown,
  patch: unknown,
  type: PatchKind,
  opts: PatchOptions = {},
): unknown {
  try {
    return dispatch(kind, current, patch, type, opts);
  } catch (err) {
    // Whatever a client sends must not become a 500 (e.g. nesting deep enough to overflow the stack).
    if (err instanceof PatchError) throw err;
    throw unprocessable(`unable to apply patch: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function dispatch(kind: string, current: unknown, patch: unknown, type: PatchKind, opts: PatchOptions): unknown {
  switch (type) {
    case "merge":
      if (!isObject(patch)) {
        throw badRequest(`json: cannot unmarshal ${jsonType(patch)} into Go value of type map[string]interface {}`);
      }
      return jsonMergePatch(cloneJson(current), cloneJson(patch));
    case "json":
      return applyJsonPatch(current, patch);
    case "strategic":
      return strategicMergePatch(current, patch, shapeFor(kind));
    case "apply":
      return applyServerSide(kind, current, patch, opts);
    default:
      throw badRequest(`unsupported patch type: ${String(type)}`);
  }
}
