import { describe, expect, test } from "bun:test";
import { resourceRoute } from "./paths.ts";

describe("resourceRoute: what the generic resource routes are handed", () => {
  test("core and group paths, with and without a query", () => {
    expect(resourceRoute("https://127.0.0.1:6443/api/v1/namespaces/default/pods/p?pretty=1")).toEqual({
      path: "/api/v1/namespaces/default/pods/p",
      group: "",
      version: "v1",
      rest: "namespaces/default/pods/p",
    });
    expect(resourceRoute("http://x/apis/apps/v1/deployments")).toEqual({
      path: "/apis/apps/v1/deployments",
      group: "apps",
      version: "v1",
      rest: "deployments",
    });
    expect(resourceRoute("http://x/api/v1")?.rest).toBe("");
  });

  test("anything else is left to the router: other paths, an empty version or group, percent-encoding", () => {
    for (const url of [
      "http://x/version",
      "http://x/api",
      "http://x/api/",
      "http://x/apis/apps",
      "http://x/apis/apps/",
      "http://x/apis//v1/x",
      "http://x/api/v1/namespaces/default/configmaps/a%3Ab",
      "http://x/openapi/v2",
    ])
      expect(resourceRoute(url)).toBeUndefined();
  });

  test("random paths are routed as the split-and-join reading routed them", () => {
    // The former implementation, as the reference.
    const reference = (url: string) => {
      const start = url.indexOf("/", url.indexOf("//") + 2);
      if (start < 0) return undefined;
      const q = url.indexOf("?", start);
      const path = q < 0 ? url.slice(start) : url.slice(start, q);
      if (path.includes("%") || path.includes("#")) return undefined;
      const segs = path.split("/");
      if (segs[1] === "api" && segs[2]) return { path, group: "", version: segs[2], rest: segs.slice(3).join("/") };
      if (segs[1] === "apis" && segs[2] && segs[3])
        return { path, group: segs[2], version: segs[3], rest: segs.slice(4).join("/") };
      return undefined;
    };
    const parts = ["", "api", "apis", "apps", "v1", "namespaces", "ns", "pods", "p", "binding", "?", "x?y=1", "a%2F"];
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed;
    };
    for (let i = 0; i < 20_000; i++) {
      const n = next() % 7;
      const segs = Array.from({ length: n }, () => parts[next() % parts.length]);
      const url = `http://in-process${n ? "/" : ""}${segs.join("/")}${next() % 3 === 0 ? "/" : ""}${next() % 4 === 0 ? "?watch=1" : ""}`;
      expect(resourceRoute(url)).toEqual(reference(url));
    }
  });
});
