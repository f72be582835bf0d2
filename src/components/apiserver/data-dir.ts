// The data dir holds every secret of the cluster (the store with all Secrets, the bearer token,
// signing keys, the kubeconfig, pki). Modes are enforced at every start, not only at creation:
// a dir made by an older version, by hand or with a loose umask is tightened too.
import { chmodSync, existsSync, lstatSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type EtcdStoreOptions, openStore } from "../../store/index.ts";

/** Directories below the data dir whose whole content is secret. */
const SECRET_DIRS = new Set(["pki"]);

/** Makes `dataDir` 0700, its own files and everything in SECRET_DIRS 0600 (dirs 0700). Pod and storage dirs keep their modes: containers use them. */
export function secureDataDir(dataDir: string): void {
  chmodSync(dataDir, 0o700);
  for (const name of readdirSync(dataDir)) {
    const path = join(dataDir, name);
    const st = lstatSync(path);
    if (st.isFile()) chmodSync(path, 0o600);
    else if (st.isDirectory() && SECRET_DIRS.has(name)) secureTree(path);
  }
}

function secureTree(dir: string): void {
  chmodSync(dir, 0o700);
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    if (st.isFile()) chmodSync(path, 0o600);
    else if (st.isDirectory()) secureTree(path);
  }
}

/** Where a data dir records the etcd its cluster keeps its objects in (kube up --store etcd://). */
const ETCD_RECORD = "etcd.json";

/** Records the store of the cluster started on `dataDir`: etcd's options, or none for the data dir's SQLite. */
export function recordStore(dataDir: string, etcd: EtcdStoreOptions | undefined): void {
  const path = join(dataDir, ETCD_RECORD);
  if (etcd) writeFileSync(path, `${JSON.stringify(etcd)}\n`, { mode: 0o600 });
  else rmSync(path, { force: true });
}

/** The etcd the cluster of `dataDir` last ran on, if it ran on etcd (`kube down` and `kube snapshot` ask). */
export function recordedEtcd(dataDir: string): EtcdStoreOptions | undefined {
  const path = join(dataDir, ETCD_RECORD);
  return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as EtcdStoreOptions) : undefined;
}

/** Whether `dataDir` holds a cluster (its SQLite store, or the record of its etcd). */
export function holdsCluster(dataDir: string): boolean {
  return existsSync(join(dataDir, "kube.db")) || existsSync(join(dataDir, ETCD_RECORD));
}

/** The nodes a stopped cluster's store knows (what `kube down` removes containers of). */
export async function storedNodeNames(dataDir: string): Promise<string[]> {
  const store = await openStore({ dataDir, etcd: recordedEtcd(dataDir) });
  try {
    return (await store.list("/registry/nodes/")).kvs.map(
      (kv) => (JSON.parse(kv.value) as { metadata: { name: string } }).metadata.name,
    );
  } finally {
    await store.close();
  }
}
