// Pod volumes on the node: emptyDir and projected ConfigMap/Secret files live under
// DATA/pods/<uid>/volumes/<name>; hostPath is the host's own path. Returns each container's mounts.
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Container, Pod } from "../../api/kinds/pod.ts";
import { isNotFound, type Client } from "../../client/index.ts";
import type { Mount } from "./runtime/index.ts";

export class VolumeError extends Error {
  override name = "VolumeError";
}

export function podDir(dataDir: string, uid: string): string {
  return join(dataDir, "pods", uid);
}

/** Prepares every volume of the pod; returns host paths by volume name. */
export async function prepareVolumes(client: Client, dataDir: string, pod: Pod): Promise<Map<string, { path: string; readOnly: boolean }>> {
  const out = new Map<string, { path: string; readOnly: boolean }>();
  const base = join(podDir(dataDir, pod.metadata!.uid!), "volumes");
  for (const v of pod.spec.volumes ?? []) {
    if (v.hostPath) {
      if (v.hostPath.type === "DirectoryOrCreate") mkdirSync(v.hostPath.path, { recursive: true });
      out.set(v.name, { path: v.hostPath.path, readOnly: false });
    } else if (v.emptyDir) {
      const dir = join(base, v.name);
      mkdirSync(dir, { recursive: true, mode: 0o777 });
      chmodSync(dir, 0o777);
      out.set(v.name, { path: dir, readOnly: false });
    } else if (v.configMap || v.secret) {
      const secret = !!v.secret;
      const name = secret ? v.secret!.secretName : v.configMap!.name;
      const obj = await client.resource(secret ? "secrets" : "configmaps", pod.metadata!.namespace).get(name).catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
      const optional = (secret ? v.secret!.optional : v.configMap!.optional) ?? false;
      if (!obj && !optional) throw new VolumeError(`${secret ? "secret" : "configmap"} "${name}" not found`);
      const dir = join(base, v.name);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      const data = (obj?.data ?? {}) as Record<string, string>;
      const items = (secret ? v.secret!.items : v.configMap!.items) ?? Object.keys(data).map((key) => ({ key, path: key }));
      const mode = (secret ? v.secret!.defaultMode : v.configMap!.defaultMode) ?? 0o644;
      for (const item of items) {
        if (!(item.key in data)) {
          if (optional) continue;
          throw new VolumeError(`configmap references non-existent config key: ${item.key}`);
        }
        const file = join(dir, item.path);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, secret ? Buffer.from(data[item.key]!, "base64") : data[item.key]!, { mode });
      }
      out.set(v.name, { path: dir, readOnly: true });
    }
  }
  return out;
}

export const SERVICE_ACCOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";
const TOKEN_SECONDS = 365 * 24 * 3600;

/**
 * The files in-cluster clients look for (token, ca.crt, namespace), unless the pod or its service
 * account opts out with automountServiceAccountToken: false. The token comes from a TokenRequest
 * bound to this pod (it stops working when the pod is gone); it is valid for a year, as nothing
 * here refreshes it.
 */
export async function prepareServiceAccount(client: Client, dataDir: string, pod: Pod, ca: string | undefined): Promise<string | undefined> {
  if (pod.spec.automountServiceAccountToken === false) return undefined;
  const ns = pod.metadata!.namespace!;
  const name = pod.spec.serviceAccountName ?? "default";
  const sa = await client.resource("serviceaccounts", ns).get(name).catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
  if (!sa) throw new VolumeError(`serviceaccount "${name}" not found`);
  if (pod.spec.automountServiceAccountToken === undefined && (sa as { automountServiceAccountToken?: boolean }).automountServiceAccountToken === false) return undefined;
  const answer = await client.resource("serviceaccounts", ns).createSubresource<{ status?: { token?: string } }>(name, "token", {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
    spec: { expirationSeconds: TOKEN_SECONDS, boundObjectRef: { apiVersion: "v1", kind: "Pod", name: pod.metadata!.name, uid: pod.metadata!.uid } },
  });
  const dir = join(podDir(dataDir, pod.metadata!.uid!), "volumes", "kube-api-access");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "token"), answer.status?.token ?? "", { mode: 0o644 });
  writeFileSync(join(dir, "namespace"), ns, { mode: 0o644 });
  if (ca) writeFileSync(join(dir, "ca.crt"), ca, { mode: 0o644 });
  return dir;
}

export function mountsFor(c: Container, volumes: Map<string, { path: string; readOnly: boolean }>, serviceAccountDir?: string): Mount[] {
  const own = (c.volumeMounts ?? []).some((m) => m.mountPath.replace(/\/+$/, "") === SERVICE_ACCOUNT_PATH);
  return [...mountsOf(c, volumes), ...(serviceAccountDir && !own ? [{ hostPath: serviceAccountDir, containerPath: SERVICE_ACCOUNT_PATH, readOnly: true }] : [])];
}

function mountsOf(c: Container, volumes: Map<string, { path: string; readOnly: boolean }>): Mount[] {
  return (c.volumeMounts ?? []).flatMap((m) => {
    const v = volumes.get(m.name);
    if (!v) return [];
    return [{ hostPath: m.subPath ? join(v.path, m.subPath) : v.path, containerPath: m.mountPath, readOnly: m.readOnly ?? v.readOnly }];
  });
}

export function removePodDir(dataDir: string, uid: string): void {
  rmSync(podDir(dataDir, uid), { recursive: true, force: true });
}
