// List ordering for strategic merge patch, as apimachinery does it: the patch's (or
// $setElementOrder's) order wins for the items it names, and server-only items keep
// their place relative to the live list. Also the merge-key helpers shared with strategic.ts.
import { type PatchError, badRequest, unprocessable } from "./errors.ts";
import { isObject, jsonType } from "./json.ts";

export const directiveMarker = "$patch";
export const setElementOrderPrefix = "$setElementOrder";

export function findByKey(list: unknown[], mergeKey: string, value: unknown): number {
  return list.findIndex((o) => isObject(o) && Object.hasOwn(o, mergeKey) && o[mergeKey] === value);
}

/** The identity of an element for ordering: its merge key value, or the value itself. */
function identity(item: unknown, mergeKey: string, kind: string): unknown {
  return kind === "object" ? (isObject(item) ? item[mergeKey] : undefined) : item;
}

function indexIn(list: unknown[], item: unknown, mergeKey: string, kind: string): number {
  const id = identity(item, mergeKey, kind);
  return list.findIndex((v) => identity(v, mergeKey, kind) === id);
}

/** Splits merged items into those named in `by` and the server-only rest. */
export function partition(merged: unknown[], by: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const inPatch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const item of merged) {
    let found: boolean;
    if (mergeKey) {
      if (!isObject(item) || !Object.hasOwn(item, mergeKey)) throw noMergeKey(item, mergeKey);
      found = findByKey(by, mergeKey, item[mergeKey]) >= 0;
    } else {
      found = by.includes(item);
    }
    (found ? inPatch : serverOnly).push(item);
  }
  return [inPatch, serverOnly];
}

/**
 * Orders patch items by `patchOrder` and server-only items by `serverOrder`, then
 * interleaves them: a server-only item goes before a patch item when it came first in
 * the live list. So the patch's order wins, and server-only items keep their place.
 */
export function normalizeElementOrder(
  patchItems: unknown[],
  serverOnly: unknown[],
  patchOrder: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
  kind: string,
): unknown[] {
  if (kind === "object") {
    for (const list of [patchItems, serverOnly, patchOrder]) {
      for (const item of list) {
        if (!isObject(item) || !Object.hasOwn(item, mergeKey)) throw noMergeKey(item, mergeKey);
      }
    }
  }
  const left = sortByOrder(serverOnly, serverOrder, mergeKey, kind);
  const right = sortByOrder(patchItems, patchOrder, mergeKey, kind);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (j >= right.length) out.push(left[i++]);
    else if (i >= left.length) out.push(right[j++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey, kind);
      const ri = indexIn(serverOrder, right[j], mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

function sortByOrder(items: unknown[], order: unknown[], mergeKey: string, kind: string): unknown[] {
  const rank = (item: unknown): number => {
    const i = indexIn(order, item, mergeKey, kind);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return items
    .map((item, position) => ({ item, position, rank: rank(item) }))
    .sort((a, b) => a.rank - b.rank || a.position - b.position)
    .map((x) => x.item);
}

/**
 * The patch list's items (directive elements aside) must appear in `$setElementOrder`,
 * in the same relative order.
 */
export function validatePatchWithSetOrderList(patchList: unknown[], order: unknown[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  const items = mergeKey
    ? patchList.filter((item) => {
        if (!isObject(item)) throw unprocessable(`expected a map, but received a ${jsonType(item)}`);
        return item[directiveMarker] !== "delete";
      })
    : patchList;
  let p = 0;
  let s = 0;
  while (p < items.length && s < order.length) {
    const item = items[p];
    if (isObject(item) && Object.hasOwn(item, directiveMarker)) {
      p++;
      continue;
    }
    if (keyValueEqual(item, order[s], mergeKey)) p++;
    s++;
  }
  if (p < items.length) {
    throw badRequest(
      `The order in patch list: ${JSON.stringify(patchList)} doesn't match ${setElementOrderPrefix} list: ${JSON.stringify(order)}`,
    );
  }
}

function keyValueEqual(left: unknown, right: unknown, mergeKey: string): boolean {
  if (!mergeKey) return left === right;
  if (!isObject(left) || !Object.hasOwn(left, mergeKey)) throw noMergeKey(left, mergeKey);
  if (!isObject(right) || !Object.hasOwn(right, mergeKey)) throw noMergeKey(right, mergeKey);
  return left[mergeKey] === right[mergeKey];
}

export function noMergeKey(item: unknown, mergeKey: string): PatchError {
  return unprocessable(`map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`);
}
