// Admission: checks and assignments that need other objects, done before a write reaches the
// store: the namespace must exist and not be terminating, services get cluster IPs and node
// ports without conflicts, pods get their namespace's LimitRange defaults and bounds. Writers to the same allocator are serialised in-process.
import type { KindDef, KubeObject } from "../../api/types.ts";
import type { Store } from "../../store/types.ts";
import { decode } from "./codec.ts";
import { forbidden, HttpError, invalid, notFound } from "./errors.ts";
import { kindPrefix, listPrefix, objectKey } from "./paths.ts";
import { applyLimitRanges } from "./limit-ranger.ts";
import { allocateServiceAddresses, type ServiceRanges } from "./service-alloc.ts";

export interface Admission {
  beforeCreate(kind: KindDef, obj: KubeObject): Promise<void>;
  beforeUpdate(kind: KindDef, next: KubeObject, old: KubeObject): Promise<void>;
}

export interface AdmissionDeps {
  store: Store;
  lookup: (resource: string) => KindDef | undefined;
  ranges: ServiceRanges;
}

export function createAdmission(deps: AdmissionDeps): Admission {
  let serviceLock: Promise<unknown> = Promise.resolve();
  const namespaces = deps.lookup("namespaces");
  const services = deps.lookup("services");
  const limitRanges = deps.lookup("limitranges");

  async function withLimitRanges(kind: KindDef, obj: KubeObject): Promise<void> {
    if (kind.kind !== "Pod" || !limitRanges) return;
    const list = await deps.store.list(listPrefix(limitRanges, obj.metadata!.namespace));
    applyLimitRanges(obj, list.kvs.map(decode));
  }

  async function checkNamespace(kind: KindDef, obj: KubeObject): Promise<void> {
    if (!kind.namespaced || !namespaces) return;
    const ns = obj.metadata!.namespace!;
    const { kv } = await deps.store.get(objectKey(namespaces, undefined, ns));
    if (!kv) throw notFound("namespaces", "", ns);
    const nsObj = decode(kv);
    if (nsObj.metadata?.deletionTimestamp)
      throw forbidden(`${kind.resource} "${obj.metadata!.name ?? ""}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`);
  }

  async function withServices(kind: KindDef, obj: KubeObject, old?: KubeObject): Promise<void> {
    if (kind.kind !== "Service" || !services) return;
    const run = serviceLock.then(async () => {
      const list = await deps.store.list(kindPrefix(services));
      const others = list.kvs.map(decode).filter((s) => s.metadata?.uid !== obj.metadata?.uid);
      const causes = allocateServiceAddresses(obj, others, deps.ranges, old);
      if (causes.length) throw invalid("Service", "", obj.metadata?.name ?? "", causes);
    });
    // The next allocation waits for this one, whatever its outcome.
    serviceLock = run.catch(() => {});
    await run;
  }

  return {
    async beforeCreate(kind, obj) {
      await checkNamespace(kind, obj);
      await withServices(kind, obj);
      await withLimitRanges(kind, obj);
    },
    async beforeUpdate(kind, next, old) {
      await withServices(kind, next, old);
    },
  };
}

export { HttpError };
