// Deletion as Kubernetes does it: preconditions, graceful deletion for pods bound to a node
// (the kubelet finishes it), finalizers (incl. orphan/foreground propagation) and namespaces
// that terminate before they go.
import { rfc3339 } from "../../api/time.ts";
import { isConflict } from "../../client/index.ts";
import type { DeleteOptions as MetaDeleteOptions, KindDef, KubeObject } from "../../api/types.ts";
import { conflict, HttpError, qualified } from "./errors.ts";
import type { Objects } from "./objects.ts";
import { cloneJson } from "../../api/clone.ts";

/** metav1.DeleteOptions as the handler has read it: dryRun=All becomes a flag. */
export type DeleteOptions = MetaDeleteOptions & { dryRun?: boolean };

export interface DeleteResult {
  obj: KubeObject;
  /** false when the object still exists (graceful deletion or finalizers pending). */
  gone: boolean;
}

export async function deleteObject(
  objects: Objects,
  kind: KindDef,
  ns: string | undefined,
  name: string,
  opts: DeleteOptions,
): Promise<DeleteResult> {
  const refused = kind.hooks?.deletionForbidden?.(name);
  if (refused)
    throw new HttpError(
      403,
      "Forbidden",
      `${qualified(kind.resource, kind.group)} "${name}" is forbidden: ${refused}`,
      {
        name,
        group: kind.group,
        kind: kind.resource,
      },
    );
  for (let attempt = 0; ; attempt++) {
    const current = await objects.get(kind, ns, name);
    const obj = current.obj;
    const meta = obj.metadata!;
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== meta.uid)
      throw conflict(
        kind.resource,
        kind.group,
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${meta.uid}`,
      );
    if (pre?.resourceVersion && pre.resourceVersion !== meta.resourceVersion)
      throw conflict(
        kind.resource,
        kind.group,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion}`,
      );

    const next = cloneJson(obj);
    const nm = next.metadata!;
    const finalizers = new Set(nm.finalizers ?? []);
    if (opts.propagationPolicy === "Orphan") finalizers.add("orphan");
    if (opts.propagationPolicy === "Foreground") finalizers.add("foregroundDeletion");
    const grace = kind.hooks?.deletionGrace?.(next, opts.gracePeriodSeconds) ?? 0;
    const keep = finalizers.size > 0 || grace > 0 || !!kind.hooks?.holdsDeletion?.(next);
    if (!keep) {
      if (opts.dryRun) return { obj, gone: true };
      try {
        return { obj: await objects.remove(kind, ns, name, current.kv.modRevision), gone: true };
      } catch (err) {
        // Written meanwhile (a controller's status update): decide again on the fresh object.
        if (attempt < 20 && isConflict(err) && !pre?.resourceVersion) continue;
        throw err;
      }
    }
    nm.finalizers = finalizers.size ? [...finalizers] : undefined;
    if (!nm.finalizers) delete nm.finalizers;
    const now = Date.now();
    if (!nm.deletionTimestamp || (grace > 0 && grace < (nm.deletionGracePeriodSeconds ?? Infinity))) {
      nm.deletionTimestamp = rfc3339(now + grace * 1000);
      nm.deletionGracePeriodSeconds = grace;
    }
    kind.hooks?.onDeleting?.(next);
    if (JSON.stringify(next) === JSON.stringify(obj) || opts.dryRun) return { obj: next, gone: false };
    try {
      return { obj: await objects.writeRaw(kind, ns, name, next, current), gone: false };
    } catch (err) {
      if (isConflict(err) && attempt < 20) continue;
      throw err;
    }
  }
}
