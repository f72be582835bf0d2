// Strategic merge patch, ported from apimachinery's pkg/util/strategicpatch (the
// server side: StrategicMergeMapPatch with MergeParallelList and IgnoreUnmatchedNulls).
// Like JSON merge patch, except that lists with a "merge" strategy (see schema.ts) are
// merged by their key (or as sets of primitives), and these directives are honoured:
//   {"$patch": "replace" | "delete"}      in a map: replace it / clear it
//   [{"$patch": "replace"}, ...]           in a merged list: replace the list
//   [{"name": "x", "$patch": "delete"}]    in a merged list: delete that element
//   "$setElementOrder/<list>": [...]        the order of the merged list
//   "$deleteFromPrimitiveList/<list>": [...] remove values from a merged primitive list
//   "$retainKeys": [...]                    drop every other key of the live map
// Where Go copies a patch value into the object untouched (a field absent from the
// live object), we merge it into an empty value instead, so directives never leak
// into stored objects (Go drops them later when decoding into typed structs).
import { badRequest, unprocessable } from "./errors.ts";
import { isObject, isUnsafeKey, jsonType, type JsonObject } from "./json.ts";
import { cloneJson } from "../../../api/clone.ts";
import {
  directiveMarker,
  findByKey,
  noMergeKey,
  normalizeElementOrder,
  partition,
  setElementOrderPrefix,
  validatePatchWithSetOrderList,
} from "./order.ts";
import { elementShape, fieldShape, type Shape } from "./schema.ts";

const retainKeysDirective = "$retainKeys";
const deleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList";

/** Applies a strategic merge patch to `current` (a whole object of the given shape); inputs are untouched. */
export function strategicMergePatch(current: unknown, patch: unknown, shape: Shape | undefined): JsonObject {
  if (!isObject(patch)) {
    throw badRequest(`json: cannot unmarshal ${jsonType(patch)} into Go value of type map[string]interface {}`);
  }
  return mergeMap(isObject(current) ? cloneJson(current) : {}, cloneJson(patch), shape);
}

/** Merges `patch` into `original`; both are private copies and may be mutated. */
export function mergeMap(original: JsonObject, patch: JsonObject, shape: Shape | undefined): JsonObject {
  if (Object.hasOwn(patch, directiveMarker)) {
    const directive = patch[directiveMarker];
    if (directive === "replace") {
      delete patch[directiveMarker];
      return mergeMap({}, patch, shape);
    }
    if (directive === "delete") return {};
    throw badRequest(`unknown patch type: ${String(directive)} in map: ${JSON.stringify(patch)}`);
  }
  applyRetainKeys(original, patch);
  mergeOrderedLists(original, patch, shape);

  for (const [patchKey, patchValue] of Object.entries(patch)) {
    if (isUnsafeKey(patchKey)) continue;
    let key = patchKey;
    const isDeleteList = patchKey.startsWith(deleteFromPrimitiveListPrefix);
    if (isDeleteList) key = extractKey(patchKey, deleteFromPrimitiveListPrefix);

    if (patchValue === null) {
      delete original[key];
      continue;
    }
    const field = fieldShape(shape, key);
    if (!Object.hasOwn(original, key) || jsonType(original[key]) !== jsonType(patchValue)) {
      // Deleting from a list that is not there leaves nothing to do.
      if (!isDeleteList) original[key] = fresh(patchValue, field);
      continue;
    }
    const originalValue = original[key];
    if (isObject(originalValue)) {
      original[key] = mergeMap(originalValue, patchValue as JsonObject, field);
    } else if (Array.isArray(originalValue)) {
      const patchList = patchValue as unknown[];
      if (isDeleteList) original[key] = deleteFromSlice(originalValue, patchList);
      else if (field?.merge) original[key] = mergeSlice(originalValue, patchList, field);
      else original[key] = patchList;
    } else {
      original[key] = patchValue;
    }
  }
  return original;
}

/** A patch value for a field the live object lacks: merged into an empty value so directives are applied. */
function fresh(value: unknown, shape: Shape | undefined): unknown {
  if (isObject(value)) return mergeMap({}, value, shape);
  if (Array.isArray(value) && shape?.merge) return mergeSlice([], value, shape);
  return value;
}

/** `$retainKeys`: every key of the live map not listed is dropped; the patch may only set listed keys. */
function applyRetainKeys(original: JsonObject, patch: JsonObject): void {
  if (!Object.hasOwn(patch, retainKeysDirective)) return;
  const list = patch[retainKeysDirective];
  delete patch[retainKeysDirective];
  if (!Array.isArray(list)) throw badRequest("invalid patch format of retainKeys");
  const retained = new Set(list);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || key.startsWith(deleteFromPrimitiveListPrefix) || key.startsWith(setElementOrderPrefix)) {
      continue;
    }
    if (!retained.has(key)) throw badRequest("invalid patch format of retainKeys");
  }
  for (const key of Object.keys(original)) {
    if (!retained.has(key)) delete original[key];
  }
}

/**
 * `$setElementOrder/<list>`: merges the named list (live and patch) now, then orders it:
 * the directive's order first, server-only items keep their relative live order.
 * The merged list is removed from the patch so the main loop does not see it again.
 */
function mergeOrderedLists(original: JsonObject, patch: JsonObject, shape: Shape | undefined): void {
  for (const directiveKey of Object.keys(patch)) {
    if (!directiveKey.startsWith(setElementOrderPrefix)) continue;
    const order = patch[directiveKey];
    delete patch[directiveKey];
    if (!Array.isArray(order)) throw badRequest("invalid patch format of setElementOrder list");
    const key = extractKey(directiveKey, setElementOrderPrefix);
    const field = fieldShape(shape, key);
    // Lists without a merge strategy are replaced whole: order is the patch's own.
    if (!field?.merge) continue;
    const originalList = original[key];
    const patchList = patch[key];
    const foundOriginal = Array.isArray(originalList);
    const foundPatch = Array.isArray(patchList);
    if (!foundOriginal && !foundPatch) continue;
    // A null patch value (delete the list) or a type change is left to the main loop.
    if (Object.hasOwn(patch, key) && !foundPatch) continue;
    const mergeKey = field.merge.key ?? "";
    validatePatchWithSetOrderList(foundPatch ? patchList : [], order, mergeKey);

    let merged: unknown[];
    const live: LiveView = {};
    if (foundOriginal && foundPatch) merged = mergeSlice(originalList, patchList, field, live);
    else if (foundPatch) merged = mergeSlice([], patchList, field);
    else merged = originalList as unknown[];
    delete patch[key];
    if (merged.length === 0) {
      original[key] = merged;
      continue;
    }
    const kind = elementKind(foundOriginal ? originalList : [], foundPatch ? patchList : []);
    const [patchItems, serverOnly] = partition(merged, order, mergeKey);
    const serverOrder = live.view ?? (foundOriginal ? (originalList as unknown[]) : []);
    original[key] = normalizeElementOrder(patchItems, serverOnly, order, serverOrder, mergeKey, kind);
  }
}

/**
 * What Go's `$setElementOrder` handling sees as "the live order" after merging a list:
 * Go deletes and appends inside the live slice's backing array, so the live slice it
 * consults afterwards holds the surviving elements followed by the appended ones,
 * cut to the live length. Reproduced so the interleaving of server-only items matches.
 */
interface LiveView {
  view?: unknown[];
}

/** Merges two lists with the "merge" strategy: by key for objects, as a set for primitives. */
function mergeSlice(original: unknown[], patch: unknown[], shape: Shape, live?: LiveView): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = elementKind(original, patch);
  const mergeKey = shape.merge?.key ?? "";
  let merged: unknown[];
  if (kind !== "object") {
    merged = dedupe([...original, ...patch]);
  } else {
    if (!mergeKey) throw unprocessable("cannot merge lists without merge key for type map");
    const liveLength = original.length;
    const directives = applyListDirectives(original, patch, mergeKey, elementShape(shape));
    original = directives.live;
    patch = directives.plain;
    merged = mergeByKey([...original], patch, mergeKey, elementShape(shape));
    if (live) live.view = directives.replaced ? directives.survivors : merged.slice(0, liveLength);
  }
  const [patchItems, serverOnly] = partition(merged, patch, mergeKey);
  return normalizeElementOrder(patchItems, serverOnly, patch, original, mergeKey, kind);
}

interface ListDirectives {
  /** The live list to merge into (the replacement list for `$patch: replace`). */
  live: unknown[];
  /** The patch elements without directives (empty for `$patch: replace`). */
  plain: unknown[];
  /** The live elements left after `$patch: delete` elements. */
  survivors: unknown[];
  replaced: boolean;
}

/** Handles `$patch` elements of a merged list. */
function applyListDirectives(
  original: unknown[],
  patch: unknown[],
  mergeKey: string,
  elem: Shape | undefined,
): ListDirectives {
  const plain: unknown[] = [];
  let replace = false;
  for (const item of patch) {
    const element = item as JsonObject;
    if (!Object.hasOwn(element, directiveMarker)) {
      plain.push(element);
      continue;
    }
    const directive = element[directiveMarker];
    if (directive === "delete") {
      if (!Object.hasOwn(element, mergeKey)) throw noMergeKey(element, mergeKey);
      original = original.filter((o) => !(isObject(o) && o[mergeKey] === element[mergeKey]));
    } else if (directive === "replace") {
      replace = true; // keep scanning to drop any other directive elements
    } else if (directive === "merge") {
      throw unprocessable("merging lists cannot yet be specified in the patch");
    } else {
      throw badRequest(`unknown patch type: ${String(directive)} in map: ${JSON.stringify(element)}`);
    }
  }
  if (replace) {
    const live = plain.map((p) => mergeMap({}, p as JsonObject, elem));
    return { live, plain: [], survivors: original, replaced: true };
  }
  return { live: original, plain, survivors: original, replaced: false };
}

/** Merges each patch element into the live element with the same key, or appends it. */
function mergeByKey(original: unknown[], patch: unknown[], mergeKey: string, elem: Shape | undefined): unknown[] {
  for (const item of patch) {
    const element = item as JsonObject;
    if (!Object.hasOwn(element, mergeKey)) throw noMergeKey(element, mergeKey);
    const at = findByKey(original, mergeKey, element[mergeKey]);
    if (at >= 0) original[at] = mergeMap(original[at] as JsonObject, element, elem);
    else original.push(mergeMap({}, element, elem));
  }
  return original;
}

function deleteFromSlice(current: unknown[], toDelete: unknown[]): unknown[] {
  const doomed = new Set(toDelete);
  return current.filter((v) => !doomed.has(v));
}

function dedupe(list: unknown[]): unknown[] {
  return [...new Set(list)];
}

/** The common element type of the lists ("object", "string", ...); lists of lists and mixed lists are refused. */
function elementKind(...lists: unknown[]): string {
  let kind: string | undefined;
  for (const list of lists) {
    for (const v of list as unknown[]) {
      const t = jsonType(v);
      if (t === "array") throw unprocessable("lists of lists are not supported");
      if (kind === undefined) kind = t;
      else if (kind !== t) throw unprocessable(`list element types are not identical: ${JSON.stringify(lists)}`);
    }
  }
  return kind ?? "null";
}

/** "$setElementOrder/containers" -> "containers". */
function extractKey(key: string, prefix: string): string {
  const slash = key.indexOf("/");
  if (slash < 0 || key.slice(0, slash) !== prefix) {
    throw badRequest(
      prefix === deleteFromPrimitiveListPrefix
        ? "invalid patch format of primitive list"
        : "invalid patch format of setElementOrder list",
    );
  }
  return key.slice(slash + 1);
}
