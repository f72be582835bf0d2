import { describe, expect, test } from "bun:test";
import { deleteBody, listQuery, queryString, resourcePath, watchQuery, type KindRef } from "./paths.ts";

const pods: KindRef = { group: "", version: "v1", resource: "pods", namespaced: true };
const nodes: KindRef = { group: "", version: "v1", resource: "nodes", namespaced: false };
const deployments: KindRef = { group: "apps", version: "v1", resource: "deployments", namespaced: true };

describe("resourcePath", () => {
  test.each([
    ["core collection in a namespace", pods, "default", undefined, undefined, "/api/v1/namespaces/default/pods"],
    ["core collection across namespaces", pods, undefined, undefined, undefined, "/api/v1/pods"],
    ["core object", pods, "ns1", "web-1", undefined, "/api/v1/namespaces/ns1/pods/web-1"],
    ["core subresource", pods, "ns1", "web-1", "log", "/api/v1/namespaces/ns1/pods/web-1/log"],
    ["cluster-scoped kinds ignore the namespace", nodes, "default", "n1", "status", "/api/v1/nodes/n1/status"],
    [
      "grouped kinds live under /apis",
      deployments,
      "prod",
      "api",
      "scale",
      "/apis/apps/v1/namespaces/prod/deployments/api/scale",
    ],
    ["grouped collection across namespaces", deployments, undefined, undefined, undefined, "/apis/apps/v1/deployments"],
  ] as const)("%s", (_, kind, ns, name, sub, want) => {
    expect(resourcePath(kind, ns, name, sub)).toBe(want);
  });

  test("an empty name is refused rather than silently addressing the collection", () => {
    expect(() => resourcePath(pods, "default", "")).toThrow(/name is required/);
  });

  test("names are escaped", () => {
    expect(resourcePath(pods, "default", "a b")).toBe("/api/v1/namespaces/default/pods/a%20b");
  });
});

describe("query parameters", () => {
  test("list options use Kubernetes names and drop what is unset", () => {
    expect(queryString(listQuery({ labelSelector: "app=web,tier in (a,b)", limit: 500, continue: "" }))).toBe(
      "?labelSelector=app%3Dweb%2Ctier+in+%28a%2Cb%29&limit=500",
    );
    expect(queryString(listQuery({}))).toBe("");
    expect(queryString(listQuery({ fieldSelector: "metadata.name=x", resourceVersion: "0" }))).toBe(
      "?fieldSelector=metadata.name%3Dx&resourceVersion=0",
    );
  });

  test("watch options ask for watch=true and pass bookmarks and the timeout, never paging", () => {
    const q = new URLSearchParams(
      queryString(
        watchQuery({
          resourceVersion: "42",
          allowWatchBookmarks: true,
          timeoutSeconds: 30,
          limit: 5,
          continue: "c",
          fieldSelector: "spec.nodeName=n1",
        }),
      ),
    );
    expect(Object.fromEntries(q)).toEqual({
      fieldSelector: "spec.nodeName=n1",
      resourceVersion: "42",
      watch: "true",
      allowWatchBookmarks: "true",
      timeoutSeconds: "30",
    });
  });

  test("delete options go in a DeleteOptions body", () => {
    expect(deleteBody({ gracePeriodSeconds: 0, propagationPolicy: "Foreground", preconditions: { uid: "u" } })).toEqual(
      {
        kind: "DeleteOptions",
        apiVersion: "v1",
        gracePeriodSeconds: 0,
        propagationPolicy: "Foreground",
        preconditions: { uid: "u" },
      },
    );
    expect(deleteBody()).toEqual({ kind: "DeleteOptions", apiVersion: "v1" });
  });
});
