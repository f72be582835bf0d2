// Cluster IPs and node ports are reserved in the store, one key each (`/registry/ranges/...`), so
// API servers sharing one etcd never hand out the same one: a reservation is an atomic create,
// as upstream keeps its allocations in etcd (RangeAllocation, IPAddress objects) rather than in a
// process. The in-process choice (service-alloc.ts) picks free-looking values from the list of
// services; the reservation is what decides. A service's deletion (or an update that drops a
// value) releases its keys. A reservation whose holder neither exists nor uses the value (a create
// that failed after reserving, a dry run) is taken over once it is older than a grace period that
// covers another server's write in flight.
import { ConflictError, KeyExistsError, NotFoundError, type Store } from "../../store/types.ts";

export type Reserved = { kind: "ip"; value: string } | { kind: "port"; value: number };

interface Holder {
  namespace: string;
  name: string;
  /** ms since the epoch, when reserved. */
  at: number;
}

const GRACE_MS = 30_000;

const keyOf = (r: Reserved) =>
  r.kind === "ip" ? `/registry/ranges/serviceips/${r.value}` : `/registry/ranges/servicenodeports/${r.value}`;

export interface ServiceReservations {
  /** Reserves every value for namespace/name; returns those held by someone else. */
  reserve(namespace: string, name: string, values: Reserved[]): Promise<Reserved[]>;
  /** Drops the keys of values this service holds. */
  release(namespace: string, name: string, values: Reserved[]): Promise<void>;
}

/**
 * `uses(namespace, name, value)` tells whether that service exists and has the value: a holder
 * that does is never displaced.
 */
export function serviceReservations(
  store: Store,
  uses: (namespace: string, name: string, value: Reserved) => Promise<boolean>,
  now: () => number = Date.now,
): ServiceReservations {
  const holderOf = (value: string): Holder | undefined => {
    try {
      return JSON.parse(value) as Holder;
    } catch {
      return undefined;
    }
  };

  async function reserveOne(namespace: string, name: string, r: Reserved): Promise<boolean> {
    const mine = JSON.stringify({ namespace, name, at: now() } satisfies Holder);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await store.create(keyOf(r), mine);
        return true;
      } catch (err) {
        if (!(err instanceof KeyExistsError)) throw err;
      }
      const { kv } = await store.get(keyOf(r));
      if (!kv) continue; // released meanwhile
      const holder = holderOf(kv.value);
      if (holder?.namespace === namespace && holder.name === name) return true;
      if (holder && now() - holder.at < GRACE_MS) return false;
      if (holder && (await uses(holder.namespace, holder.name, r))) return false;
      try {
        await store.update(keyOf(r), mine, kv.modRevision);
        return true;
      } catch (err) {
        if (!(err instanceof ConflictError || err instanceof NotFoundError)) throw err;
      }
    }
    return false;
  }

  return {
    async reserve(namespace, name, values) {
      const taken: Reserved[] = [];
      for (const r of values) if (!(await reserveOne(namespace, name, r))) taken.push(r);
      return taken;
    },
    async release(namespace, name, values) {
      for (const r of values) {
        const { kv } = await store.get(keyOf(r));
        const holder = kv && holderOf(kv.value);
        if (!kv || holder?.namespace !== namespace || holder.name !== name) continue;
        await store.delete(keyOf(r), kv.modRevision).catch((err) => {
          if (!(err instanceof ConflictError || err instanceof NotFoundError)) throw err;
        });
      }
    },
  };
}
