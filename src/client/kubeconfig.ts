// Writing and reading kubeconfig files: the one `kube up` writes (token auth, usable by real
// kubectl), and the one the CLI reads (current-context, its cluster, user and namespace).
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { parse, stringify } from "yaml";

export interface KubeconfigEntry {
  server: string;
  token: string;
  /** Name of the cluster, user and context. */
  name: string;
  namespace?: string;
  /** PEM of the CA that signed the server's certificate (written as certificate-authority-data). */
  ca?: string;
}

export interface KubeconfigCredentials {
  server: string;
  token?: string;
  namespace?: string;
  /** The context these came from. */
  context?: string;
  insecureSkipTLSVerify?: boolean;
  /** PEM, from certificate-authority-data or certificate-authority. */
  ca?: string;
}

function entries(entry: KubeconfigEntry) {
  const { server, token, name } = entry;
  return {
    cluster: {
      name,
      cluster: {
        server,
        ...(entry.ca ? { "certificate-authority-data": Buffer.from(entry.ca).toString("base64") } : {}),
      },
    },
    user: { name, user: { token } },
    context: {
      name,
      context: { cluster: name, user: name, ...(entry.namespace ? { namespace: entry.namespace } : {}) },
    },
  };
}

/** Writes a one-cluster kubeconfig (mode 0600, parent directory created), replacing any old file. */
export function writeKubeconfig(path: string, entry: KubeconfigEntry): void {
  const e = entries(entry);
  writeConfig(path, {
    apiVersion: "v1",
    kind: "Config",
    clusters: [e.cluster],
    users: [e.user],
    contexts: [e.context],
    "current-context": entry.name,
    preferences: {},
  });
}

/**
 * Adds this cluster to an existing kubeconfig (as `kubectl config` would): the cluster, user and
 * context named entry.name are replaced, everything else is kept, and the context becomes current.
 */
export function mergeKubeconfig(path: string, entry: KubeconfigEntry): void {
  let doc: Record<string, unknown> = {};
  try {
    doc = (parse(readFileSync(path, "utf8")) ?? {}) as Record<string, unknown>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT")
      throw new Error(`cannot merge into kubeconfig ${path}: ${(err as Error).message}`);
  }
  const e = entries(entry);
  const upsert = (list: unknown, item: { name: string }) => [
    ...(Array.isArray(list) ? (list as { name?: string }[]).filter((x) => x?.name !== item.name) : []),
    item,
  ];
  writeConfig(path, {
    apiVersion: "v1",
    kind: "Config",
    preferences: {},
    ...doc,
    clusters: upsert(doc.clusters, e.cluster),
    users: upsert(doc.users, e.user),
    contexts: upsert(doc.contexts, e.context),
    "current-context": entry.name,
  });
}

function writeConfig(path: string, config: Record<string, unknown>): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // Write then rename: a reader never sees half a file, and the token is never world-readable.
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, stringify(config), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** --kubeconfig, then the first entry of KUBECONFIG, then defaultPath (or ~/.kube/config). */
export function kubeconfigPath(flag?: string, defaultPath?: string): string {
  if (flag) return flag;
  const fromEnv = (process.env.KUBECONFIG ?? "").split(delimiter).find((p) => p.trim() !== "");
  if (fromEnv) return fromEnv.trim();
  return defaultPath ?? join(homedir(), ".kube", "config");
}

type Named = Record<string, unknown>;

function find(list: unknown, name: string, field: string): Record<string, unknown> | undefined {
  if (!Array.isArray(list)) return undefined;
  const entry = (list as Named[]).find((e) => e && e.name === name);
  const value = entry?.[field];
  return value && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** Reads the current context's server, token and namespace. Throws with a clear message when unusable. */
export function readKubeconfig(path?: string, context?: string): KubeconfigCredentials {
  const file = path ?? kubeconfigPath();
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`cannot read kubeconfig ${file}: ${(err as Error).message}`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = (parse(text) ?? {}) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`kubeconfig ${file} is not valid YAML: ${(err as Error).message}`);
  }
  const contextName = context ?? str(doc["current-context"]);
  if (!contextName) throw new Error(`kubeconfig ${file} has no current-context`);
  const ctx = find(doc.contexts, contextName, "context");
  if (!ctx) throw new Error(`kubeconfig ${file}: context "${contextName}" not found`);
  const clusterName = str(ctx.cluster);
  const cluster = clusterName ? find(doc.clusters, clusterName, "cluster") : undefined;
  const server = str(cluster?.server);
  if (!server) throw new Error(`kubeconfig ${file}: context "${contextName}" has no cluster with a server`);
  const userName = str(ctx.user);
  const user = userName ? find(doc.users, userName, "user") : undefined;

  const base = dirname(resolve(file));
  let token = str(user?.token);
  const tokenFile = str(user?.tokenFile);
  if (!token && tokenFile) token = readFileSync(resolve(base, tokenFile), "utf8").trim();
  let ca: string | undefined;
  const caData = str(cluster?.["certificate-authority-data"]);
  const caFile = str(cluster?.["certificate-authority"]);
  if (caData) ca = Buffer.from(caData, "base64").toString("utf8");
  else if (caFile) ca = readFileSync(resolve(base, caFile), "utf8");

  const out: KubeconfigCredentials = { server, context: contextName };
  if (token) out.token = token;
  const namespace = str(ctx.namespace);
  if (namespace) out.namespace = namespace;
  if (cluster?.["insecure-skip-tls-verify"] === true) out.insecureSkipTLSVerify = true;
  if (ca) out.ca = ca;
  return out;
}
