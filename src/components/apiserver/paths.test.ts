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
});
