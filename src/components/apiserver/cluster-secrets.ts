// Several `kube up --store etcd://...` serve one cluster, so they must hold the same secrets: the
// CA (clients and joining nodes verify it; its hash is in join tokens), DATA/sa.key (service
// account and node tokens from any server are accepted by all), DATA/kubelet.key and the admin
// token. k3s keeps such "bootstrap data" in its datastore; so does kube: one store key outside
// /registry (never served by the API). The first server publishes its own; the others adopt them
// into their data dir before loading them. Like Secrets, they are not encrypted in etcd: whoever
// can read etcd owns the cluster either way.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KeyExistsError, type Store } from "../../store/index.ts";
import { pkiFiles } from "./tls.ts";

export const CLUSTER_SECRETS_KEY = "/bootstrap/kube-cluster-secrets";

const files = (dataDir: string) => {
  const pki = pkiFiles(dataDir);
  return {
    ca: pki.ca,
    caKey: pki.caKey,
    saKey: join(dataDir, "sa.key"),
    kubeletKey: join(dataDir, "kubelet.key"),
    token: join(dataDir, "token"),
  };
};
type Shared = Record<keyof ReturnType<typeof files>, string>;

/** Writes the shared secrets into the data dir; the serving certificate is re-issued when the CA changed. */
function adopt(dataDir: string, shared: Shared): void {
  const f = files(dataDir);
  const pki = pkiFiles(dataDir);
  mkdirSync(pki.dir, { recursive: true, mode: 0o700 });
  const current = existsSync(f.ca) ? readFileSync(f.ca).toString("base64") : "";
  if (current !== shared.ca) rmSync(pki.hosts, { force: true });
  for (const [name, path] of Object.entries(f))
    writeFileSync(path, Buffer.from(shared[name as keyof Shared], "base64"), { mode: 0o600 });
}

/**
 * Before the data dir's secrets are loaded: adopts the cluster's when the store has them.
 * Returns `publish`, to call once they are loaded or made, which stores this server's when none
 * were there (or adopts a racing server's and says so, so the caller loads again).
 */
export async function syncClusterSecrets(
  store: Store,
  dataDir: string,
): Promise<{ publish: () => Promise<"published" | "adopted" | "shared"> }> {
  const found = (await store.get(CLUSTER_SECRETS_KEY)).kv;
  if (found) {
    adopt(dataDir, JSON.parse(found.value) as Shared);
    return { publish: async () => "shared" };
  }
  return {
    async publish() {
      const f = files(dataDir);
      const mine = Object.fromEntries(Object.entries(f).map(([k, p]) => [k, readFileSync(p).toString("base64")]));
      try {
        await store.create(CLUSTER_SECRETS_KEY, JSON.stringify(mine));
        return "published";
      } catch (err) {
        if (!(err instanceof KeyExistsError)) throw err;
        const kv = (await store.get(CLUSTER_SECRETS_KEY)).kv!;
        adopt(dataDir, JSON.parse(kv.value) as Shared);
        return "adopted";
      }
    },
  };
}
