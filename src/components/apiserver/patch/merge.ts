// JSON merge patch (RFC 7386): objects merge recursively, null deletes a member,
// anything else (arrays included) replaces the target.
import { isObject, isUnsafeKey, type JsonObject } from "./json.ts";

/** Applies `patch` to `target` and returns the result; neither input is modified. */
export function jsonMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (isUnsafeKey(key)) continue;
    if (value === null) delete result[key];
    else result[key] = jsonMergePatch(result[key], value);
  }
  return result;
}
