// Discovery documents built from the kind registry: /api, /apis, /api/v1, /apis/GROUP/VERSION,
// and /version. Short names and the `all` category are what make `kubectl get po` and
// `kubectl get all` resolve.
import type { KindDef } from "../../api/types.ts";

export const serverVersion = {
  major: "1",
  minor: "30",
  gitVersion: "v1.30.0-kube",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2026-11-01T00:00:00Z",
  goVersion: "bun",
  compiler: "bun",
  platform: `${process.platform}/${process.arch === "x64" ? "amd64" : process.arch}`,
};

export function groupVersionOf(kind: KindDef): string {
  return kind.group ? `${kind.group}/${kind.version}` : kind.version;
}

export function apiVersions(serverAddress: string): unknown {
  return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }] };
}

export function apiGroupList(kinds: KindDef[]): unknown {
  const groups = new Map<string, Set<string>>();
  for (const k of kinds) if (k.group) (groups.get(k.group) ?? groups.set(k.group, new Set()).get(k.group)!).add(k.version);
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: [...groups].map(([name, versions]) => {
      const vs = [...versions].map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
      return { name, versions: vs, preferredVersion: vs[0] };
    }),
  };
}

export function apiResourceList(kinds: KindDef[], groupVersion: string): unknown | undefined {
  const mine = kinds.filter((k) => groupVersionOf(k) === groupVersion);
  if (mine.length === 0) return undefined;
  const resources: unknown[] = [];
  for (const k of mine) {
    resources.push({
      name: k.resource,
      singularName: k.singular,
      namespaced: k.namespaced,
      kind: k.kind,
      verbs: k.verbs,
      ...(k.shortNames.length ? { shortNames: k.shortNames } : {}),
      ...(k.categories.length ? { categories: k.categories } : {}),
    });
    const sub = (name: string, kind: string, verbs: string[], group?: string, version?: string) =>
      resources.push({ name: `${k.resource}/${name}`, singularName: "", namespaced: k.namespaced, kind, verbs, ...(group !== undefined ? { group, version } : {}) });
    if (k.subresources.status) sub("status", k.kind, ["get", "patch", "update"]);
    if (k.subresources.scale) sub("scale", "Scale", ["get", "patch", "update"], "autoscaling", "v1");
    for (const extra of k.subresources.extra ?? []) {
      if (extra === "binding") sub(extra, "Binding", ["create"]);
      else if (extra === "eviction") sub(extra, "Eviction", ["create"], "policy", "v1");
      else if (extra === "log") sub(extra, "Pod", ["get"]);
      else if (extra === "finalize") sub(extra, k.kind, ["update"]);
      else if (extra === "token") sub(extra, "TokenRequest", ["create"], "authentication.k8s.io", "v1");
      else if (extra === "portforward") sub(extra, "PodPortForwardOptions", ["create", "get"]);
      else sub(extra, "PodExecOptions", ["create", "get"]);
    }
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion, resources };
}
