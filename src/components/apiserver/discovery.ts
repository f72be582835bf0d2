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
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

export function apiGroupList(kinds: KindDef[]): unknown {
  const groups = new Map<string, Set<string>>();
  for (const k of kinds)
    if (k.group) (groups.get(k.group) ?? groups.set(k.group, new Set()).get(k.group)!).add(k.version);
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
      resources.push({
        name: `${k.resource}/${name}`,
        singularName: "",
        namespaced: k.namespaced,
        kind,
        verbs,
        ...(group !== undefined ? { group, version } : {}),
      });
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

// Aggregated discovery (apidiscovery.k8s.io v2, and v2beta1 for kubectl 1.27-1.29): every
// group-version's resources in one document for /api and one for /apis, built from the same
// APIResourceLists as the legacy documents, so both always agree.
type LegacyResource = {
  name: string;
  singularName: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  group?: string;
  version?: string;
};
type LegacyList = { groupVersion: string; resources: LegacyResource[] };

export type DiscoveryVersion = "v2" | "v2beta1";

/** The aggregated version the Accept header asks for before any plain JSON, if any. */
export function wantsAggregated(accept: string | null | undefined): DiscoveryVersion | undefined {
  for (const entry of (accept ?? "").split(",")) {
    const params = new Map(
      entry
        .split(";")
        .slice(1)
        .map((p) => p.trim().split("=") as [string, string]),
    );
    const type = entry.split(";")[0]!.trim();
    if (type !== "application/json" && type !== "*/*") continue;
    if (!params.has("g")) return undefined;
    const v = params.get("v");
    if (
      params.get("g") === "apidiscovery.k8s.io" &&
      params.get("as") === "APIGroupDiscoveryList" &&
      (v === "v2" || v === "v2beta1")
    )
      return v;
  }
  return undefined;
}

export const aggregatedContentType = (v: DiscoveryVersion) =>
  `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`;

function versionDiscovery(list: LegacyList): unknown {
  const [group, version] = list.groupVersion.includes("/") ? list.groupVersion.split("/") : ["", list.groupVersion];
  const main = list.resources.filter((r) => !r.name.includes("/"));
  return {
    version,
    resources: main.map((r) => ({
      resource: r.name,
      responseKind: { group, version, kind: r.kind },
      scope: r.namespaced ? "Namespaced" : "Cluster",
      singularResource: r.singularName || r.kind.toLowerCase(),
      verbs: r.verbs,
      ...(r.shortNames?.length ? { shortNames: r.shortNames } : {}),
      ...(r.categories?.length ? { categories: r.categories } : {}),
      ...subresourcesOf(list, r.name, group!, version!),
    })),
    freshness: "Current",
  };
}

function subresourcesOf(list: LegacyList, name: string, group: string, version: string): { subresources?: unknown[] } {
  const subs = list.resources.filter((s) => s.name.startsWith(`${name}/`));
  if (subs.length === 0) return {};
  return {
    subresources: subs.map((s) => ({
      subresource: s.name.slice(name.length + 1),
      responseKind: { group: s.group ?? group, version: s.version ?? version, kind: s.kind },
      verbs: s.verbs,
    })),
  };
}

/** APIGroupDiscoveryList for /api (core, `groups` undefined) or /apis (one entry per group, preferred version first). */
export function aggregatedDiscovery(v: DiscoveryVersion, groups: { name: string; lists: LegacyList[] }[]): unknown {
  return {
    kind: "APIGroupDiscoveryList",
    apiVersion: `apidiscovery.k8s.io/${v}`,
    metadata: {},
    items: groups.map((g) => ({
      metadata: g.name ? { name: g.name, creationTimestamp: null } : { creationTimestamp: null },
      versions: g.lists.map(versionDiscovery),
    })),
  };
}
