// The generic handler's verbs over a real store: metadata the server owns, optimistic
// concurrency, status vs main resource, generation, validation and error Status codes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { pod, startTestApi, type TestApi } from "../helpers/api.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

const deployment = (name: string, replicas = 1) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: "c", image: "localhost/busybox:latest" }] },
    },
  },
});

describe("create", () => {
  test("a created pod gets uid, resourceVersion, creationTimestamp, defaults and Pending status", async () => {
    const { status, body } = await api.json("POST", "/api/v1/namespaces/default/pods", {
      ...pod("p1"),
      status: { phase: "Running" },
    });
    expect(status).toBe(201);
    expect(body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(body.metadata.resourceVersion)).toBeGreaterThan(0);
    expect(body.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(body.metadata.namespace).toBe("default");
    expect(body.spec.restartPolicy).toBe("Always");
    expect(body.status.phase).toBe("Pending");
  });

  test("creating the same name twice is 409 AlreadyExists", async () => {
    const { status, body } = await api.json("POST", "/api/v1/namespaces/default/pods", pod("p1"));
    expect(status).toBe(409);
    expect(body).toMatchObject({
      kind: "Status",
      status: "Failure",
      reason: "AlreadyExists",
      code: 409,
      message: 'pods "p1" already exists',
    });
  });

  test("generateName makes a unique name", async () => {
    const a = await api.json("POST", "/api/v1/namespaces/default/pods", {
      ...pod(""),
      metadata: { generateName: "web-" },
    });
    const b = await api.json("POST", "/api/v1/namespaces/default/pods", {
      ...pod(""),
      metadata: { generateName: "web-" },
    });
    expect(a.status).toBe(201);
    expect(a.body.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
    expect(b.body.metadata.name).not.toBe(a.body.metadata.name);
  });

  test("an invalid pod is 422 Invalid naming each bad field, and is not stored", async () => {
    const bad = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "Bad_Name" },
      spec: { containers: [{ name: "c" }] },
    };
    const { status, body } = await api.json("POST", "/api/v1/namespaces/default/pods", bad);
    expect(status).toBe(422);
    expect(body.reason).toBe("Invalid");
    const fields = body.details.causes.map((c: any) => c.field);
    expect(fields).toContain("metadata.name");
    expect(fields).toContain("spec.containers[0].image");
    expect((await api.json("GET", "/api/v1/namespaces/default/pods/Bad_Name")).status).toBe(404);
  });

  test("an unparsable body is 400 BadRequest", async () => {
    const res = await api.request("POST", "/api/v1/namespaces/default/pods", "{not json");
    expect(res.status).toBe(400);
    expect((await res.json()).reason).toBe("BadRequest");
  });

  test("a body over 3 MiB is 413", async () => {
    const big = { ...pod("big"), metadata: { name: "big", annotations: { a: "x".repeat(3 * 1024 * 1024 + 10) } } };
    const res = await api.request("POST", "/api/v1/namespaces/default/pods", big);
    expect(res.status).toBe(413);
  });

  test("a body over 3 MiB in UTF-8 bytes though not in characters is 413; one just under is read", async () => {
    const over = { ...pod("wide"), metadata: { name: "wide", annotations: { a: "é".repeat(1_600_000) } } };
    expect((await api.request("POST", "/api/v1/namespaces/default/pods", over)).status).toBe(413);
    const under = { ...pod("narrow"), metadata: { name: "narrow", annotations: { a: "é".repeat(1_000_000) } } };
    const res = await api.json("POST", "/api/v1/namespaces/default/pods", under);
    // Read and decoded: refused for its annotations' size (256 KiB), not for the body's.
    expect(res.status).toBe(422);
    expect(res.body.message).toContain("metadata.annotations: Too long");
  });

  test("creating in a namespace that does not exist is 404", async () => {
    const { status, body } = await api.json("POST", "/api/v1/namespaces/nope/pods", pod("x"));
    expect(status).toBe(404);
    expect(body.message).toBe('namespaces "nope" not found');
  });

  test("a namespace in the body that differs from the path is 400", async () => {
    const { status } = await api.json("POST", "/api/v1/namespaces/default/pods", {
      ...pod("x"),
      metadata: { name: "x", namespace: "kube-system" },
    });
    expect(status).toBe(400);
  });

  test("dryRun=All validates and answers without storing", async () => {
    const { status } = await api.json("POST", "/api/v1/namespaces/default/pods?dryRun=All", pod("dry"));
    expect(status).toBe(201);
    expect((await api.json("GET", "/api/v1/namespaces/default/pods/dry")).status).toBe(404);
  });
});

describe("update", () => {
  test("a stale resourceVersion is 409 Conflict and the fresh one wins", async () => {
    const created = (await api.json("POST", "/apis/apps/v1/namespaces/default/deployments", deployment("d1"))).body;
    const first = await api.json("PUT", "/apis/apps/v1/namespaces/default/deployments/d1", {
      ...created,
      spec: { ...created.spec, replicas: 2 },
    });
    expect(first.status).toBe(200);
    const stale = await api.json("PUT", "/apis/apps/v1/namespaces/default/deployments/d1", {
      ...created,
      spec: { ...created.spec, replicas: 3 },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.reason).toBe("Conflict");
    expect((await api.json("GET", "/apis/apps/v1/namespaces/default/deployments/d1")).body.spec.replicas).toBe(2);
  });

  test("generation is bumped by spec changes only", async () => {
    const created = (await api.json("POST", "/apis/apps/v1/namespaces/default/deployments", deployment("d2"))).body;
    expect(created.metadata.generation).toBe(1);
    const labelled = (
      await api.json("PUT", "/apis/apps/v1/namespaces/default/deployments/d2", {
        ...created,
        metadata: { ...created.metadata, labels: { a: "b" } },
      })
    ).body;
    expect(labelled.metadata.generation).toBe(1);
    const scaled = (
      await api.json("PUT", "/apis/apps/v1/namespaces/default/deployments/d2", {
        ...labelled,
        spec: { ...labelled.spec, replicas: 5 },
      })
    ).body;
    expect(scaled.metadata.generation).toBe(2);
  });

  test("status is ignored on the main resource and spec is ignored on /status", async () => {
    const created = (await api.json("POST", "/apis/apps/v1/namespaces/default/deployments", deployment("d3"))).body;
    const main = (
      await api.json("PUT", "/apis/apps/v1/namespaces/default/deployments/d3", { ...created, status: { replicas: 9 } })
    ).body;
    expect(main.status?.replicas).toBeUndefined();
    const st = (
      await api.json("PUT", "/apis/apps/v1/namespaces/default/deployments/d3/status", {
        ...main,
        spec: { ...main.spec, replicas: 7 },
        status: { replicas: 4 },
      })
    ).body;
    expect(st.status.replicas).toBe(4);
    expect(st.spec.replicas).toBe(1);
  });

  test("an update that changes nothing keeps the resourceVersion", async () => {
    const created = (
      await api.json("POST", "/api/v1/namespaces/default/configmaps", {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "cm1" },
        data: { a: "1" },
      })
    ).body;
    const same = (await api.json("PUT", "/api/v1/namespaces/default/configmaps/cm1", created)).body;
    expect(same.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
  });

  test("a name in the body that differs from the URL is 400; a missing object is 404", async () => {
    expect(
      (
        await api.json("PUT", "/api/v1/namespaces/default/configmaps/cm1", {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "other" },
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await api.json("PUT", "/api/v1/namespaces/default/configmaps/none", {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "none" },
        })
      ).status,
    ).toBe(404);
  });
});

describe("list, get, delete", () => {
  test("label and field selectors filter lists", async () => {
    for (const [n, app] of [
      ["l1", "a"],
      ["l2", "b"],
      ["l3", "a"],
    ] as const)
      await api.json("POST", "/api/v1/namespaces/kube-public/pods", { ...pod(n, { labels: { app, tier: "web" } }) });
    const names = async (q: string) =>
      (await api.json("GET", `/api/v1/namespaces/kube-public/pods?${q}`)).body.items.map((p: any) => p.metadata.name);
    expect(await names("labelSelector=app%3Da")).toEqual(["l1", "l3"]);
    expect(await names("labelSelector=app%20in%20(b)")).toEqual(["l2"]);
    expect(await names("labelSelector=app!%3Da,tier")).toEqual(["l2"]);
    expect(await names("fieldSelector=metadata.name%3Dl3")).toEqual(["l3"]);
    expect(await names("fieldSelector=status.phase%3DPending&labelSelector=app%3Db")).toEqual(["l2"]);
  });

  test("limit and continue page through a list", async () => {
    const seen: string[] = [];
    let cont = "";
    for (let i = 0; i < 5 && (i === 0 || cont); i++) {
      const { body } = await api.json(
        "GET",
        `/api/v1/namespaces/kube-public/pods?limit=2${cont ? `&continue=${cont}` : ""}`,
      );
      seen.push(...body.items.map((p: any) => p.metadata.name));
      cont = body.metadata.continue ?? "";
      if (cont) expect(body.metadata.remainingItemCount).toBeGreaterThan(0);
    }
    expect(seen).toEqual(["l1", "l2", "l3"]);
  });

  test("a list across all namespaces has every namespace's objects", async () => {
    const { body } = await api.json("GET", "/api/v1/pods");
    const namespaces = new Set(body.items.map((p: any) => p.metadata.namespace));
    expect(namespaces).toEqual(new Set(["default", "kube-public"]));
    expect(body.kind).toBe("PodList");
  });

  test("deleting an unbound pod removes it at once; deleting again is 404", async () => {
    await api.json("POST", "/api/v1/namespaces/default/pods", pod("gone"));
    const del = await api.json("DELETE", "/api/v1/namespaces/default/pods/gone", { propagationPolicy: "Background" });
    expect(del.status).toBe(200);
    expect((await api.json("GET", "/api/v1/namespaces/default/pods/gone")).status).toBe(404);
    expect((await api.json("DELETE", "/api/v1/namespaces/default/pods/gone")).status).toBe(404);
  });

  test("deleting a pod bound to a node is graceful: deletionTimestamp first, gone after a zero-grace delete", async () => {
    await api.json("POST", "/api/v1/namespaces/default/pods", pod("bound", { nodeName: "n1" }));
    const del = await api.json("DELETE", "/api/v1/namespaces/default/pods/bound");
    expect(del.body.metadata.deletionTimestamp).toBeDefined();
    expect(del.body.metadata.deletionGracePeriodSeconds).toBe(30);
    expect((await api.json("GET", "/api/v1/namespaces/default/pods/bound")).status).toBe(200);
    await api.json("DELETE", "/api/v1/namespaces/default/pods/bound", { gracePeriodSeconds: 0 });
    expect((await api.json("GET", "/api/v1/namespaces/default/pods/bound")).status).toBe(404);
  });

  test("finalizers hold an object until they are removed", async () => {
    const cm = (
      await api.json("POST", "/api/v1/namespaces/default/configmaps", {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "fin", finalizers: ["example.com/hold"] },
      })
    ).body;
    const del = await api.json("DELETE", "/api/v1/namespaces/default/configmaps/fin");
    expect(del.body.metadata.deletionTimestamp).toBeDefined();
    const current = (await api.json("GET", "/api/v1/namespaces/default/configmaps/fin")).body;
    expect(current.metadata.uid).toBe(cm.metadata.uid);
    await api.json("PUT", "/api/v1/namespaces/default/configmaps/fin", {
      ...current,
      metadata: { ...current.metadata, finalizers: [] },
    });
    expect((await api.json("GET", "/api/v1/namespaces/default/configmaps/fin")).status).toBe(404);
  });

  test("a delete precondition on a stale resourceVersion is 409", async () => {
    const cm = (
      await api.json("POST", "/api/v1/namespaces/default/configmaps", {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "pre" },
      })
    ).body;
    const res = await api.json("DELETE", "/api/v1/namespaces/default/configmaps/pre", {
      preconditions: { resourceVersion: String(Number(cm.metadata.resourceVersion) - 1) },
    });
    expect(res.status).toBe(409);
  });

  test("deletecollection deletes what the selector matches", async () => {
    await api.json("DELETE", "/api/v1/namespaces/kube-public/pods?labelSelector=app%3Da");
    const left = (await api.json("GET", "/api/v1/namespaces/kube-public/pods")).body.items.map(
      (p: any) => p.metadata.name,
    );
    expect(left).toEqual(["l2"]);
  });
});

describe("errors and auth", () => {
  test("a request without the token is 401", async () => {
    const res = await api.fetch(new Request("http://in-process/api/v1/pods"));
    expect(res.status).toBe(401);
    expect((await res.json()).reason).toBe("Unauthorized");
  });

  test("an unknown resource is 404 and a verb a kind lacks is 405", async () => {
    expect((await api.json("GET", "/api/v1/namespaces/default/widgets")).status).toBe(404);
    expect((await api.json("GET", "/api/v1/namespaces/default/bindings")).status).toBe(405);
  });

  test("health endpoints answer without a token", async () => {
    for (const p of ["/healthz", "/livez", "/readyz"])
      expect((await api.fetch(new Request(`http://in-process${p}`))).status).toBe(200);
    const v = await (await api.fetch(new Request("http://in-process/version"))).json();
    expect(v.major).toBe("1");
  });
});

describe("malformed input is a 4xx, never a 500", () => {
  const cases: [string, string, unknown][] = [
    [
      "metadata that is a string",
      "/api/v1/namespaces/default/pods",
      { apiVersion: "v1", kind: "Pod", metadata: "x", spec: {} },
    ],
    [
      "a spec that is a list",
      "/api/v1/namespaces/default/pods",
      { apiVersion: "v1", kind: "Pod", metadata: { name: "m1" }, spec: [] },
    ],
    [
      "ports that are a string",
      "/api/v1/namespaces/default/pods",
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "m2" },
        spec: { containers: [{ name: "c", image: "i", ports: "80" }] },
      },
    ],
    [
      "env entries that are null",
      "/api/v1/namespaces/default/pods",
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "m3" },
        spec: { containers: [{ name: "c", image: "i", env: [null] }] },
      },
    ],
    [
      "a template that is a number",
      "/apis/apps/v1/namespaces/default/deployments",
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "m4" },
        spec: { selector: { matchLabels: { a: "b" } }, template: 5 },
      },
    ],
    [
      "service ports that are an object",
      "/api/v1/namespaces/default/services",
      { apiVersion: "v1", kind: "Service", metadata: { name: "m5" }, spec: { ports: { port: 80 } } },
    ],
    [
      "labels that are a list",
      "/api/v1/namespaces/default/configmaps",
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "m6", labels: ["a"] } },
    ],
    ["a JSON array body", "/api/v1/namespaces/default/configmaps", [1, 2]],
  ];
  for (const [name, path, body] of cases)
    test(name, async () => {
      const { status, body: res } = await api.json("POST", path, body);
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(500);
      expect(res.kind).toBe("Status");
    });

  test("a field of the wrong Go type is a 400 with Go's decoder message, as kube-apiserver's", async () => {
    const { status, body } = await api.json("POST", "/api/v1/namespaces/default/pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "shape" },
      spec: { containers: [{ name: "c", image: "i", ports: "80", env: [{ name: 5 }] }] },
    });
    expect(status).toBe(400);
    expect(body.message).toBe(
      'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field ' +
        "Container.spec.containers.ports of type []v1.ContainerPort",
    );
  });

  test("a protobuf body that is not a supported Kubernetes message is 415 with a reason", async () => {
    for (const body of [new Uint8Array([1, 2, 3]), new Uint8Array([0x6b, 0x38, 0x73, 0x00, 0xff, 0xff])]) {
      const res = await api.fetch(
        new Request("http://in-process/api/v1/namespaces/default/pods", {
          method: "POST",
          body,
          headers: { authorization: "Bearer test-token", "content-type": "application/vnd.kubernetes.protobuf" },
        }),
      );
      expect(res.status).toBe(415);
      expect((await res.json()).reason).toBe("UnsupportedMediaType");
    }
  });

  test("bad query parameters are 400s", async () => {
    for (const q of ["labelSelector=a%20in%20", "fieldSelector=spec.bogus%3Dx", "limit=abc", "continue=%%%"]) {
      const r = await api.request("GET", `/api/v1/namespaces/default/pods?${q}`);
      expect(r.status).toBe(400);
    }
  });
});
