// Regression tests for the hostile inputs of issue 16: each once gave a 500, stored something
// unreadable, or changed something it should not have. Every answer is a 4xx Status naming the
// problem, as kube-apiserver's (Go's decoder messages for wrong types).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { pod, startTestApi, type TestApi } from "../helpers/api.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

const NS = "/api/v1/namespaces/default";
const jsonPatch = { "content-type": "application/json-patch+json" };
const mergePatch = { "content-type": "application/merge-patch+json" };
const TABLE = { accept: "application/json;as=Table;v=v1;g=meta.k8s.io" };

describe("wrong types are 400s with Go's decoder message", () => {
  test("a container given as a string or null inside an otherwise valid pod", async () => {
    const asString = await api.json("POST", `${NS}/pods`, { ...pod("s"), spec: { containers: ["x"] } });
    expect(asString.status).toBe(400);
    expect(asString.body.message).toBe(
      'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field ' +
        "PodSpec.spec.containers of type v1.Container",
    );
    // null is Go's zero value: an empty container, which validation refuses for its missing name.
    const asNull = await api.json("POST", `${NS}/pods`, { ...pod("n"), spec: { containers: [null] } });
    expect(asNull.status).toBe(422);
    expect(asNull.body.details.causes.map((c: any) => c.field)).toContain("spec.containers[0].name");
  });

  test("null in a service's ports on update", async () => {
    expect(
      (
        await api.json("POST", `${NS}/services`, {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: "s" },
          spec: { ports: [{ port: 80 }] },
        })
      ).status,
    ).toBe(201);
    const svc = (await api.json("GET", `${NS}/services/s`)).body;
    const r = await api.json("PUT", `${NS}/services/s`, { ...svc, spec: { ...svc.spec, ports: [null] } });
    expect(r.status).toBe(422);
    expect(r.body.message).toContain("spec.ports[0].port");
  });

  test("expirationSeconds beyond int64 or 2^32 on TokenRequest", async () => {
    const huge = await api.json("POST", `${NS}/serviceaccounts/default/token`, {
      spec: { expirationSeconds: 2 ** 63 },
    });
    expect(huge.status).toBe(400);
    expect(huge.body.message).toContain("TokenRequestSpec.spec.expirationSeconds of type int64");
    const big = await api.json("POST", `${NS}/serviceaccounts/default/token`, { spec: { expirationSeconds: 2 ** 40 } });
    expect(big.status).toBe(422);
    expect(big.body.message).toContain("may not specify a duration larger than 2^32 seconds");
  });

  test("replicas of 2^31 or 1e20 through the scale subresource (int32)", async () => {
    const d = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d" },
      spec: {
        selector: { matchLabels: { a: "b" } },
        template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "i" }] } },
      },
    };
    expect((await api.json("POST", "/apis/apps/v1/namespaces/default/deployments", d)).status).toBe(201);
    const put = await api.json("PUT", "/apis/apps/v1/namespaces/default/deployments/d/scale", {
      apiVersion: "autoscaling/v1",
      kind: "Scale",
      metadata: { name: "d" },
      spec: { replicas: 2 ** 31 },
    });
    expect(put.status).toBe(400);
    expect(put.body.message).toBe(
      'Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal number 2147483648 into Go ' +
        "struct field ScaleSpec.spec.replicas of type int32",
    );
    const patch = await api.json(
      "PATCH",
      "/apis/apps/v1/namespaces/default/deployments/d/scale",
      { spec: { replicas: 1e20 } },
      mergePatch,
    );
    expect(patch.status).toBe(400);
    const direct = await api.json(
      "PATCH",
      "/apis/apps/v1/namespaces/default/deployments/d",
      { spec: { replicas: 1.5 } },
      mergePatch,
    );
    expect(direct.status).toBe(400);
    expect((await api.json("GET", "/apis/apps/v1/namespaces/default/deployments/d")).body.spec.replicas).toBe(1);
  });

  test("apiVersion and kind must be strings naming the endpoint's kind", async () => {
    const secret = await api.json("POST", `${NS}/pods`, { ...pod("k"), kind: "Secret" });
    expect(secret.status).toBe(400);
    expect(secret.body.message).toContain("cannot be handled as a Pod");
    expect((await api.json("POST", `${NS}/pods`, { ...pod("k"), apiVersion: "apps/v1" })).status).toBe(400);
    expect((await api.json("POST", `${NS}/pods`, { ...pod("k"), kind: 5 })).status).toBe(400);
    const ok = await api.json("POST", `${NS}/pods`, {
      metadata: { name: "k" },
      spec: { containers: [{ name: "c", image: "i" }] },
    });
    expect([ok.status, ok.body.kind, ok.body.apiVersion]).toEqual([201, "Pod", "v1"]);
  });

  test("bodies nested deeper than Go's decoder accepts are refused", async () => {
    let deep: any = {};
    for (let i = 0; i < 10005; i++) deep = { a: deep };
    const r = await api.json("POST", `${NS}/configmaps`, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "deep" },
      x: deep,
    });
    expect(r.status).toBe(400);
    expect(r.body.message).toContain("exceeded max depth");
    expect(
      (
        await api.json(
          "PATCH",
          `${NS}/serviceaccounts/default`,
          { metadata: { annotations: { a: "b" } }, x: deep },
          mergePatch,
        )
      ).status,
    ).toBe(400);
  });
});

describe("stored-only kinds are checked by their whole Go schema", () => {
  const cases: [string, string, unknown][] = [
    ["/apis/networking.k8s.io/v1/namespaces/default/ingresses", "Ingress", { rules: { x: 1 } }],
    ["/apis/networking.k8s.io/v1/namespaces/default/networkpolicies", "NetworkPolicy", { podSelector: "x" }],
    ["/apis/policy/v1/namespaces/default/poddisruptionbudgets", "PodDisruptionBudget", { selector: "x" }],
    [`${NS}/limitranges`, "LimitRange", { limits: [{ type: "Container", defaultRequest: ["x"] }] }],
    [`${NS}/limitranges`, "LimitRange", { limits: [{ type: "Container", defaultRequest: { cpu: "lots" } }] }],
  ];
  test("create refuses them, and every list (and table) of the kind stays readable", async () => {
    for (const [path, kind, spec] of cases) {
      const apiVersion = path.startsWith("/api/v1") ? "v1" : path.split("/").slice(2, 4).join("/");
      const r = await api.json("POST", path, { apiVersion, kind, metadata: { name: "bad" }, spec });
      expect([kind, r.status]).toEqual([kind, 400]);
      expect(r.body.message).toContain(`cannot be handled as a ${kind}`);
      expect((await api.json("GET", path)).status).toBe(200);
      expect((await api.json("GET", path, undefined, TABLE)).status).toBe(200);
    }
    // ... so pods can still be created and evicted in the namespace.
    expect((await api.json("POST", `${NS}/pods`, pod("after"))).status).toBe(201);
    expect(
      (
        await api.json("POST", `${NS}/pods/after/eviction`, {
          apiVersion: "policy/v1",
          kind: "Eviction",
          metadata: { name: "after" },
        })
      ).status,
    ).toBe(201);
  });

  test("a patch cannot produce what a create would refuse", async () => {
    const path = "/apis/networking.k8s.io/v1/namespaces/default/ingresses";
    expect(
      (
        await api.json("POST", path, {
          apiVersion: "networking.k8s.io/v1",
          kind: "Ingress",
          metadata: { name: "ok" },
          spec: { rules: [] },
        })
      ).status,
    ).toBe(201);
    expect((await api.json("PATCH", `${path}/ok`, { spec: { rules: { x: 1 } } }, mergePatch)).status).toBe(400);
    expect(
      (await api.json("PATCH", `${path}/ok`, [{ op: "replace", path: "/spec/rules", value: "x" }], jsonPatch)).status,
    ).toBe(400);
    expect(
      (await api.json("PATCH", `${path}/ok`, [{ op: "replace", path: "/kind", value: "Secret" }], jsonPatch)).status,
    ).toBe(400);
    expect((await api.json("GET", path, undefined, TABLE)).status).toBe(200);
  });
});

describe("JSON patches", () => {
  test("a huge or malformed array index is a 422, not an out-of-memory", async () => {
    expect((await api.json("POST", `${NS}/pods`, pod("jp"))).status).toBe(201);
    for (const ops of [
      [{ op: "add", path: "/spec/containers/99999999999", value: {} }],
      [
        { op: "add", path: "/metadata/finalizers", value: [] },
        { op: "add", path: "/metadata/finalizers/4294967294", value: "x" },
      ],
      [{ op: "replace", path: "/spec/containers/1e9", value: {} }],
      [{ op: "move", from: "/spec/containers", path: "/spec/containers/0" }],
    ]) {
      const r = await api.json("PATCH", `${NS}/pods/jp`, ops, jsonPatch);
      expect(r.status).toBe(422);
    }
  });

  test("copies cannot grow an object past the size limit", async () => {
    const grow = [
      { op: "add", path: "/spec/x", value: ["y".repeat(2000)] },
      ...Array.from({ length: 22 }, () => ({ op: "copy", from: "/spec/x", path: "/spec/x/0" })),
    ];
    const r = await api.json("PATCH", `${NS}/pods/jp`, grow, jsonPatch);
    expect(r.status).toBe(413);
    expect(r.body.reason).toBe("RequestEntityTooLarge");
    const pod = (await api.json("GET", `${NS}/pods/jp`)).body;
    expect(pod.spec.x).toBeUndefined();
  });
});

describe("deletion and eviction", () => {
  test("a DELETE body that is not a DeleteOptions is a 400 and deletes nothing", async () => {
    expect((await api.json("POST", `${NS}/pods`, pod("del"))).status).toBe(201);
    const r = await api.json("DELETE", `${NS}/pods/del`, { preconditions: "x", dryRun: [{}] });
    expect(r.status).toBe(400);
    expect(r.body.message).toContain("DeleteOptions.preconditions of type v1.Preconditions");
    expect((await api.json("DELETE", `${NS}/pods/del`, { dryRun: ["Sometimes"] })).status).toBe(422);
    expect((await api.json("GET", `${NS}/pods/del`)).status).toBe(200);
  });

  test("an eviction body with wrong field types is a 400; a dry-run eviction deletes nothing", async () => {
    expect((await api.json("POST", `${NS}/pods`, pod("ev"))).status).toBe(201);
    const bad = await api.json("POST", `${NS}/pods/ev/eviction`, {
      apiVersion: "policy/v1",
      kind: "Eviction",
      metadata: "x",
      deleteOptions: [1],
    });
    expect(bad.status).toBe(400);
    expect(
      (
        await api.json("POST", `${NS}/pods/ev/eviction`, {
          apiVersion: "policy/v1",
          kind: "Eviction",
          metadata: { name: "other" },
        })
      ).status,
    ).toBe(400);
    const dry = await api.json("POST", `${NS}/pods/ev/eviction?dryRun=All`, {
      apiVersion: "policy/v1",
      kind: "Eviction",
      metadata: { name: "ev" },
    });
    expect(dry.status).toBe(201);
    const dryBody = await api.json("POST", `${NS}/pods/ev/eviction`, {
      apiVersion: "policy/v1",
      kind: "Eviction",
      metadata: { name: "ev" },
      deleteOptions: { dryRun: ["All"] },
    });
    expect(dryBody.status).toBe(201);
    expect((await api.json("GET", `${NS}/pods/ev`)).status).toBe(200);
    expect(
      (
        await api.json("POST", `${NS}/pods/ev/eviction`, {
          apiVersion: "policy/v1",
          kind: "Eviction",
          metadata: { name: "ev" },
        })
      ).status,
    ).toBe(201);
    expect((await api.json("GET", `${NS}/pods/ev`)).status).toBe(404);
  });
});
