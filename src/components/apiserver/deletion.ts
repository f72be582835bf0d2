// Deletion as Kubernetes does it: preconditions, graceful deletion for pods bound to a node
// (the kubelet finishes it), finalizers (incl. orphan/foreground propagation) and namespaces
// that terminate before they go.
import { rfc3339 } from "../../api/time.ts";
import { isConflict } from "../../client/index.ts";
import type { DeleteOptions as MetaDeleteOptions, KindDef, KubeObject } from "../../api/types.ts";
import { conflict, HttpError } from "./errors.ts";
import type { Objects } from "./objects.ts";
import { encode, decode } from "./codec.ts";
import { objectKey } from "./paths.ts";
import { ConflictError } from "../../store/types.ts";

/** metav1.DeleteOptions as the handler has read it: dryRun=All becomes a flag. */
export type DeleteOptions = MetaDeleteOptions & { dryRun?: boolean };

export interface DeleteResult {
  obj: KubeObject;
  /** false when the object still exists (graceful deletion or finalizers pending). */
  gone: boolean;
}

/** Namespaces the NamespaceLifecycle admission plugin never lets go (kube-node-lease is not one). */
const IMMORTAL_NAMESPACES = new Set(["default", "kube-system", "kube-public"]);

export async function deleteObject(
  objects: Objects,
  kind: KindDef,
  ns: string | undefined,
  name: string,
  opts: DeleteOptions,
): Promise<DeleteResult> {
  if (kind.group === "" && kind.kind === "Namespace" && IMMORTAL_NAMESPACES.has(name))
    throw new HttpError(403, "Forbidden", `namespaces "${name}" is forbidden: this namespace may not be deleted`, {
      name,
      kind: "namespaces",
    });
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

    const next = structuredClone(obj);
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
      const kv = await objects.store.update(objectKey(kind, ns, name), encode(next), current.kv.modRevision);
      const written = decode(kv);
      await kind.hooks?.afterWrite?.(written, obj);
      return { obj: written, gone: false };
    } catch (err) {
      if (err instanceof ConflictError && attempt < 20) continue;
      throw err;
    }
  }
}
