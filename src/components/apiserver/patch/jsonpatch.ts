// JSON patch (RFC 6902) on top of fast-json-patch, with Kubernetes' error codes:
// a patch that is not a list of operations is a 400; an operation that cannot be
// applied (failed `test`, missing path, unknown `op`) is a 422, as the Go API server
// answers when evanphx/json-patch fails to apply.
import { applyPatch as fastApply, getValueByPointer, JsonPatchError, type Operation } from "fast-json-patch";
import { badRequest, PatchError, unprocessable } from "./errors.ts";
import { isObject } from "./json.ts";
import { cloneJson } from "../../../api/clone.ts";

/** Kubernetes refuses patches with more operations than this (the Go server's limit). */
const maxOperations = 10000;
/** What `copy` operations may add in all (the request body limit), so a small patch cannot grow an object without bound. */
export const maxCopyBytes = 3 * 1024 * 1024;

const INDEX = /^(0|[1-9][0-9]*)$/;

/**
 * Checks a pointer against the document as evanphx/json-patch does before touching it: every
 * array step is a canonical index inside the array ("-" or the length only where `add` appends),
 * so no operation can address element 2^32 of an empty list.
 */
function checkPointer(doc: unknown, pointer: unknown, op: string, adding: boolean): void {
  if (typeof pointer !== "string") throw badRequest(`${op} operation: missing or invalid path`);
  if (pointer === "") return;
  if (!pointer.startsWith("/"))
    throw unprocessable(`${op} operation does not apply: doc is missing path: "${pointer}": missing value`);
  const parts = pointer
    .slice(1)
    .split("/")
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  let cur = doc;
  for (let i = 0; i < parts.length; i++) {
    const last = i === parts.length - 1;
    const part = parts[i]!;
    if (Array.isArray(cur)) {
      if (last && adding && part === "-") return;
      if (!INDEX.test(part))
        throw unprocessable(
          `${op} operation does not apply: doc is missing path: "${pointer}": strconv.Atoi: parsing ${JSON.stringify(part)}: invalid syntax`,
        );
      const n = Number(part);
      if (n > cur.length || (n === cur.length && !(last && adding)))
        throw unprocessable(`Unable to access invalid index: ${n}`);
      cur = cur[n];
    } else if (cur && typeof cur === "object") cur = (cur as Record<string, unknown>)[part];
    else if (!last)
      throw unprocessable(`${op} operation does not apply: doc is missing path: "${pointer}": missing value`);
    else return;
  }
}

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
  let doc = cloneJson(current);
  let copied = 0;
  try {
    for (const op of patch as Operation[]) {
      checkPointer(doc, op.path, String(op.op), op.op === "add" || op.op === "copy" || op.op === "move");
      if (op.op === "copy" || op.op === "move") checkPointer(doc, op.from, String(op.op), false);
      if (op.op === "copy") {
        copied += JSON.stringify(getValueByPointer(doc, op.from) ?? null).length;
        if (copied > maxCopyBytes)
          throw new PatchError(
            413,
            `Request entity too large: Unable to complete the copy, the accumulated size increase of copy is ${copied}, exceeding the limit ${maxCopyBytes}`,
          );
      }
      // Validate each operation (so unknown ops and missing paths fail instead of being
      // ignored), on our copy, and refuse __proto__ paths.
      doc = fastApply(doc, [op], true, true, true).newDocument;
    }
    return doc;
  } catch (err) {
    if (err instanceof PatchError) throw err;
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
