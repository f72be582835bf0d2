// The garbage collector: dependents whose owners are gone are deleted (background cascading),
// `orphan` owners release their dependents first, `foregroundDeletion` owners wait until their
// dependents are gone. Ownership is read from metadata.ownerReferences across the kinds here.
import type { KubeObject } from "../../../api/types.ts";
import { isNotFound, keyOf, splitKey, type Informer } from "../../../client/index.ts";
import { Controller } from "../base.ts";
import { resolveKind } from "../../../api/registry.ts";

/** Kinds that own others, and kinds that are owned, in this cluster. */
const OWNERS = ["deployments", "replicasets", "replicationcontrollers", "daemonsets", "statefulsets", "jobs"];
const DEPENDENTS = ["pods", "replicasets"];

const ownerUids = (o: KubeObject) => (o.metadata?.ownerReferences ?? []).map((r) => r.uid);

export class GarbageCollector extends Controller {
  readonly name = "garbage-collector";
  private owners = new Map<string, Informer<KubeObject>>();
  private dependents = new Map<string, Informer<KubeObject>>();

  setup(): void {
    for (const r of OWNERS) {
      const inf = this.ctx.informers.get(r);
      inf.addIndexer("uid", (o) => [o.metadata?.uid ?? ""]);
      this.owners.set(r, inf);
      inf.on({
        update: (_, o) => {
          if (o.metadata?.deletionTimestamp) this.queue.add(`owner|${r}|${keyOf(o)}`);
        },
        delete: (o) => this.queue.add(`gone|${o.metadata!.uid}`),
      });
    }
    for (const r of DEPENDENTS) {
      const inf = this.ctx.informers.get(r);
      inf.addIndexer("owner", ownerUids);
      this.dependents.set(r, inf);
      inf.on({ add: (o) => this.checkDependent(r, o), update: (_, o) => this.checkDependent(r, o) });
    }
  }

  private checkDependent(resource: string, o: KubeObject): void {
    if (!o.metadata?.ownerReferences?.length || o.metadata.deletionTimestamp) return;
    if (o.metadata.ownerReferences.some((ref) => !this.ownerExists(ref.uid)))
      this.queue.add(`dep|${resource}|${keyOf(o)}`);
  }

  private ownerExists(uid: string): boolean {
    for (const inf of this.owners.values()) if (inf.byIndex("uid", uid).length) return true;
    return false;
  }

  private dependentsOf(uid: string): { resource: string; obj: KubeObject }[] {
    const out: { resource: string; obj: KubeObject }[] = [];
    for (const [resource, inf] of this.dependents)
      for (const obj of inf.byIndex("owner", uid)) out.push({ resource, obj });
    return out;
  }

  async reconcile(key: string): Promise<void> {
    const [what, a, b] = key.split("|") as [string, string, string | undefined];
    if (what === "gone") {
      for (const d of this.dependentsOf(a)) await this.releaseOrDelete(d.resource, d.obj, a);
    } else if (what === "dep") {
      const obj = this.dependents.get(a)?.get(b!);
      if (!obj) return;
      for (const ref of obj.metadata?.ownerReferences ?? []) {
        if (this.ownerExists(ref.uid)) continue;
        // The cache may lag a just-created owner: ask the API before deleting anything.
        const resource = resolveKind(ref.kind)?.resource;
        if (!resource) continue;
        const live = await this.ctx.client
          .resource(resource, obj.metadata?.namespace)
          .get(ref.name)
          .catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
        if (!live || live.metadata?.uid !== ref.uid) await this.releaseOrDelete(a, obj, ref.uid);
      }
    } else if (what === "owner") {
      await this.ownerBeingDeleted(a, b!);
    }
  }

  /** Deletes a dependent whose only owner is gone; drops the reference when others remain. */
  private async releaseOrDelete(resource: string, obj: KubeObject, goneUid: string): Promise<void> {
    const { namespace, name } = splitKey(keyOf(obj));
    const rc = this.ctx.client.resource(resource, namespace);
    const others = (obj.metadata?.ownerReferences ?? []).filter((r) => r.uid !== goneUid && this.ownerExists(r.uid));
    if (others.length) {
      await rc
        .patch(name, { metadata: { ownerReferences: others, resourceVersion: obj.metadata?.resourceVersion } }, "merge")
        .catch(ignoreGone);
      return;
    }
    await rc
      .delete(name, { propagationPolicy: "Background", preconditions: { uid: obj.metadata!.uid } })
      .catch(ignoreGone);
  }

  private async ownerBeingDeleted(resource: string, key: string): Promise<void> {
    const owner = this.owners.get(resource)?.get(key);
    if (!owner?.metadata?.deletionTimestamp) return;
    const finalizers = owner.metadata.finalizers ?? [];
    const uid = owner.metadata.uid!;
    const deps = this.dependentsOf(uid);
    if (finalizers.includes("orphan")) {
      for (const d of deps) {
        const { namespace, name } = splitKey(keyOf(d.obj));
        const refs = (d.obj.metadata?.ownerReferences ?? []).filter((r) => r.uid !== uid);
        await this.ctx.client
          .resource(d.resource, namespace)
          .patch(
            name,
            {
              metadata: {
                ownerReferences: refs.length ? refs : null,
                resourceVersion: d.obj.metadata?.resourceVersion,
              },
            },
            "merge",
          )
          .catch(ignoreGone);
      }
      return this.removeFinalizer(resource, owner, "orphan");
    }
    if (finalizers.includes("foregroundDeletion")) {
      if (deps.length) {
        for (const d of deps)
          if (!d.obj.metadata?.deletionTimestamp) await this.releaseOrDelete(d.resource, d.obj, uid);
        this.queue.addAfter(`owner|${resource}|${key}`, 200); // until the dependents are gone
        return;
      }
      return this.removeFinalizer(resource, owner, "foregroundDeletion");
    }
  }

  private async removeFinalizer(resource: string, owner: KubeObject, finalizer: string): Promise<void> {
    const { namespace, name } = splitKey(keyOf(owner));
    const rest = (owner.metadata?.finalizers ?? []).filter((f) => f !== finalizer);
    await this.ctx.client
      .resource(resource, namespace)
      .patch(
        name,
        { metadata: { finalizers: rest.length ? rest : null, resourceVersion: owner.metadata?.resourceVersion } },
        "merge",
      )
      .catch(ignoreGone);
  }
}

function ignoreGone(err: unknown): void {
  if (!isNotFound(err) && !(err instanceof Error && /Precondition failed|modified/.test(err.message))) throw err;
}
