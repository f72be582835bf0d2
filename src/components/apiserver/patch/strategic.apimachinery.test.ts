// Cases ported from apimachinery's strategicpatch/patch_test.go (the custom and raw
// test cases: live object + patch -> result), run against the same test type,
// MergeItem, described as a Shape. Each YAML document is one case.
import { describe, expect, test } from "bun:test";
import { parse } from "yaml";
import { PatchError } from "./errors.ts";
import type { Shape } from "./schema.ts";
import { strategicMergePatch } from "./strategic.ts";

// type MergeItem struct: mergingList (merge, key name), nonMergingList, mergingIntList (merge),
// nonMergingIntList, mergeItemPtr (merge, key name), simpleMap, retainKeysMap, retainKeysMergingList.
const mergeItem: Shape = { fields: {} };
Object.assign(mergeItem.fields!, {
  mergingList: { merge: { key: "name" }, fields: mergeItem.fields },
  nonMergingList: { fields: mergeItem.fields },
  mergingIntList: { merge: {} },
  mergeItemPtr: { merge: { key: "name" }, fields: mergeItem.fields },
  retainKeysMap: {
    fields: { mergingIntList: { merge: {} }, mergingList: { merge: { key: "name" }, fields: mergeItem.fields } },
  },
  retainKeysMergingList: { merge: { key: "name" }, fields: mergeItem.fields },
});

interface Case {
  description: string;
  current: Record<string, unknown> | null;
  patch: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: string;
}

const cases = `
description: unique scalars when merging lists
current: {mergingIntList: [1, 2]}
patch: {mergingIntList: [2, 3]}
result: {mergingIntList: [1, 2, 3]}
---
description: delete map from nested map
current: {simpleMap: {key1: 1, key2: 1}}
patch: {simpleMap: {$patch: delete}}
result: {simpleMap: {}}
---
description: delete all items from merging list
current: {mergingList: [{name: 1}, {name: 2}]}
patch: {mergingList: [{$patch: replace}]}
result: {mergingList: []}
---
description: merge empty merging lists
current: {mergingList: []}
patch: {mergingList: []}
result: {mergingList: []}
---
description: delete all keys from map
current: {name: 1, value: 1}
patch: {$patch: replace}
result: {}
---
description: add key and delete all keys from map
current: {name: 1, value: 1}
patch: {other: a, $patch: replace}
result: {other: a}
---
description: delete all duplicate entries in a merging list
current: {mergingList: [{name: 1}, {name: 1}, {name: 2, value: a}, {name: 3}, {name: 3}]}
patch: {mergingList: [{name: 1, $patch: delete}, {name: 3, $patch: delete}]}
result: {mergingList: [{name: 2, value: a}]}
---
description: retainKeys map can add a field when no retainKeys directive present
current: {retainKeysMap: {name: foo}}
patch: {retainKeysMap: {value: bar}}
result: {retainKeysMap: {name: foo, value: bar}}
---
description: retainKeys map can delete a field when no retainKeys directive present
current: {retainKeysMap: {name: foo, value: a}}
patch: {retainKeysMap: {value: null}}
result: {retainKeysMap: {name: foo}}
---
description: retainKeys map merge an empty map
current: {retainKeysMap: {name: foo, value: a}}
patch: {retainKeysMap: {}}
result: {retainKeysMap: {name: foo, value: a}}
---
description: retainKeys list can change a field when no retainKeys directive present
current: {retainKeysMergingList: [{name: bar}, {name: foo, value: a}]}
patch: {retainKeysMergingList: [{name: foo, value: b}]}
result: {retainKeysMergingList: [{name: bar}, {name: foo, value: b}]}
---
description: preserve the order from the patch in a merging list
current: {mergingList: [{name: 1}, {name: 2, value: b}, {name: 3}]}
patch: {mergingList: [{name: 3, value: c}, {name: 1, value: a}, {name: 2, other: x}]}
result: {mergingList: [{name: 3, value: c}, {name: 1, value: a}, {name: 2, value: b, other: x}]}
---
description: preserve the order from the patch in a merging list 2
current: {mergingList: [{name: 1}, {name: 2, value: b}, {name: 3}]}
patch: {mergingList: [{name: 3, value: c}, {name: 1, value: a}]}
result: {mergingList: [{name: 2, value: b}, {name: 3, value: c}, {name: 1, value: a}]}
---
description: preserve the order from the patch in a merging int list
current: {mergingIntList: [1, 2, 3]}
patch: {mergingIntList: [3, 1, 2]}
result: {mergingIntList: [3, 1, 2]}
---
description: preserve the order from the patch in a merging int list 2
current: {mergingIntList: [1, 2, 3]}
patch: {mergingIntList: [3, 1]}
result: {mergingIntList: [2, 3, 1]}
---
description: $setElementOrder contains item that is not present in the list to be merged
current: {mergingList: [{name: 1}, {name: 3}]}
patch:
  $setElementOrder/mergingList: [{name: 3}, {name: 2}, {name: 1}]
  mergingList: [{name: 3, value: 3}, {name: 1, value: 1}]
result: {mergingList: [{name: 3, value: 3}, {name: 1, value: 1}]}
---
description: $setElementOrder contains item that is not present in the int list to be merged
current: {mergingIntList: [1, 3]}
patch: {$setElementOrder/mergingIntList: [3, 2, 1]}
result: {mergingIntList: [3, 1]}
---
description: should check if order in $setElementOrder and patch list match
current: {mergingList: [{name: 1}, {name: 3}, {name: 2}]}
patch:
  $setElementOrder/mergingList: [{name: 1}, {name: 2}, {name: 3}]
  mergingList: [{name: 3, value: 3}, {name: 1, value: 1}]
error: doesn't match
---
description: should check if order in $setElementOrder and patch int list match
current: {mergingIntList: [1, 3, 2]}
patch: {$setElementOrder/mergingIntList: [1, 2, 3], mergingIntList: [3, 1]}
error: doesn't match
---
description: missing merge key should error out
current: {mergingList: [{name: 1, value: a}]}
patch: {mergingList: [{value: b}]}
error: does not contain declared merge key
---
description: $deleteFromPrimitiveList of nonexistent item in primitive list should not add the item to the list
current: {mergingIntList: [1, 2]}
patch: {$deleteFromPrimitiveList/mergingIntList: [3]}
result: {mergingIntList: [1, 2]}
---
description: $deleteFromPrimitiveList on empty primitive list should not add the item to the list
current: {mergingIntList: null}
patch: {$deleteFromPrimitiveList/mergingIntList: [3]}
result: {mergingIntList: null}
---
description: $deleteFromPrimitiveList on nonexistent primitive list should not add the primitive list
current: {foo: [bar]}
patch: {$deleteFromPrimitiveList/mergingIntList: [3]}
result: {foo: [bar]}
---
description: $deleteFromPrimitiveList should delete item from a list without merge patch strategy
current: {nonMergingIntList: [1, 2, 3]}
patch: {$deleteFromPrimitiveList/nonMergingIntList: [2]}
result: {nonMergingIntList: [1, 3]}
---
description: nil original
current: {name: 1, other: a}
patch: {value: 1}
result: {name: 1, value: 1, other: a}
---
description: add field and delete field from map with conflict
current: {name: a, other: a}
patch: {name: null, value: 1}
result: {value: 1, other: a}
---
description: delete field from nested map with conflict
current: {simpleMap: {key1: a, key2: 1, other: a}}
patch: {simpleMap: {key1: 1, key2: null}}
result: {simpleMap: {key1: 1, other: a}}
---
description: replace list of scalars with conflict
current: {nonMergingIntList: [1, 4]}
patch: {nonMergingIntList: [2, 3]}
result: {nonMergingIntList: [2, 3]}
---
description: delete all maps from merging list with conflict
current: {mergingList: [{name: 1, other: a}, {name: 2, other: b}]}
patch: {mergingList: [{name: 1, $patch: delete}, {name: 2, $patch: delete}]}
result: {mergingList: []}
---
description: delete all maps from empty merging list
current: {mergingList: []}
patch: {mergingList: [{name: 1, $patch: delete}, {name: 2, $patch: delete}]}
result: {mergingList: []}
---
description: defined null values should propagate overwrite current fields (with conflict)
current: {name: a, other: a}
patch: {name: 1, value: 1, other: null}
result: {name: 1, value: 1}
---
description: nested patch merge with empty list
current: {name: hi, mergingList: [{name: hello2}]}
patch:
  $setElementOrder/mergingList: [{name: hello}, {name: doesntexist}]
  mergingList: [{name: hello}, {$patch: delete, name: doesntexist}]
result: {name: hi, mergingList: [{name: hello}, {name: hello2}]}
---
description: nested patch merge with empty list (two-way, no live list)
current: {name: hi}
patch: {mergingList: [{name: hello}, {$patch: delete, name: doesntexist}]}
result: {name: hi, mergingList: [{name: hello}]}
---
description: delete items in lists of scalars
current: {mergingIntList: [1, 2, 3, 4]}
patch: {$setElementOrder/mergingIntList: [1, 2], $deleteFromPrimitiveList/mergingIntList: [3]}
result: {mergingIntList: [1, 2, 4]}
---
description: delete all duplicate items in lists of scalars
current: {mergingIntList: [1, 2, 3, 3, 4]}
patch: {$setElementOrder/mergingIntList: [1, 2], $deleteFromPrimitiveList/mergingIntList: [3]}
result: {mergingIntList: [1, 2, 4]}
---
description: add and delete items in lists of scalars
current: {mergingIntList: [1, 2, 3]}
patch: {$setElementOrder/mergingIntList: [1, 2, 4], $deleteFromPrimitiveList/mergingIntList: [3], mergingIntList: [4]}
result: {mergingIntList: [1, 2, 4]}
---
description: merge lists of maps
current: {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}]}
patch:
  $setElementOrder/mergingList: [{name: 4}, {name: 1}, {name: 2}, {name: 3}]
  mergingList: [{name: 4, value: 4}, {name: 3, value: 3}]
result: {mergingList: [{name: 4, value: 4}, {name: 1, other: a}, {name: 2, value: 2, other: b}, {name: 3, value: 3}]}
---
description: merge lists of maps with conflict
current: {mergingList: [{name: 1, other: a}, {name: 2, value: 3, other: b}]}
patch:
  $setElementOrder/mergingList: [{name: 1}, {name: 2}, {name: 3}]
  mergingList: [{name: 2, value: 2}, {name: 3, value: 3}]
result: {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}, {name: 3, value: 3}]}
---
description: add field to map in merging list with conflict
current: {mergingList: [{name: 1, other: a}, {name: 3, value: 2, other: b}]}
patch:
  $setElementOrder/mergingList: [{name: 1}, {name: 2}]
  mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]
result: {mergingList: [{name: 1, value: 1, other: a}, {name: 2, value: 2}, {name: 3, value: 2, other: b}]}
---
description: delete missing map from merging list with conflict
current: {mergingList: [{name: 3, other: a}]}
patch:
  $setElementOrder/mergingList: [{name: 2}]
  mergingList: [{name: 2}, {name: 1, $patch: delete}]
result: {mergingList: [{name: 2}, {name: 3, other: a}]}
---
description: add map and delete map from merging list
current: {mergingList: [{name: 1}, {name: 2, other: b}, {name: 4, other: c}]}
patch:
  $setElementOrder/mergingList: [{name: 2}, {name: 3}]
  mergingList: [{name: 3}, {name: 1, $patch: delete}]
result: {mergingList: [{name: 2, other: b}, {name: 4, other: c}, {name: 3}]}
---
description: add map and delete map from merging list with conflict
current: {mergingList: [{name: 1, other: a}, {name: 4, other: c}]}
patch:
  $setElementOrder/mergingList: [{name: 2}, {name: 3}]
  mergingList: [{name: 2}, {name: 3}, {name: 1, $patch: delete}]
result: {mergingList: [{name: 4, other: c}, {name: 2}, {name: 3}]}
---
description: delete field from map in merging list with conflict
current: {mergingList: [{name: 1, value: a, other: a}, {name: 2, value: 2}]}
patch:
  $setElementOrder/mergingList: [{name: 1}, {name: 2}]
  mergingList: [{name: 1, value: null}]
result: {mergingList: [{name: 1, other: a}, {name: 2, value: 2}]}
---
description: replace non merging list nested in merging list with value conflict
current: {mergingList: [{name: 1, other: a, nonMergingList: [{name: 1, value: c}]}, {name: 2, other: b}]}
patch:
  $setElementOrder/mergingList: [{name: 1}, {name: 2}]
  mergingList: [{name: 1, nonMergingList: [{name: 1, value: 1}]}]
result: {mergingList: [{name: 1, other: a, nonMergingList: [{name: 1, value: 1}]}, {name: 2, other: b}]}
---
description: set elements order in a list with server-only items
current: {mergingList: [{name: 1, other: a}, {name: 3, value: 3}, {name: 4, value: 4}, {name: 2, value: 2}, {name: 9}]}
patch: {$setElementOrder/mergingList: [{name: 4}, {name: 2}, {name: 3}, {name: 1}]}
result: {mergingList: [{name: 4, value: 4}, {name: 2, value: 2}, {name: 3, value: 3}, {name: 1, other: a}, {name: 9}]}
---
description: set elements order in a list with server-only items 2
current: {mergingList: [{name: 1, other: a}, {name: 2, value: 2}, {name: 9}, {name: 3, value: 3}, {name: 4, value: 4}]}
patch: {$setElementOrder/mergingList: [{name: 2}, {name: 1}, {name: 4}, {name: 3}]}
result: {mergingList: [{name: 2, value: 2}, {name: 1, other: a}, {name: 9}, {name: 4, value: 4}, {name: 3, value: 3}]}
---
description: set elements order in a list with server-only items 3
current: {mergingList: [{name: 1, other: a}, {name: 2, value: 2}, {name: 7}, {name: 9}, {name: 8}, {name: 3, value: 3}, {name: 4, value: 4}]}
patch: {$setElementOrder/mergingList: [{name: 2}, {name: 1}, {name: 4}, {name: 3}]}
result: {mergingList: [{name: 2, value: 2}, {name: 1, other: a}, {name: 7}, {name: 9}, {name: 8}, {name: 4, value: 4}, {name: 3, value: 3}]}
---
description: add multiple items in a int list and preserve order
current: {mergingIntList: [1, 2]}
patch: {$setElementOrder/mergingIntList: [1, 4, 2, 3], mergingIntList: [4, 3]}
result: {mergingIntList: [1, 4, 2, 3]}
---
description: add and delete an item in a int list and preserve order
current: {mergingIntList: [1, 2, 3]}
patch: {$setElementOrder/mergingIntList: [4, 2, 1], mergingIntList: [4], $deleteFromPrimitiveList/mergingIntList: [3]}
result: {mergingIntList: [4, 2, 1]}
---
description: set elements order in a int list with server-only items 3
current: {mergingIntList: [1, 2, 7, 9, 8, 3, 4]}
patch: {$setElementOrder/mergingIntList: [2, 1, 4, 3]}
result: {mergingIntList: [2, 1, 7, 9, 8, 4, 3]}
---
description: behavior of set element order for a merging list with duplicate
current: {mergingList: [{name: 1}, {name: 2, value: dup1}, {name: 3}, {name: 2, value: dup2}, {name: 4}]}
patch: {$setElementOrder/mergingList: [{name: 2}, {name: 1}, {name: 4}, {name: 3}, {name: 2}]}
result: {mergingList: [{name: 2, value: dup1}, {name: 2, value: dup2}, {name: 1}, {name: 4}, {name: 3}]}
---
description: behavior of set element order for a merging int list with duplicate
current: {mergingIntList: [1, 2, 3, 2, 4]}
patch: {$setElementOrder/mergingIntList: [2, 1, 4, 3, 2]}
result: {mergingIntList: [2, 2, 1, 4, 3]}
---
description: retainKeys map should clear defaulted field
current: {retainKeysMap: {value: foo}}
patch: {retainKeysMap: {$retainKeys: [other], other: bar}}
result: {retainKeysMap: {other: bar}}
---
description: retainKeys map should clear defaulted field with conflict (discriminated union)
current: {retainKeysMap: {name: type1, value: foo}}
patch: {retainKeysMap: {$retainKeys: [name, other], name: type2, other: bar}}
result: {retainKeysMap: {name: type2, other: bar}}
---
description: retainKeys map deletes a field and clears a field
current: {retainKeysMap: {name: foo, value: bar, other: a}}
patch: {retainKeysMap: {$retainKeys: [name], value: null}}
result: {retainKeysMap: {name: foo}}
---
description: retainKeys map clears a field
current: {retainKeysMap: {name: foo, value: bar, other: a}}
patch: {retainKeysMap: {$retainKeys: [name, value]}}
result: {retainKeysMap: {name: foo, value: bar}}
---
description: retainKeys map deletes a field in a nested map
current: {retainKeysMap: {name: foo, value: bar, simpleMap: {key1: a, key2: b, key3: c}}}
patch: {retainKeysMap: {$retainKeys: [name, simpleMap, value], simpleMap: {key2: null}}}
result: {retainKeysMap: {name: foo, value: bar, simpleMap: {key1: a, key3: c}}}
---
description: retainKeys map adds an item and deletes an item in nested merging int list
current: {retainKeysMap: {name: foo, mergingIntList: [1, 2, 3, 4]}}
patch:
  retainKeysMap:
    $retainKeys: [mergingIntList, name]
    mergingIntList: [5]
    $deleteFromPrimitiveList/mergingIntList: [2]
    $setElementOrder/mergingIntList: [1, 3, 5]
result: {retainKeysMap: {name: foo, mergingIntList: [1, 3, 5, 4]}}
---
description: retainKeys map nested merging list with no change
current: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}, {name: c}]}}
patch:
  retainKeysMap:
    $retainKeys: [mergingList, name, value]
    $setElementOrder/mergingList: [{name: a}, {name: b}]
    value: bar
result: {retainKeysMap: {name: foo, value: bar, mergingList: [{name: a}, {name: b}, {name: c}]}}
---
description: retainKeys map adds an item in nested merging list
current: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}, {name: x}]}}
patch:
  retainKeysMap:
    $retainKeys: [mergingList, name]
    $setElementOrder/mergingList: [{name: a}, {name: b}, {name: c}]
    mergingList: [{name: c}]
result: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}, {name: c}, {name: x}]}}
---
description: retainKeys map deletes nested merging list
current: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}]}}
patch: {retainKeysMap: {$retainKeys: [name, value], value: bar, mergingList: null}}
result: {retainKeysMap: {name: foo, value: bar}}
---
description: retainKeys map deletes an item in nested merging list
current: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}, {name: x}]}}
patch:
  retainKeysMap:
    $retainKeys: [mergingList, name]
    $setElementOrder/mergingList: [{name: a}]
    mergingList: [{name: b, $patch: delete}]
result: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: x}]}}
---
description: retainKeys list of maps clears a field with conflict
current: {retainKeysMergingList: [{name: bar}, {name: foo, value: new, other: x}]}
patch:
  $setElementOrder/retainKeysMergingList: [{name: bar}, {name: foo}]
  retainKeysMergingList: [{$retainKeys: [name, value], name: foo, value: modified}]
result: {retainKeysMergingList: [{name: bar}, {name: foo, value: modified}]}
---
description: retainKeys list of maps deletes a field and clear a field
current: {retainKeysMergingList: [{name: bar}, {name: foo, value: a, other: x}]}
patch:
  $setElementOrder/retainKeysMergingList: [{name: bar}, {name: foo}]
  retainKeysMergingList: [{$retainKeys: [name], name: foo, value: null}]
result: {retainKeysMergingList: [{name: bar}, {name: foo}]}
---
description: delete and reorder in one list, reorder in another
current: {mergingList: [{name: a, value: a}, {name: b, value: b}], mergeItemPtr: [{name: c, value: c}, {name: d, value: d}]}
patch:
  $setElementOrder/mergingList: [{name: b}]
  $setElementOrder/mergeItemPtr: [{name: d}, {name: c}]
  mergingList: [{$patch: delete, name: a}]
result: {mergingList: [{name: b, value: b}], mergeItemPtr: [{name: d, value: d}, {name: c, value: c}]}
`
  .split(/^---$/m)
  .map((doc) => parse(doc) as Case);

describe("strategic merge patch: apimachinery's cases", () => {
  for (const tc of cases) {
    test(tc.description, () => {
      const run = () => strategicMergePatch(tc.current ?? {}, tc.patch, mergeItem);
      if (tc.error) {
        expect(run).toThrow(PatchError);
        expect(run).toThrow(tc.error);
      } else {
        expect(run()).toEqual(tc.result!);
      }
    });
  }
});
