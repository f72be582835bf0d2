// The data dir holds every secret of the cluster (the store with all Secrets, the bearer token,
// signing keys, the kubeconfig, pki). Modes are enforced at every start, not only at creation:
// a dir made by an older version, by hand or with a loose umask is tightened too.
import { chmodSync, lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";

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
