// CustomResourceDefinitions at work inside the API server, as apiextensions-apiserver does it:
// names are checked against every kind already served (NamesAccepted), an accepted CRD is
// Established and its served versions join the registry at once (discovery lists them on the
// next request); deleting a CRD deletes its instances first (the
// customresourcecleanup.apiextensions.k8s.io finalizer), then its kinds leave the registry.
// At start the stored CRDs are served again.
import { now } from "../../api/time.ts";
import { ignore, isConflict, isNotFound } from "../../client/index.ts";
import type { KindRegistry } from "../../api/registry.ts";
import type { KindDef, KindHooks, KubeObject } from "../../api/types.ts";
import { customResourceKinds } from "../../api/crd/kinds.ts";
import type { CrdCondition, CrdSpec, CrdStatus } from "../../api/crd/types.ts";
import type { Store } from "../../store/types.ts";
import { decode } from "./codec.ts";
import { deleteObject } from "./deletion.ts";
import { forbidden, invalid } from "./errors.ts";
import type { Objects } from "./objects.ts";
import { kindPrefix } from "./paths.ts";
import { cloneJson } from "../../api/clone.ts";

export const CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io";

export interface CrdDeps {
  store: Store;
  objects: Objects;
  registry: KindRegistry;
  crdKind: KindDef;
}

const specOf = (crd: KubeObject) => crd.spec as CrdSpec;

export class CustomResources {
  /** CRD name -> the kinds it serves now. */
  private served = new Map<string, KindDef[]>();
  private terminating = new Set<string>();

  constructor(private readonly deps: CrdDeps) {}

  /** The hooks of the CustomResourceDefinition kind. */
  hooks(): KindHooks {
    return {
      admit: async (crd, old) => this.admit(crd, old),
      afterWrite: async (crd, old) => this.afterWrite(crd, old),
    };
  }

  /** Serves the stored CRDs again (at start), resuming deletions that were under way. */
  async load(): Promise<void> {
    const list = await this.deps.store.list(kindPrefix(this.deps.crdKind));
    for (const kv of list.kvs) await this.afterWrite(decode(kv), undefined);
  }

  private ownKinds(name: string): Set<KindDef> {
    return new Set(this.served.get(name) ?? []);
  }

  /** The first conflict of the CRD's names with a kind some other definition serves. */
  private conflict(crd: KubeObject): { reason: string; message: string } | undefined {
    const { group, names } = specOf(crd);
    const mine = this.ownKinds(crd.metadata!.name!);
    const others = this.deps.registry.all().filter((k) => k.group === group && !mine.has(k));
    const plural = names.plural;
    const singular = names.singular ?? names.kind.toLowerCase();
    for (const k of others) {
      if (k.resource === plural || k.singular === plural || k.shortNames.includes(plural))
        return { reason: "PluralConflict", message: `"${plural}" is already in use` };
      if (k.resource === singular || k.singular === singular || k.shortNames.includes(singular))
        return { reason: "SingularConflict", message: `"${singular}" is already in use` };
      for (const s of names.shortNames ?? [])
        if (k.resource === s || k.singular === s || k.shortNames.includes(s))
          return { reason: "ShortNamesConflict", message: `"${s}" is already in use` };
      if (k.kind === names.kind || k.listKind === names.kind)
        return { reason: "KindConflict", message: `"${names.kind}" is already in use` };
      const listKind = names.listKind ?? `${names.kind}List`;
      if (k.kind === listKind || k.listKind === listKind)
        return { reason: "ListKindConflict", message: `"${listKind}" is already in use` };
    }
    return undefined;
  }

  private async admit(crd: KubeObject, old: KubeObject | undefined): Promise<void> {
    const spec = specOf(crd);
    if (old) {
      const was = specOf(old);
      const causes = [];
      if (spec.group !== was.group)
        causes.push({
          reason: "FieldValueInvalid",
          field: "spec.group",
          message: `Invalid value: ${JSON.stringify(spec.group)}: field is immutable`,
        });
      if (spec.scope !== was.scope)
        causes.push({
          reason: "FieldValueInvalid",
          field: "spec.scope",
          message: `Invalid value: ${JSON.stringify(spec.scope)}: field is immutable`,
        });
      if (causes.length) throw invalid("CustomResourceDefinition", "apiextensions.k8s.io", crd.metadata!.name!, causes);
    } else {
      const meta = crd.metadata!;
      meta.finalizers = [...new Set([...(meta.finalizers ?? []), CLEANUP_FINALIZER])];
    }
    const status = (old?.status ?? {}) as CrdStatus;
    const conflict = this.conflict(crd);
    const storage = spec.versions.find((v) => v.storage)!.name;
    const was = new Map((status.conditions ?? []).map((c) => [c.type, c]));
    const cond = (type: string, ok: boolean, reason: string, message: string): CrdCondition => {
      const prev = was.get(type);
      const s = ok ? "True" : "False";
      return {
        type,
        status: s,
        lastTransitionTime: prev?.status === s ? prev.lastTransitionTime : now(),
        reason,
        message,
      };
    };
    const established = was.get("Established")?.status === "True";
    const conditions = [
      conflict
        ? cond("NamesAccepted", false, conflict.reason, conflict.message)
        : cond("NamesAccepted", true, "NoConflicts", "no conflicts found"),
      conflict && !established
        ? cond("Established", false, "NotAccepted", "not all names are accepted")
        : cond("Established", true, "InitialNamesAccepted", "the initial names have been accepted"),
    ];
    if (crd.metadata?.deletionTimestamp)
      conditions.push(
        cond("Terminating", true, "InstanceDeletionInProgress", "CustomResource deletion is in progress"),
      );
    const names = spec.names;
    crd.status = {
      conditions,
      acceptedNames: conflict
        ? (status.acceptedNames ?? { plural: "", kind: "" })
        : {
            plural: names.plural,
            singular: names.singular,
            shortNames: names.shortNames,
            kind: names.kind,
            listKind: names.listKind,
            categories: names.categories,
          },
      storedVersions: [...new Set([...(status.storedVersions ?? []), storage])],
    } satisfies CrdStatus;
  }

  private async afterWrite(crd: KubeObject | undefined, old: KubeObject | undefined): Promise<void> {
    const name = (crd ?? old)?.metadata?.name;
    if (!name) return;
    if (!crd) return this.unserve(name);
    if (crd.metadata?.deletionTimestamp) {
      if (!this.terminating.has(name)) void this.cleanUp(crd).catch(() => this.terminating.delete(name));
      return;
    }
    const accepted = ((crd.status as CrdStatus | undefined)?.conditions ?? []).some(
      (c) => c.type === "Established" && c.status === "True",
    );
    if (accepted) this.serve(name, crd);
  }

  private serve(name: string, crd: KubeObject): void {
    const kinds = customResourceKinds(specOf(crd), Number(crd.metadata?.resourceVersion ?? Infinity)).map((k) =>
      this.withAdmission(name, k),
    );
    const keep = new Set(kinds.map((k) => k.version));
    for (const k of this.served.get(name) ?? []) if (!keep.has(k.version)) this.deps.registry.remove(k);
    for (const k of kinds) this.deps.registry.add(k);
    this.served.set(name, kinds);
  }

  private unserve(name: string): void {
    const group = this.served.get(name)?.[0]?.group;
    for (const k of this.served.get(name) ?? []) this.deps.registry.remove(k);
    this.served.delete(name);
    this.terminating.delete(name);
    if (group !== undefined) void this.recheckNames(group).catch(() => undefined);
  }

  /**
   * Names freed by a CRD that went away may be what another CRD of its group was refused for: each
   * one whose names are not accepted is written again, so admit() decides anew (upstream's naming
   * controller re-queues every CRD of the group).
   */
  private async recheckNames(group: string): Promise<void> {
    const list = await this.deps.store.list(kindPrefix(this.deps.crdKind));
    for (const kv of list.kvs) {
      const crd = decode(kv);
      const status = crd.status as CrdStatus | undefined;
      if (specOf(crd).group !== group || crd.metadata?.deletionTimestamp) continue;
      if (!status?.conditions?.some((c) => c.type === "NamesAccepted" && c.status === "False")) continue;
      const current = await this.deps.objects.tryGet(this.deps.crdKind, undefined, crd.metadata!.name!);
      if (!current) continue;
      await this.deps.objects
        .update(this.deps.crdKind, undefined, crd.metadata!.name!, cloneJson(current.obj), "raw", { current })
        .catch(() => undefined); // written meanwhile: that write decided anew already
    }
  }

  private withAdmission(name: string, kind: KindDef): KindDef {
    return {
      ...kind,
      hooks: {
        ...kind.hooks,
        admit: async (obj, old) => {
          if (!old && this.terminating.has(name))
            throw forbidden(`create not allowed while custom resource definition is terminating`);
        },
      },
    };
  }

  /** Deletes every instance (their own finalizers are waited for), then lets the CRD go. */
  private async cleanUp(crd: KubeObject): Promise<void> {
    const name = crd.metadata!.name!;
    this.terminating.add(name);
    const kind = this.served.get(name)?.[0] ?? customResourceKinds(specOf(crd))[0];
    for (let delay = 50; kind; delay = Math.min(delay * 2, 1000)) {
      const list = await this.deps.objects.list(kind, undefined, {});
      if (list.items.length === 0) break;
      for (const obj of list.items) {
        if (obj.metadata?.deletionTimestamp) continue;
        await deleteObject(this.deps.objects, kind, obj.metadata!.namespace, obj.metadata!.name!, {}).catch(
          ignore(isNotFound),
        );
      }
      await Bun.sleep(delay);
    }
    for (let attempt = 0; attempt < 20; attempt++) {
      const current = await this.deps.objects.tryGet(this.deps.crdKind, undefined, name);
      if (!current) return this.unserve(name);
      const next = cloneJson(current.obj);
      next.metadata!.finalizers = (next.metadata!.finalizers ?? []).filter((f) => f !== CLEANUP_FINALIZER);
      try {
        await this.deps.objects.update(this.deps.crdKind, undefined, name, next, "raw", { current });
        return;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
  }
}
