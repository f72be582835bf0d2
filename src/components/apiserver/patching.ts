// PATCH for the main resource and its subresources: read, apply the patch (merge, JSON,
// strategic, server-side apply), write through the normal update path; a concurrent write
// makes it retry on the fresh object, as Kubernetes' patcher does.
import { isConflict } from "../../client/index.ts";
import type { KindDef, KubeObject } from "../../api/types.ts";
import { applyPatch, parsePatchBody, patchTypeFromContentType, PatchError } from "./patch/index.ts";
import { HttpError, notFound } from "./errors.ts";
import { checkDepth } from "./body.ts";
import type { Objects, Stored } from "./objects.ts";

export interface PatchRequest {
  kind: KindDef;
  namespace?: string;
  name: string;
  contentType: string;
  text: string;
  fieldManager?: string;
  force?: boolean;
  dryRun?: boolean;
}

export function patchKind(contentType: string) {
  const type = patchTypeFromContentType(contentType);
  if (!type)
    throw new HttpError(
      415,
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
    );
  return type;
}

function runPatch(
  kindName: string,
  current: unknown,
  patch: unknown,
  type: ReturnType<typeof patchKind>,
  req: PatchRequest,
): KubeObject {
  try {
    const out = applyPatch(kindName, current, patch, type, { fieldManager: req.fieldManager, force: req.force });
    if (!out || typeof out !== "object" || Array.isArray(out))
      throw new HttpError(422, "Invalid", "the patch did not produce an object");
    return out as KubeObject;
  } catch (err) {
    if (err instanceof PatchError)
      throw new HttpError(
        err.code,
        ({ 400: "BadRequest", 409: "Conflict", 413: "RequestEntityTooLarge", 422: "Invalid" } as const)[err.code],
        err.message,
      );
    // A patch whose shape the engines did not foresee (a list where a map was, nesting that
    // exhausts the stack) cannot be applied: the client's input, never a server error.
    if (err instanceof TypeError || err instanceof RangeError)
      throw new HttpError(422, "Invalid", `the patch could not be applied: ${err.message}`);
    throw err;
  }
}

function parseBody(type: ReturnType<typeof patchKind>, text: string): unknown {
  let patch: unknown;
  try {
    patch = parsePatchBody(type, text);
  } catch (err) {
    throw new HttpError(400, "BadRequest", err instanceof Error ? err.message : "invalid patch body");
  }
  checkDepth(patch);
  return patch;
}

/**
 * Patches through a view of the object (the object itself, or e.g. its Scale) and writes the
 * result back with `write`, retrying on conflicts when the patch did not pin a resourceVersion.
 */
export async function patchVia(
  objects: Objects,
  req: PatchRequest,
  view: (s: Stored) => KubeObject,
  write: (patched: KubeObject, current: Stored) => Promise<KubeObject>,
  create?: (obj: KubeObject) => Promise<KubeObject>,
): Promise<{ obj: KubeObject; created: boolean }> {
  const type = patchKind(req.contentType);
  if (type === "strategic" && req.kind.custom)
    throw new HttpError(
      415,
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
    );
  const patch = parseBody(type, req.text);
  for (let attempt = 0; ; attempt++) {
    const current = await objects.tryGet(req.kind, req.namespace, req.name);
    if (!current) {
      if (type === "apply" && create) {
        const obj = runPatch(req.kind.kind, undefined, patch, type, req);
        obj.metadata = { ...obj.metadata, name: req.name };
        return { obj: await create(obj), created: true };
      }
      throw notFound(req.kind.resource, req.kind.group, req.name);
    }
    const base = view(current);
    const patched = runPatch(req.kind.kind, base, patch, type, req);
    const pinned = patched.metadata?.resourceVersion !== base.metadata?.resourceVersion;
    if (!pinned) patched.metadata = { ...patched.metadata, resourceVersion: base.metadata?.resourceVersion };
    try {
      return { obj: await write(patched, current), created: false };
    } catch (err) {
      // Like the real API server, a patch that did not pin a resourceVersion is retried on the fresh object.
      if (!pinned && attempt < 50 && isConflict(err)) continue;
      throw err;
    }
  }
}
