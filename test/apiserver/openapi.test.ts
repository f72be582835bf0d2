// /openapi/v2 and /openapi/v3 as kubectl reads them: every served kind described (with its
// group-version-kind and upstream's patch and list extensions), no dangling $ref, PATCH
// operations that declare fieldValidation, v3 hashes that are cacheable and redirect when stale;
// a custom kind's own schema is published and drives the unknown-field check.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { allKinds } from "../../src/api/registry.ts";
import { defineKind } from "../../src/api/kinds/define.ts";
import type { KindDef } from "../../src/api/types.ts";
import { startTestApi, type TestApi } from "../helpers/api.ts";

const widgetKind: KindDef = {
  ...defineKind({
    group: "stable.example.com",
    version: "v1",
    kind: "Widget",
    resource: "widgets",
    namespaced: true,
    validate: () => [],
    table: { columns: [], row: () => [] },
  }),
  openAPIV3Schema: {
    type: "object",
    properties: {
      spec: {
        type: "object",
        description: "The widget's wishes.",
        properties: {
          size: { type: "integer", description: "How big." },
          extra: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        },
      },
    },
  },
};

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ kinds: [...allKinds(), widgetKind] });
});
afterAll(() => api.close());

/** Every $ref of a document points at one of its own definitions. */
function danglingRefs(doc: any, prefix: string, defs: Record<string, unknown>): string[] {
  const refs = new Set<string>();
  JSON.stringify(doc, (k, v) => {
    if (k === "$ref" && typeof v === "string") refs.add(v);
    return v;
  });
  return [...refs].filter((r) => !r.startsWith(prefix) || !(r.slice(prefix.length) in defs));
}

describe("/openapi/v2", () => {
  test("JSON: every served kind with its group-version-kind, upstream's extensions, no dangling $ref", async () => {
    const { status, body } = await api.json("GET", "/openapi/v2", undefined, { accept: "application/json" });
    expect(status).toBe(200);
    expect(body.swagger).toBe("2.0");
    const defs = body.definitions;
    for (const k of [...allKinds(), widgetKind]) {
      const def = Object.values<any>(defs).find((d) =>
        d["x-kubernetes-group-version-kind"]?.some(
          (g: any) => g.group === k.group && g.version === k.version && g.kind === k.kind,
        ),
      );
      expect(def, `${k.group}/${k.version} ${k.kind}`).toBeDefined();
    }
    expect(danglingRefs(body, "#/definitions/", defs)).toEqual([]);
    const ports = defs["io.k8s.api.core.v1.Container"].properties.ports;
    expect(ports).toMatchObject({
      "x-kubernetes-patch-merge-key": "containerPort",
      "x-kubernetes-patch-strategy": "merge",
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["containerPort", "protocol"],
    });
    expect(defs["io.k8s.api.core.v1.Probe"].properties.grpc.$ref).toBe("#/definitions/io.k8s.api.core.v1.GRPCAction");
    expect(defs["com.example.stable.v1.Widget"].properties.spec.properties.size.description).toBe("How big.");
    const patch = body.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"].patch;
    expect(patch["x-kubernetes-group-version-kind"]).toEqual({ group: "apps", kind: "Deployment", version: "v1" });
    expect(patch.parameters.map((p: any) => p.name)).toContain("fieldValidation");
  });

  test("kubectl's protobuf-only request gets an empty protobuf document", async () => {
    const res = await api.request("GET", "/openapi/v2", undefined, {
      accept: "application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
    });
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });
});

describe("/openapi/v3", () => {
  test("the index lists each group-version with a hash, and each document is whole", async () => {
    const { body: index } = await api.json("GET", "/openapi/v3");
    const paths = Object.keys(index.paths);
    for (const gv of ["api/v1", "apis/apps/v1", "apis/batch/v1", "apis/autoscaling/v2", "apis/stable.example.com/v1"])
      expect(paths).toContain(gv);
    for (const [gv, entry] of Object.entries<any>(index.paths)) {
      expect(entry.serverRelativeURL).toMatch(
        new RegExp(`^/openapi/v3/${gv.replaceAll(".", "\\.")}\\?hash=[0-9A-F]{128}$`),
      );
      const res = await api.request("GET", entry.serverRelativeURL);
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-control")).toBe("public, immutable, max-age=31536000");
      const doc: any = await res.json();
      expect(doc.openapi).toBe("3.0.0");
      expect(danglingRefs(doc, "#/components/schemas/", doc.components.schemas)).toEqual([]);
    }
  });

  test("apps/v1: PATCH declares fieldValidation, properties wrap $ref in allOf", async () => {
    const { body: index } = await api.json("GET", "/openapi/v3");
    const { body: doc } = await api.json("GET", index.paths["apis/apps/v1"].serverRelativeURL);
    const patch = doc.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"].patch;
    expect(patch["x-kubernetes-group-version-kind"]).toEqual({ group: "apps", kind: "Deployment", version: "v1" });
    expect(patch.parameters).toContainEqual(expect.objectContaining({ name: "fieldValidation", in: "query" }));
    const strategy = doc.components.schemas["io.k8s.api.apps.v1.DeploymentSpec"].properties.strategy;
    expect(strategy.allOf).toEqual([{ $ref: "#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy" }]);
    expect(strategy.description).toContain("deployment strategy");
  });

  test("a stale hash redirects to the current one; an unknown group-version is 404", async () => {
    const stale = await api.request("GET", "/openapi/v3/apis/apps/v1?hash=ABC");
    expect(stale.status).toBe(301);
    const { body: index } = await api.json("GET", "/openapi/v3");
    expect(stale.headers.get("location")).toBe(index.paths["apis/apps/v1"].serverRelativeURL);
    expect((await api.request("GET", "/openapi/v3/apis/nope/v1")).status).toBe(404);
  });
});

describe("a custom kind's schema", () => {
  test("drives the unknown-field check: unknown fields refused under Strict, preserved where the schema says so", async () => {
    const path = "/apis/stable.example.com/v1/namespaces/default/widgets";
    const bad = await api.json("POST", `${path}?fieldValidation=Strict`, {
      apiVersion: "stable.example.com/v1",
      kind: "Widget",
      metadata: { name: "w" },
      spec: { size: 1, colour: "red" },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe(
      'Widget in version "v1" cannot be handled as a Widget: strict decoding error: unknown field "spec.colour"',
    );
    const ok = await api.json("POST", `${path}?fieldValidation=Strict`, {
      apiVersion: "stable.example.com/v1",
      kind: "Widget",
      metadata: { name: "w" },
      spec: { size: 1, extra: { any: { thing: 1 } } },
    });
    expect(ok.status).toBe(201);
    expect(ok.body.spec.extra).toEqual({ any: { thing: 1 } });
  });
});
