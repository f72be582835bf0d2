// Opening the cluster's store. SQLite today; an etcd backend would plug in here.
import type { Store } from "./types.ts";
import { SqliteStore, type SqliteStoreOptions } from "./sqlite/store.ts";

export type OpenStoreOptions = SqliteStoreOptions;

export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  return SqliteStore.open(opts);
}

export * from "./types.ts";
