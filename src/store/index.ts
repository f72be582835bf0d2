// Opening the cluster's store: SQLite in the data dir (the default), or etcd when endpoints are given.
import type { Store } from "./types.ts";
import { SqliteStore, type SqliteStoreOptions } from "./sqlite/store.ts";
import { EtcdStore, type EtcdStoreOptions } from "./etcd/store.ts";

export type { EtcdStoreOptions };
export type OpenStoreOptions = SqliteStoreOptions & {
  etcd?: Omit<EtcdStoreOptions, keyof Omit<SqliteStoreOptions, "dataDir">>;
};

export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const { etcd, ...tuning } = opts;
  if (etcd) return EtcdStore.open({ ...tuning, ...etcd });
  return SqliteStore.open(opts);
}

export * from "./types.ts";
