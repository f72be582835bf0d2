// Tests of the server-side apply approximation and of the FieldsV1 field sets it records.
import { describe, expect, test } from "bun:test";
import { fieldSetOf, fromFieldsV1, toFieldsV1 } from "./fields.ts";
import { applyPatch, fieldsV1Of, PatchError } from "./index.ts";
import { shapeFor } from "./schema.ts";

const now = new Date("2026-01-02T03:04:05.678Z");
const time = "2026-01-02T03:04:05Z";

type Obj = Record<string, any>;
const apply = (current: unknown, config: unknown, fieldManager = "kubectl", force = false): Obj =>
  applyPatch("Deployment", current, config, "apply", { fieldManager, force, now }) as Obj;

const deploy = (image: string, extra: Obj = {}) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "d", labels: { app: "d" } },
  spec: {
    replicas: 2,
    template: { spec: { containers: [{ name: "c", image, ...extra }] } },
  },
});

function errorOf(run: () => unknown): PatchError {
  try {
    run();
  } catch (err) {
    if (err instanceof PatchError) return err;
    throw err;
  }
  throw new Error("expected a PatchError");
}

describe("field sets", () => {
  test("an applied Deployment's fields are written in the FieldsV1 notation", () => {
    expect(fieldsV1Of("Deployment", deploy("nginx", { ports: [{ containerPort: 80 }] }))).toEqual({
      "f:metadata": { "f:labels": { "f:app": {} } },
      "f:spec": {
        "f:replicas": {},
        "f:template": {
          "f:spec": {
            "f:containers": {
              'k:{"name":"c"}': {
                ".": {},
                "f:image": {},
                "f:name": {},
                "f:ports": { 'k:{"containerPort":80}': { ".": {}, "f:containerPort": {} } },
              },
            },
          },
        },
      },
    });
  });

  test("set lists record values, atomic lists and empty maps are leaves", () => {
    const obj = {
      metadata: { name: "x", finalizers: ["a"] },
      spec: { containers: [{ name: "c", args: ["x"], resources: {} }] },
    };
    expect(fieldsV1Of("Pod", obj)).toEqual({
      "f:metadata": { "f:finalizers": { 'v:"a"': {} } },
      "f:spec": { "f:containers": { 'k:{"name":"c"}': { ".": {}, "f:args": {}, "f:name": {}, "f:resources": {} } } },
    });
  });

  test("a field set survives a round trip through FieldsV1", () => {
    const set = fieldSetOf(deploy("nginx"), shapeFor("Deployment"));
    expect([...fromFieldsV1(toFieldsV1(set)).keys()].sort()).toEqual([...set.keys()].sort());
  });
});

describe("server-side apply", () => {
  test("applying a new object yields the configuration with one Apply entry", () => {
    expect(apply(undefined, deploy("nginx"))).toEqual({
      ...deploy("nginx"),
      metadata: {
        name: "d",
        labels: { app: "d" },
        managedFields: [
          {
            manager: "kubectl",
            operation: "Apply",
            apiVersion: "apps/v1",
            time,
            fieldsType: "FieldsV1",
            fieldsV1: fieldsV1Of("Deployment", deploy("nginx")),
          },
        ],
      },
    });
  });

  test("re-applying merges into the live object and keeps fields the configuration does not mention", () => {
    const live = apply(undefined, deploy("nginx"));
    live.metadata.uid = "u1";
    live.spec.template.spec.containers[0].imagePullPolicy = "Always"; // defaulted by the server
    live.status = { replicas: 2 };
    const out = apply(live, deploy("redis"));
    expect(out.metadata.uid).toBe("u1");
    expect(out.status).toEqual({ replicas: 2 });
    expect(out.spec.template.spec.containers).toEqual([{ name: "c", image: "redis", imagePullPolicy: "Always" }]);
    expect(out.metadata.managedFields).toHaveLength(1);
  });

  test("a field dropped from the configuration is removed when no one else owns it", () => {
    const live = apply(undefined, deploy("nginx", { env: [{ name: "A", value: "1" }] }));
    const out = apply(live, deploy("nginx"));
    expect(out.spec.template.spec.containers).toEqual([{ name: "c", image: "nginx" }]);
    const relabelled = apply(out, { ...deploy("nginx"), metadata: { name: "d" } });
    expect(relabelled.metadata.labels).toBeUndefined();
    expect(relabelled.metadata.name).toBe("d");
  });

  test("another manager owning a field with a different value is a conflict", () => {
    const live = apply(undefined, deploy("nginx"), "alice");
    const err = errorOf(() => apply(live, deploy("redis"), "bob"));
    expect(err.code).toBe(409);
    expect(err.message).toBe(
      'Apply failed with 1 conflict: conflict with "alice" using apps/v1: .spec.template.spec.containers[name="c"].image',
    );
    expect(err.causes).toEqual([
      {
        type: "FieldManagerConflict",
        message: 'conflict with "alice" using apps/v1',
        field: '.spec.template.spec.containers[name="c"].image',
      },
    ]);
  });

  test("several conflicts are listed per manager", () => {
    const live = apply(undefined, deploy("nginx"), "alice");
    const err = errorOf(() =>
      apply(live, { ...deploy("redis"), spec: { ...deploy("redis").spec, replicas: 3 } }, "bob"),
    );
    expect(err.message).toBe(
      'Apply failed with 2 conflicts: conflicts with "alice" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name="c"].image',
    );
    expect(err.causes?.map((c) => c.field)).toEqual([
      ".spec.replicas",
      '.spec.template.spec.containers[name="c"].image',
    ]);
  });

  test("applying the same values as another manager shares the fields without conflict", () => {
    const live = apply(undefined, deploy("nginx"), "alice");
    const out = apply(live, deploy("nginx"), "bob");
    expect(out.metadata.managedFields.map((e: Obj) => e.manager)).toEqual(["alice", "bob"]);
  });

  test("force takes the conflicting fields away from their owner", () => {
    const live = apply(undefined, deploy("nginx"), "alice");
    const out = apply(
      live,
      { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" }, spec: { replicas: 5 } },
      "bob",
      true,
    );
    expect(out.spec.replicas).toBe(5);
    const [alice, bob] = out.metadata.managedFields as Obj[];
    expect(alice!.manager).toBe("alice");
    expect(alice!.fieldsV1["f:spec"]["f:replicas"]).toBeUndefined();
    expect(alice!.fieldsV1["f:spec"]["f:template"]).toBeDefined();
    expect(bob!.fieldsV1).toEqual({ "f:spec": { "f:replicas": {} } });
    // alice no longer owns replicas, so bob's later changes do not conflict with her.
    expect(
      apply(out, { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" }, spec: { replicas: 6 } }, "bob")
        .spec.replicas,
    ).toBe(6);
  });

  test("an Update entry recorded by the API server also conflicts", () => {
    const live = {
      ...deploy("nginx"),
      metadata: {
        name: "d",
        managedFields: [
          {
            manager: "kubectl-create",
            operation: "Update",
            apiVersion: "apps/v1",
            fieldsType: "FieldsV1",
            fieldsV1: fieldsV1Of("Deployment", deploy("nginx")),
          },
        ],
      },
    };
    expect(errorOf(() => apply(live, deploy("redis"))).code).toBe(409);
  });

  test("a field removed by its applier stays when another manager also owns it", () => {
    const live = apply(apply(undefined, deploy("nginx"), "alice"), deploy("nginx"), "bob");
    const out = apply(live, { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" } }, "bob");
    expect(out.spec.template.spec.containers).toEqual([{ name: "c", image: "nginx" }]);
  });

  test("apply without a field manager is a bad request", () => {
    expect(errorOf(() => applyPatch("Pod", undefined, { kind: "Pod" }, "apply", {})).code).toBe(400);
  });

  test("an apply body that is not an object is a bad request", () => {
    expect(errorOf(() => apply(undefined, "just a string")).code).toBe(400);
  });

  test("managedFields and nulls in the configuration are ignored", () => {
    const config = {
      ...deploy("nginx"),
      metadata: { name: "d", labels: { app: "d", gone: null }, managedFields: [{ manager: "x" }] },
    };
    const out = apply(undefined, config);
    expect(out.metadata.labels).toEqual({ app: "d" });
    expect(out.metadata.managedFields.map((e: Obj) => e.manager)).toEqual(["kubectl"]);
  });

  test("the live object is not modified", () => {
    const live = apply(undefined, deploy("nginx"));
    const before = structuredClone(live);
    apply(live, deploy("redis"));
    expect(live).toEqual(before);
  });
});
