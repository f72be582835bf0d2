// Pod volumes on the node: persistentVolumeClaim (the bound volume's directory), emptyDir and file volumes (configMap, secret, downwardAPI, projected)
// live under DATA/pods/<uid>/volumes/<name>; hostPath is the host's own path. Also the service
// account directory in-cluster clients look for. Returns each container's mounts.
// File volumes are written as upstream's AtomicWriter does (files in a fresh `..<time>` dir, the
// `..data` symlink swapped by rename, each visible name a symlink into `..data`), so a running
// container sees either the old or the new set, never half; service account tokens are requested
// for their lifetime and the pod worker rewrites their volumes at 80 % of it (refreshTokens).
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import type { ConfigMap, Secret } from "../../api/kinds/core.ts";
import type { ServiceAccount, TokenRequest } from "../../api/kinds/access.ts";
import type { Container, KeyToPath, Pod, ProjectedVolumeSource, VolumeProjection } from "../../api/kinds/pod.ts";
import type { PersistentVolume, PersistentVolumeClaim } from "../../api/kinds/storage.ts";
import { isNotFound, type Client, type ApiError, ignore } from "../../client/index.ts";
import { fieldRef } from "./env.ts";
import type { ServiceAccountLister } from "./listers.ts";
import type { Mount } from "./runtime/index.ts";
import { ContainerConfigError } from "./security.ts";

export class VolumeError extends Error {
  override name = "VolumeError";
}

export function podDir(dataDir: string, uid: string): string {
  return join(dataDir, "pods", uid);
}

/** A file to write: its path in the volume, contents and mode. */
type File = { path: string; data: string | Buffer; mode?: number };

/** What kube-api-access asks for (upstream's WarnOnlyBoundTokenExpirationSeconds); projected sources default to 1 h. */
const API_ACCESS_TOKEN_SECONDS = 3607;
const PROJECTED_TOKEN_SECONDS = 3600;

/** When the pod's tokens need rewriting: the earliest refresh time (ms) of the tokens written. */
export type TokenRefresh = { at: number };

async function getOptional<T extends ConfigMap | Secret | ServiceAccount>(
  client: Client,
  resource: "configmaps" | "secrets" | "serviceaccounts",
  ns: string,
  name: string,
) {
  return client.resource<T>(resource, ns).get(name).catch(ignore(isNotFound));
}

/**
 * When the kubelet's token manager renews a token: 80 % into its lifetime less a jitter (upstream:
 * up to 10 s; here at most 5 % of the lifetime, so short test tokens still refresh before expiry),
 * and at least daily.
 */
export function tokenRefreshAt(expiresAtMs: number, seconds: number, random = Math.random()): number {
  const issuedAt = expiresAtMs - seconds * 1000;
  const jitter = random * Math.min(10_000, seconds * 50);
  return Math.min(issuedAt + 0.8 * seconds * 1000, issuedAt + 24 * 3600_000) - jitter;
}

/** A token for the pod's service account, bound to the pod (it stops working when the pod is gone). */
async function podToken(
  client: Client,
  pod: Pod,
  refresh: TokenRefresh,
  seconds: number,
  audience?: string,
): Promise<string> {
  const name = pod.spec.serviceAccountName ?? "default";
  const ns = pod.metadata!.namespace!;
  const answer = await client
    .resource("serviceaccounts", ns)
    .createSubresource<TokenRequest>(name, "token", {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: {
        expirationSeconds: seconds,
        ...(audience ? { audiences: [audience] } : {}),
        boundObjectRef: { apiVersion: "v1", kind: "Pod", name: pod.metadata!.name, uid: pod.metadata!.uid },
      },
    })
    .catch((e) =>
      Promise.reject(
        isNotFound(e) && (e as ApiError).status.details?.kind === "serviceaccounts"
          ? new VolumeError(`serviceaccount "${name}" not found`)
          : e,
      ),
    );
  // The server may have shortened the lifetime (--service-account-max-token-expiration).
  const granted = answer.spec?.expirationSeconds ?? seconds;
  const expires = Date.parse(answer.status?.expirationTimestamp ?? "") || Date.now() + granted * 1000;
  refresh.at = Math.min(refresh.at, tokenRefreshAt(expires, granted));
  return answer.status?.token ?? "";
}

/** The files one source contributes (a configMap/secret volume is a projected volume of one source). */
async function filesOf(client: Client, pod: Pod, src: VolumeProjection, refresh: TokenRefresh): Promise<File[]> {
  const ns = pod.metadata!.namespace!;
  if (src.configMap || src.secret) {
    const secret = !!src.secret;
    const ref = (src.secret ?? src.configMap)!;
    const name = ref.name ?? "";
    const obj = await getOptional<ConfigMap | Secret>(client, secret ? "secrets" : "configmaps", ns, name);
    if (!obj && !ref.optional) throw new VolumeError(`${secret ? "secret" : "configmap"} "${name}" not found`);
    const data = obj?.data ?? {};
    const files: File[] = [];
    for (const item of ref.items ?? Object.keys(data).map((key): KeyToPath => ({ key, path: key }))) {
      if (!(item.key in data)) {
        if (ref.optional) continue;
        throw new VolumeError(`${secret ? "secret" : "configmap"} references non-existent config key: ${item.key}`);
      }
      files.push({
        path: item.path,
        data: secret ? Buffer.from(data[item.key]!, "base64") : data[item.key]!,
        mode: item.mode,
      });
    }
    return files;
  }
  if (src.downwardAPI)
    return (src.downwardAPI.items ?? [])
      .filter((i) => i.fieldRef)
      .map((i) => ({ path: i.path, data: fieldRef(pod, i.fieldRef!.fieldPath), mode: i.mode }));
  if (src.serviceAccountToken) {
    const t = src.serviceAccountToken;
    return [
      {
        path: t.path,
        data: await podToken(client, pod, refresh, t.expirationSeconds ?? PROJECTED_TOKEN_SECONDS, t.audience),
      },
    ];
  }
  return [];
}

const DATA_LINK = "..data";

/** The payload dir's name: upstream's `..2006_01_02_15_04_05.NNN` (mkdtemp adds the random part). */
const payloadPrefix = () =>
  `..${new Date()
    .toISOString()
    .replace(/\.\d+Z$/, "")
    .replace(/[-T:]/g, "_")}.`;

/**
 * Writes a file volume atomically (upstream's AtomicWriter): the new payload goes to a fresh
 * `..<time>.<random>` dir, a `..data` symlink to it replaces the old one by rename, and every
 * visible top-level name is a symlink through `..data`. Then the old payload and names no longer
 * present are removed. A running container's bind mount of `dir` keeps working throughout.
 */
export function writeFiles(dir: string, files: File[], defaultMode: number): void {
  // A volume written for the first time (the pod's start) has no old payload or names to replace.
  const fresh = mkdirSync(dir, { recursive: true }) !== undefined;
  const payload = mkdtempSync(join(dir, payloadPrefix()));
  chmodSync(payload, 0o755);
  const top = new Set<string>();
  try {
    for (const f of files) {
      const file = join(payload, f.path);
      const first = f.path.split("/")[0]!;
      if (!file.startsWith(`${payload}/`) || first.startsWith(".."))
        throw new VolumeError(`invalid path ${f.path}: must stay inside the volume`);
      top.add(first);
      if (f.path.includes("/")) mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, f.data, { mode: f.mode ?? defaultMode });
      chmodSync(file, f.mode ?? defaultMode);
    }
  } catch (e) {
    rmSync(payload, { recursive: true, force: true });
    throw e;
  }
  if (fresh) {
    symlinkSync(basename(payload), join(dir, DATA_LINK));
    for (const name of top) symlinkSync(`${DATA_LINK}/${name}`, join(dir, name));
    return;
  }
  const tmpLink = join(dir, `${DATA_LINK}_tmp`);
  rmSync(tmpLink, { force: true });
  symlinkSync(basename(payload), tmpLink);
  renameSync(tmpLink, join(dir, DATA_LINK));
  for (const name of top) {
    const link = join(dir, name);
    const target = `${DATA_LINK}/${name}`;
    let current: string | undefined;
    try {
      current = readlinkSync(link);
    } catch {}
    if (current === target) continue;
    rmSync(link, { recursive: true, force: true });
    symlinkSync(target, link);
  }
  for (const name of readdirSync(dir))
    if (name !== DATA_LINK && name !== basename(payload) && !top.has(name))
      rmSync(join(dir, name), { recursive: true, force: true });
}

/** The directory behind a bound claim (a hostPath volume, as the local-path provisioner makes). */
async function claimPath(client: Client, ns: string, claimName: string): Promise<string> {
  const pvc = await client
    .resource<PersistentVolumeClaim>("persistentvolumeclaims", ns)
    .get(claimName)
    .catch(ignore(isNotFound));
  if (!pvc) throw new VolumeError(`persistentvolumeclaim "${claimName}" not found`);
  if (pvc.status?.phase !== "Bound" || !pvc.spec?.volumeName)
    throw new VolumeError(`persistentvolumeclaim "${claimName}" is not bound`);
  const pv = await client.resource<PersistentVolume>("persistentvolumes").get(pvc.spec.volumeName);
  const path = pv.spec?.hostPath?.path;
  if (!path)
    throw new VolumeError(
      `persistentvolume "${pvc.spec.volumeName}" is not a hostPath volume, which is all this node can mount`,
    );
  mkdirSync(path, { recursive: true, mode: 0o777 });
  chmodSync(path, 0o777);
  return path;
}

/** Prepares every volume of the pod; returns host paths by volume name. */
/** A prepared volume: its host path, and whether the kubelet owns its content (fsGroup applies). */
export type PodVolume = { path: string; readOnly: boolean; owned?: boolean };

export async function prepareVolumes(
  client: Client,
  dataDir: string,
  pod: Pod,
  refresh: TokenRefresh = { at: Infinity },
): Promise<Map<string, PodVolume>> {
  const out = new Map<string, PodVolume>();
  const base = join(podDir(dataDir, pod.metadata!.uid!), "volumes");
  for (const v of pod.spec.volumes ?? []) {
    const dir = join(base, v.name);
    const projected = v.projected;
    const downward = v.downwardAPI;
    if (v.hostPath) {
      if (v.hostPath.type === "DirectoryOrCreate") mkdirSync(v.hostPath.path, { recursive: true });
      out.set(v.name, { path: v.hostPath.path, readOnly: false });
    } else if (v.persistentVolumeClaim) {
      const ref = v.persistentVolumeClaim;
      out.set(v.name, {
        path: await claimPath(client, pod.metadata!.namespace!, ref.claimName),
        readOnly: ref.readOnly ?? false,
      });
    } else if (v.emptyDir) {
      mkdirSync(dir, { recursive: true, mode: 0o777 });
      chmodSync(dir, 0o777);
      out.set(v.name, { path: dir, readOnly: false, owned: true });
    } else if (v.configMap || v.secret) {
      writeFiles(
        dir,
        await filesOf(
          client,
          pod,
          v.configMap ? { configMap: v.configMap } : { secret: { ...v.secret, name: v.secret!.secretName } },
          refresh,
        ),
        (v.configMap ?? v.secret)!.defaultMode ?? 0o644,
      );
      out.set(v.name, { path: dir, readOnly: true, owned: true });
    } else if (downward) {
      writeFiles(dir, await filesOf(client, pod, { downwardAPI: downward }, refresh), downward.defaultMode ?? 0o644);
      out.set(v.name, { path: dir, readOnly: true, owned: true });
    } else if (projected) {
      await writeProjected(client, dir, pod, projected, refresh);
      out.set(v.name, { path: dir, readOnly: true, owned: true });
    }
  }
  return out;
}

async function writeProjected(client: Client, dir: string, pod: Pod, v: ProjectedVolumeSource, refresh: TokenRefresh) {
  const files: File[] = [];
  for (const src of v.sources ?? []) files.push(...(await filesOf(client, pod, src, refresh)));
  writeFiles(dir, files, v.defaultMode ?? 0o644);
}

/**
 * Rewrites the pod's volumes that hold service account tokens (projected ones and the service
 * account directory) with fresh tokens; returns the paths rewritten. `refresh` gets the next time.
 */
export async function refreshTokens(
  client: Client,
  dataDir: string,
  pod: Pod,
  ca: string | undefined,
  refresh: TokenRefresh,
  accounts?: ServiceAccountLister,
): Promise<string[]> {
  const base = join(podDir(dataDir, pod.metadata!.uid!), "volumes");
  const done: string[] = [];
  for (const v of pod.spec.volumes ?? []) {
    const projected = v.projected;
    if (!projected?.sources?.some((s) => s.serviceAccountToken)) continue;
    await writeProjected(client, join(base, v.name), pod, projected, refresh);
    done.push(join(base, v.name));
  }
  const sa = await prepareServiceAccount(client, dataDir, pod, ca, refresh, accounts);
  if (sa) done.push(sa);
  return done;
}

export const SERVICE_ACCOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * The files in-cluster clients look for (token, ca.crt, namespace), unless the pod or its service
 * account opts out with automountServiceAccountToken: false (the account read from `accounts` when given).
 */
export async function prepareServiceAccount(
  client: Client,
  dataDir: string,
  pod: Pod,
  ca: string | undefined,
  refresh: TokenRefresh = { at: Infinity },
  accounts?: ServiceAccountLister,
): Promise<string | undefined> {
  if (pod.spec.automountServiceAccountToken === false) return undefined;
  const ns = pod.metadata!.namespace!;
  const name = pod.spec.serviceAccountName ?? "default";
  // The cache first; an account it does not have yet (just created) is read from the API.
  const sa = accounts?.get(`${ns}/${name}`) ?? (await getOptional<ServiceAccount>(client, "serviceaccounts", ns, name));
  if (!sa) throw new VolumeError(`serviceaccount "${name}" not found`);
  if (pod.spec.automountServiceAccountToken === undefined && sa.automountServiceAccountToken === false)
    return undefined;
  const dir = join(podDir(dataDir, pod.metadata!.uid!), "volumes", "kube-api-access");
  writeFiles(
    dir,
    [
      { path: "token", data: await podToken(client, pod, refresh, API_ACCESS_TOKEN_SECONDS) },
      { path: "namespace", data: ns },
      ...(ca ? [{ path: "ca.crt", data: ca }] : []),
    ],
    0o644,
  );
  return dir;
}

/**
 * The host path of `subPath` inside a volume, walked one element at a time: a missing element is
 * made (a directory with the volume's mode, as upstream), an existing one is resolved (symlinks
 * followed) and must stay inside the volume. Validation already refused `..` and absolute paths;
 * this catches symlinks a container planted in the volume (upstream's "subpath not within volume").
 */
export function resolveSubPath(volumePath: string, subPath: string): string {
  const base = realpathSync(volumePath);
  const mode = statSync(base).mode & 0o7777;
  const inside = (p: string) => p === base || p.startsWith(base + "/");
  let cur = base;
  for (const part of subPath.split("/").filter((p) => p && p !== ".")) {
    const next = join(cur, part);
    let exists = true;
    try {
      lstatSync(next);
    } catch {
      exists = false;
    }
    if (!exists) {
      mkdirSync(next, { mode });
      cur = next;
      continue;
    }
    let real: string;
    try {
      real = realpathSync(next);
    } catch {
      real = "";
    }
    if (part === ".." || !real || !inside(real))
      throw new Error(`subpath "${join(base, subPath)}" not within volume path "${base}"`);
    cur = real;
  }
  return cur;
}

export function mountsFor(c: Container, volumes: Map<string, PodVolume>, serviceAccountDir?: string): Mount[] {
  const own = (c.volumeMounts ?? []).some((m) => m.mountPath.replace(/\/+$/, "") === SERVICE_ACCOUNT_PATH);
  const mounts = (c.volumeMounts ?? []).flatMap((m) => {
    const v = volumes.get(m.name);
    if (!v) return [];
    let hostPath = v.path;
    if (m.subPath) {
      try {
        hostPath = resolveSubPath(v.path, m.subPath);
      } catch (e) {
        throw new ContainerConfigError(
          `failed to prepare subPath for volumeMount "${m.name}" of container "${c.name}": ${(e as Error).message}`,
        );
      }
    }
    return [{ hostPath, containerPath: m.mountPath, readOnly: m.readOnly ?? v.readOnly }];
  });
  return [
    ...mounts,
    ...(serviceAccountDir && !own
      ? [{ hostPath: serviceAccountDir, containerPath: SERVICE_ACCOUNT_PATH, readOnly: true }]
      : []),
  ];
}

export function removePodDir(dataDir: string, uid: string): void {
  rmSync(podDir(dataDir, uid), { recursive: true, force: true });
}

/**
 * fsGroup on a volume the kubelet owns (upstream's SetVolumeOwnership): group ownership to
 * `gid`, group read (and write unless read-only) on files, setgid and group access on dirs.
 */
export function setVolumeOwnership(path: string, gid: number, readOnly: boolean): void {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) return;
  chownSync(path, st.uid, gid);
  const mask = st.isDirectory() ? (readOnly ? 0o2550 : 0o2770) : readOnly ? 0o440 : 0o660;
  chmodSync(path, (st.mode & 0o7777) | mask);
  if (st.isDirectory()) for (const name of readdirSync(path)) setVolumeOwnership(join(path, name), gid, readOnly);
}
