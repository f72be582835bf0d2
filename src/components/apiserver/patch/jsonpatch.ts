// JSON patch (RFC 6902) on top of fast-json-patch, with Kubernetes' error codes:
// a patch that is not a list of operations is a 400; an operation that cannot be
// applied (failed `test`, missing path, unknown `op`) is a 422, as the Go API server
// answers when evanphx/json-patch fails to apply.
import { applyPatch as fastApply, JsonPatchError, type Operation } from "fast-json-patch";
import { badRequest, unprocessable } from "./errors.ts";
import { clone, isObject } from "./json.ts";

/** Kubernetes refuses patches with more operations than this (the Go server's limit). */
const maxOperations = 10000;

export function applyJsonPatch(current: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) {
    throw badRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
  }
  if (patch.length > maxOperations) {
    throw unprocessable(`The allowed maximum operations in a JSON patch is ${maxOperations}, got ${patch.length}`);
  }
  for (const op of patch) {
    if (!isObject(op)) throw badRequest("json: cannot unmarshal a non-object into a JSON patch operation");
  }
  try {
    // Validate each operation (so unknown ops and missing paths fail instead of being
    // ignored), work on a copy, and refuse __proto__ paths.
    return fastApply(clone(current), patch as Operation[], true, true, true).newDocument;
  } catch (err) {
    if (err instanceof JsonPatchError) throw unprocessable(describe(err));
    throw unprocessable(err instanceof Error ? err.message : String(err));
  }
}

function describe(err: JsonPatchError): string {
  const op = err.operation as Partial<Operation> | undefined;
  const path = op?.path ?? "";
  switch (err.name) {
    case "TEST_OPERATION_FAILED":
      return `testing value ${path} failed: test failed`;
    case "OPERATION_PATH_UNRESOLVABLE":
    case "OPERATION_FROM_UNRESOLVABLE":
      return `${op?.op ?? "operation"} operation does not apply: doc is missing path: "${path}": missing value`;
    case "OPERATION_OP_INVALID":
      return `Unexpected kind: ${String(op?.op)}`;
    default:
      return `${err.message} (operation ${err.index ?? 0}: ${op?.op ?? "?"} ${path})`;
  }
}
