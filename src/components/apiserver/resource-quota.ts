// The ResourceQuota admission step: a create that would take a namespace past a quota's hard
// limits is refused with upstream's 403 ("exceeded quota: NAME, requested: ..., used: ...,
// limited: ..."), and a pod that does not state a cpu/memory request or limit a quota tracks
// with "failed quota: NAME: must specify ...". Checks and writes of one namespace are serialised
// and `used` is counted from the stored objects while the lock is held, so concurrent creates
// cannot overshoot; the quota's status is then charged (the controller recomputes it anyway).
import type { KindDef, KubeObject } from "../../api/types.ts";
import {
  fromUsage,
  matchingResources,
  podConstraints,
  prettyPrint,
  scopesMatch,
  sumUsage,
  toUsage,
  usageOf,
  type Quota,
  type Usage,
} from "../../api/quota.ts";
import type { Store } from "../../store/types.ts";
import { isConflict } from "../../client/index.ts";
import { decode } from "./codec.ts";
import { forbidden, qualified } from "./errors.ts";
import type { Objects } from "./objects.ts";
import { listPrefix } from "./paths.ts";

export interface QuotaAdmission {
  /** Checks `obj` against its namespace's quotas and runs `write` under the namespace's lock. */
  admit<T>(kind: KindDef, obj: KubeObject, dryRun: boolean, write: () => Promise<T>): Promise<T>;
}

export function createQuotaAdmission(
  store: Store,
  objects: () => Objects,
  quotas: KindDef | undefined,
): QuotaAdmission {
  const locks = new Map<string, Promise<unknown>>();

  /** Runs `fn` after every earlier holder of the namespace's lock. */
  async function locked<T>(ns: string, fn: () => Promise<T>): Promise<T> {
    const prev = locks.get(ns) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => {});
    locks.set(ns, tail);
    try {
      return await run;
    } finally {
      if (locks.get(ns) === tail) locks.delete(ns);
    }
  }

  async function check(kind: KindDef, obj: KubeObject, list: Quota[]): Promise<{ quota: Quota; used: Usage }[]> {
    const ns = obj.metadata!.namespace!;
    const what = `${qualified(kind.resource, kind.group)} "${obj.metadata?.name ?? ""}" is forbidden`;
    const charges: { quota: Quota; used: Usage }[] = [];
    let stored: KubeObject[] | undefined;
    for (const quota of list) {
      const hard = toUsage(quota.spec?.hard);
      const tracked = matchingResources(kind.resource, kind.group, Object.keys(hard));
      if (!tracked.length || !scopesMatch(quota, kind.resource, kind.group, obj)) continue;
      if (kind.resource === "pods" && !kind.group) {
        const missing = podConstraints(tracked, obj as never);
        if (missing) throw forbidden(`${what}: failed quota: ${quota.metadata!.name}: ${missing}`);
      }
      const delta = usageOf(kind.resource, kind.group, obj);
      const requested: Usage = {};
      for (const k of tracked) if (delta[k]) requested[k] = delta[k]!;
      if (!Object.keys(requested).length) continue;
      stored ??= (await store.list(listPrefix(kind, ns))).kvs.map(decode);
      const used = sumUsage(kind.resource, kind.group, stored, quota, tracked);
      const exceeded = Object.keys(requested).filter((k) => used[k]! + requested[k]! > hard[k]!);
      if (exceeded.length) {
        const pick = (u: Usage) => Object.fromEntries(exceeded.map((k) => [k, u[k] ?? 0]));
        throw forbidden(
          `${what}: exceeded quota: ${quota.metadata!.name}, requested: ${prettyPrint(pick(requested))}, used: ${prettyPrint(pick(used))}, limited: ${prettyPrint(pick(hard))}`,
        );
      }
      for (const k of Object.keys(requested)) used[k]! += requested[k]!;
      charges.push({ quota, used });
    }
    return charges;
  }

  /** Records the new usage in each quota's status (best effort: the controller recomputes it). */
  async function charge(charges: { quota: Quota; used: Usage }[]): Promise<void> {
    for (const { quota, used } of charges) {
      const { namespace, name = "" } = quota.metadata!;
      for (let attempt = 0; attempt < 3; attempt++) {
        const current = await objects().tryGet(quotas!, namespace, name);
        if (!current) break;
        const cur = current.obj as Quota;
        const status = { hard: cur.spec?.hard ?? {}, used: { ...(cur.status?.used ?? {}), ...fromUsage(used) } };
        try {
          await objects().writeRaw(quotas!, namespace, name, { ...cur, status }, current);
          break;
        } catch (e) {
          if (!isConflict(e)) throw e;
        }
      }
    }
  }

  return {
    async admit(kind, obj, dryRun, write) {
      const ns = obj.metadata?.namespace;
      if (!quotas || !ns || !kind.namespaced) return write();
      const first = await store.list(listPrefix(quotas, ns));
      const tracks = (q: Quota) =>
        matchingResources(kind.resource, kind.group, Object.keys(q.spec?.hard ?? {})).length > 0;
      if (!first.kvs.some((kv) => tracks(decode(kv) as Quota))) return write();
      return locked(ns, async () => {
        const list = (await store.list(listPrefix(quotas, ns))).kvs.map(decode) as Quota[];
        const charges = await check(kind, obj, list);
        const out = await write();
        if (!dryRun && charges.length) await charge(charges).catch(() => {});
        return out;
      });
    },
  };
}
