// Admission: checks and assignments that need other objects, done before a write reaches the
// store. Generic: the namespace must exist and not be terminating; then the kind's own `admit`
// hook. The built-in kinds' admission (services get cluster IPs and node ports without
// conflicts, pods get their namespace's LimitRange defaults and bounds) is made here and attached
// as hooks (see hooks.ts). Writers to the same allocator are serialised in-process.
// Once the object is valid, the validating steps run: Pod Security (namespace labels) and
// ResourceQuota, which holds its namespace's lock around the write itself.
import type { Pod } from "../../api/kinds/pod.ts";
import type { LimitRange } from "../../api/kinds/stored.ts";
import type { KindDef, KindHooks, KubeObject } from "../../api/types.ts";
import type { Store } from "../../store/types.ts";
import type { Objects } from "./objects.ts";
import { decode, decodeShared } from "./codec.ts";
import { conflict, forbidden, HttpError, invalid, notFound } from "./errors.ts";
import { kindPrefix, listPrefix, objectKey } from "./paths.ts";
import { applyLimitRanges } from "./limit-ranger.ts";
import { addressesMinus, allocateServiceAddresses, type ServiceRanges, serviceAddresses } from "./service-alloc.ts";
import { serviceReservations } from "./service-reservations.ts";
import { createQuotaAdmission } from "./resource-quota.ts";
import { createPodSecurity } from "./pod-security.ts";
import { cloneJson } from "../../api/clone.ts";

export interface Admission {
  beforeCreate(kind: KindDef, obj: KubeObject): Promise<void>;
  beforeUpdate(kind: KindDef, next: KubeObject, old: KubeObject): Promise<void>;
  /** Validating admission of a valid new object; `write` stores it (under the quota lock when one applies). */
  admitCreate<T>(kind: KindDef, obj: KubeObject, opts: AdmitOptions, write: () => Promise<T>): Promise<T>;
  admitUpdate(kind: KindDef, next: KubeObject, old: KubeObject, opts: AdmitOptions): Promise<void>;
}

export interface AdmitOptions {
  dryRun: boolean;
  /** Collects warnings for the response's Warning headers. */
  warnings: string[];
}

export interface AdmissionDeps {
  store: Store;
  /** The Objects layer admission writes through (made after admission, which it needs itself). */
  objects: () => Objects;
  lookup: (resource: string) => KindDef | undefined;
}

export function createAdmission(deps: AdmissionDeps): Admission {
  const namespaces = deps.lookup("namespaces");
  const quota = createQuotaAdmission(deps.store, deps.objects, deps.lookup("resourcequotas"));
  const podSecurity = createPodSecurity(deps.store, namespaces, deps.lookup("pods"));

  async function checkNamespace(kind: KindDef, obj: KubeObject): Promise<void> {
    if (!kind.namespaced || !namespaces) return;
    const ns = obj.metadata!.namespace!;
    const { kv } = await deps.store.get(objectKey(namespaces, undefined, ns));
    if (!kv) throw notFound("namespaces", "", ns);
    const nsObj = decodeShared(kv);
    if (nsObj.metadata?.deletionTimestamp)
      throw forbidden(
        `${kind.resource} "${obj.metadata!.name ?? ""}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`,
      );
  }

  return {
    async beforeCreate(kind, obj) {
      await checkNamespace(kind, obj);
      await kind.hooks?.admit?.(obj, undefined);
    },
    async beforeUpdate(kind, next, old) {
      await kind.hooks?.admit?.(next, old);
    },
    async admitCreate(kind, obj, opts, write) {
      await podSecurity.admit(kind, obj, undefined, opts.warnings);
      return quota.admit(kind, obj, opts.dryRun, write);
    },
    async admitUpdate(kind, next, old, opts) {
      await podSecurity.admit(kind, next, old, opts.warnings);
    },
  };
}

/**
 * Service admission: cluster IPs and node ports, allocated one write at a time in this process and
 * reserved in the store against other API servers; values found reserved are chosen again (or,
 * when the client asked for them, refused as already allocated). Releasing is `afterWrite`'s.
 */
export function serviceAdmission(store: Store, services: KindDef, ranges: ServiceRanges): KindHooks {
  const reservations = serviceReservations(store, async (namespace, name, value) => {
    const { kv } = await store.get(objectKey(services, namespace, name));
    return !!kv && addressesMinus([value], serviceAddresses(decode(kv))).length === 0;
  });
  let serviceLock: Promise<unknown> = Promise.resolve();
  return {
    async admit(obj, old) {
      const run = serviceLock.then(async () => {
        const list = await store.list(kindPrefix(services));
        const others = list.kvs.map(decode).filter((s) => s.metadata?.uid !== obj.metadata?.uid);
        const { namespace = "", name = "" } = obj.metadata ?? {};
        const requested = cloneJson(obj.spec);
        const taken = { ips: new Set<string>(), ports: new Set<number>() };
        for (let attempt = 0; attempt < 16; attempt++) {
          obj.spec = cloneJson(requested);
          const causes = allocateServiceAddresses(obj, others, ranges, old, taken);
          if (causes.length) throw invalid("Service", "", name, causes);
          const wanted = addressesMinus(serviceAddresses(obj), serviceAddresses(old));
          const lost = await reservations.reserve(namespace, name, wanted);
          if (!lost.length) return;
          // The next attempt may choose other values: give back what this one got.
          await reservations.release(namespace, name, addressesMinus(wanted, lost));
          for (const r of lost) r.kind === "ip" ? taken.ips.add(r.value) : taken.ports.add(r.value);
        }
        throw conflict("services", "", name, "cluster IPs or node ports are being allocated concurrently; try again");
      });
      // The next allocation waits for this one, whatever its outcome.
      serviceLock = run.catch(() => {});
      await run;
    },
    async afterWrite(obj, old) {
      if (!old) return;
      const { namespace = "", name = "" } = old.metadata ?? {};
      await reservations.release(namespace, name, addressesMinus(serviceAddresses(old), serviceAddresses(obj)));
    },
  };
}

/** Pod admission on create: the namespace's LimitRange defaults and bounds. */
export function limitRangeAdmission(
  store: Store,
  limitRanges: KindDef,
): (obj: KubeObject, old: KubeObject | undefined) => Promise<void> {
  return async (obj, old) => {
    if (old) return;
    const list = await store.list(listPrefix(limitRanges, obj.metadata!.namespace));
    applyLimitRanges(obj as Pod, list.kvs.map(decode) as LimitRange[]);
  };
}

export { HttpError };
