// Wire fidelity with kube-apiserver: query parameters decoded as apimachinery's parameter codec
// does (bools, int64s, first value wins), and Status error bodies byte for byte as Go writes them.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { pod, readWatch, startTestApi, type TestApi } from "../helpers/api.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
  for (const n of ["a", "b", "c"])
    await api.json("POST", "/api/v1/namespaces/default/configmaps", { metadata: { name: n } });
});
afterAll(() => api.close());

const CM = "/api/v1/namespaces/default/configmaps";

describe("query parameters", () => {
  // Convert_Slice_string_To_bool: only "0" and "false" (any case) are false; anything else, even "", is true.
  test.each([
    ["true", true],
    ["True", true],
    ["TRUE", true],
    ["1", true],
    ["t", true],
    ["T", true],
    ["yes", true],
    ["", true],
    ["false", false],
    ["False", false],
    ["FALSE", false],
    ["fAlSe", false],
    ["0", false],
  ])("watch=%p is a watch: %p", async (value, watching) => {
    const res = await api.request("GET", `${CM}?watch=${encodeURIComponent(value)}&timeoutSeconds=1`);
    expect(res.status).toBe(200);
    if (!watching) {
      expect((await res.json()).kind).toBe("ConfigMapList");
      return;
    }
    const events = await readWatch(res, (e) => e.length >= 3);
    expect(events.map((e) => e.type)).toEqual(["ADDED", "ADDED", "ADDED"]);
  });

  // strconv.ParseInt(s, 10, 64): Go's own error text in a 400 BadRequest, never a 500.
  test.each([
    ["limit", "1e20", "invalid syntax"],
    ["limit", "abc", "invalid syntax"],
    ["limit", "", "invalid syntax"],
    ["limit", "1.5", "invalid syntax"],
    ["limit", "0x10", "invalid syntax"],
    ["limit", "99999999999999999999", "value out of range"],
    ["limit", "-9223372036854775809", "value out of range"],
    ["timeoutSeconds", "soon", "invalid syntax"],
  ])("%s=%p is 400 (%s)", async (name, value, why) => {
    const res = await api.request("GET", `${CM}?${name}=${encodeURIComponent(value)}`);
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body).toMatchObject({
      kind: "Status",
      reason: "BadRequest",
      code: 400,
      message: `strconv.ParseInt: parsing ${JSON.stringify(value)}: ${why}`,
    });
  });

  test("limits in range are honoured; zero, negative and huge ones mean no limit", async () => {
    const page = async (limit: string) => (await api.json("GET", `${CM}?limit=${limit}`)).body;
    expect((await page("2")).items).toHaveLength(2);
    expect((await page("%2B2")).items).toHaveLength(2);
    for (const all of ["0", "-1", "9223372036854775807"]) {
      const body = await page(all);
      expect(body.items.map((i: any) => i.metadata.name)).toEqual(["a", "b", "c"]);
      expect(body.metadata.continue).toBeUndefined();
    }
  });

  test("the first of repeated values counts", async () => {
    expect((await api.json("GET", `${CM}?limit=1&limit=abc`)).body.items).toHaveLength(1);
    expect((await api.request("GET", `${CM}?limit=abc&limit=1`)).status).toBe(400);
  });

  test("a negative watch timeout ends the watch at once", async () => {
    const rv = (await api.json("GET", CM)).body.metadata.resourceVersion;
    const res = await api.request("GET", `${CM}?watch=1&timeoutSeconds=-5&resourceVersion=${rv}`);
    expect(res.status).toBe(200);
    expect((await res.text()).trim()).toBe("");
  });

  test("allowWatchBookmarks=True asks for bookmarks", async () => {
    const small = await startTestApi({ bookmarkIntervalMs: 50 });
    try {
      const rv = (await small.json("GET", CM)).body.metadata.resourceVersion;
      const res = await small.request("GET", `${CM}?watch=True&allowWatchBookmarks=True&resourceVersion=${rv}`);
      const events = await readWatch(res, (e) => e.some((x) => x.type === "BOOKMARK"));
      expect(events[0].type).toBe("BOOKMARK");
    } finally {
      await small.close();
    }
  });

  test("gracePeriodSeconds: bad text is 400, a negative value deletes as upstream does (1s)", async () => {
    await api.json("POST", "/api/v1/namespaces/default/pods", pod("graceful", { nodeName: "nowhere" }));
    const bad = await api.json("DELETE", "/api/v1/namespaces/default/pods/graceful?gracePeriodSeconds=soon");
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe('strconv.ParseInt: parsing "soon": invalid syntax');
    const del = await api.json("DELETE", "/api/v1/namespaces/default/pods/graceful?gracePeriodSeconds=-3");
    expect(del.status).toBe(200);
    expect(del.body.metadata.deletionGracePeriodSeconds).toBe(1);
  });

  test("dryRun values other than All are 422, as ValidateDryRun says", async () => {
    const r = await api.json("POST", `${CM}?dryRun=yes`, { metadata: { name: "dry" } });
    expect(r.status).toBe(422);
    expect(r.body.message).toBe(
      'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"yes"}: supported values: "All"',
    );
    expect((await api.json("GET", `${CM}/dry`)).status).toBe(404);
  });

  test("propagationPolicy outside the enum is 422 Invalid DeleteOptions", async () => {
    const r = await api.json("DELETE", `${CM}/a?propagationPolicy=Sometimes`);
    expect(r.status).toBe(422);
    expect(r.body.message).toBe(
      'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Sometimes": supported ' +
        'values: "Foreground", "Background", "Orphan", "nil"',
    );
  });
});

describe("Status bytes", () => {
  // The literal bodies kube-apiserver writes (Go's field order, omitempty, json.Encoder's newline).
  test("NotFound for a core and a grouped resource", async () => {
    const core = await api.request("GET", "/api/v1/namespaces/default/pods/nope");
    expect(core.status).toBe(404);
    expect(core.headers.get("content-type")).toBe("application/json");
    expect(await core.text()).toBe(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \\"nope\\" not ' +
        'found","reason":"NotFound","details":{"name":"nope","kind":"pods"},"code":404}\n',
    );
    const apps = await api.request("GET", "/apis/apps/v1/namespaces/default/deployments/nope");
    expect(await apps.text()).toBe(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"deployments.apps ' +
        '\\"nope\\" not ' +
        'found","reason":"NotFound","details":{"name":"nope","group":"apps","kind":"deployments"},"code":404}\n',
    );
  });

  test("AlreadyExists and Invalid with causes", async () => {
    const dup = await api.request("POST", CM, { metadata: { name: "a" } });
    expect(await dup.text()).toBe(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"configmaps \\"a\\" ' +
        'already exists","reason":"AlreadyExists","details":{"name":"a","kind":"configmaps"},"code":409}\n',
    );
    const bad = await api.request("POST", CM, { metadata: { name: "Bad_Name" } });
    expect(bad.status).toBe(422);
    const text = await bad.text();
    expect(text).toStartWith(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"ConfigMap ' +
        '\\"Bad_Name\\" is invalid: metadata.name: Invalid value: \\"Bad_Name\\": ',
    );
    expect(text).toContain(
      '"reason":"Invalid","details":{"name":"Bad_Name","kind":"ConfigMap","causes":[{"reason":"FieldValueInvalid","message":"Invalid ' +
        'value: \\"Bad_Name\\": ',
    );
    expect(text).toEndWith('","field":"metadata.name"}]},"code":422}\n');
  });

  test("an Invalid grouped kind is qualified by its group, as errors.NewInvalid does", async () => {
    const r = await api.json("POST", "/apis/apps/v1/namespaces/default/deployments", {
      metadata: { name: "d" },
      spec: {},
    });
    expect(r.status).toBe(422);
    expect(r.body.message).toStartWith('Deployment.apps "d" is invalid: ');
    expect(r.body.details).toMatchObject({ name: "d", group: "apps", kind: "Deployment" });
  });

  test("BadRequest has no details at all", async () => {
    const res = await api.request("GET", `${CM}?limit=x`);
    expect(await res.text()).toBe(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"strconv.ParseInt: ' +
        'parsing \\"x\\": invalid syntax","reason":"BadRequest","code":400}\n',
    );
  });
});

describe("apiVersion and kind of a body", () => {
  test("a body without them gets both from the URL, and is stored with them", async () => {
    const r = await api.json("POST", "/apis/apps/v1/namespaces/default/deployments", {
      metadata: { name: "typed" },
      spec: {
        selector: { matchLabels: { app: "t" } },
        template: { metadata: { labels: { app: "t" } }, spec: { containers: [{ name: "c", image: "busybox" }] } },
      },
    });
    expect(r.status).toBe(201);
    expect([r.body.apiVersion, r.body.kind]).toEqual(["apps/v1", "Deployment"]);
    const got = (await api.json("GET", "/apis/apps/v1/namespaces/default/deployments/typed")).body;
    expect([got.apiVersion, got.kind]).toEqual(["apps/v1", "Deployment"]);
    const put = await api.json("PUT", `${CM}/a`, { metadata: { name: "a" }, data: { k: "v" } });
    expect(put.status).toBe(200);
    expect([put.body.apiVersion, put.body.kind]).toEqual(["v1", "ConfigMap"]);
  });

  test("a body of another kind is 400 with upstream's decoder message", async () => {
    const r = await api.json("POST", "/api/v1/namespaces", pod("not-a-namespace"));
    expect(r.status).toBe(400);
    expect(r.body.message).toBe(
      'Pod in version "v1" cannot be handled as a Namespace: converting (v1.Pod) to (core.Namespace): ' +
        "unknown conversion",
    );
    const unknown = await api.json("POST", CM, { apiVersion: "v1", kind: "Gizmo", metadata: { name: "g" } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toStartWith(
      'Gizmo in version "v1" cannot be handled as a ConfigMap: no kind "Gizmo" is registered for version "v1"',
    );
    const version = await api.json("POST", CM, { apiVersion: "apps/v1", kind: "ConfigMap", metadata: { name: "g" } });
    expect(version.status).toBe(400);
    expect(version.body.message).toStartWith(
      'ConfigMap in version "v1" cannot be handled as a ConfigMap: no kind "ConfigMap" is registered for ' +
        'version "apps/v1"',
    );
    const update = await api.json("PUT", `${CM}/a`, { apiVersion: "v1", kind: "Secret", metadata: { name: "a" } });
    expect(update.status).toBe(400);
    expect(update.body.message).toBe(
      'Secret in version "v1" cannot be handled as a ConfigMap: converting (v1.Secret) to (core.ConfigMap): ' +
        "unknown conversion",
    );
  });

  test("apiVersion and kind must be strings", async () => {
    const r = await api.request("POST", CM, { kind: 1, metadata: { name: "n" } });
    expect(r.status).toBe(400);
    expect((await r.json()).message).toBe(
      "the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json " +
        "parse error: json: cannot unmarshal number into Go struct field .kind of type string " +
        '({"kind":1,"metadata":{"name":" ...)',
    );
  });

  test("YAML bodies are accepted where JSON is, and checked the same way", async () => {
    const yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  k: v\n";
    const r = await api.json("POST", CM, yaml, { "content-type": "application/yaml" });
    expect(r.status).toBe(201);
    expect(r.body.data).toEqual({ k: "v" });
    const bad = await api.json("POST", "/api/v1/namespaces", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: y\n", {
      "content-type": "application/yaml",
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain("cannot be handled as a Namespace");
  });
});

describe("upstream rules", () => {
  test("default, kube-system and kube-public cannot be deleted", async () => {
    for (const ns of ["default", "kube-system", "kube-public"]) {
      const res = await api.request("DELETE", `/api/v1/namespaces/${ns}`);
      expect(res.status).toBe(403);
      expect(await res.text()).toBe(
        `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"namespaces \\"${ns}\\" is forbidden: this namespace may not be deleted","reason":"Forbidden","details":{"name":"${ns}","kind":"namespaces"},"code":403}\n`,
      );
      expect((await api.json("GET", `/api/v1/namespaces/${ns}`)).body.status.phase).toBe("Active");
    }
  });

  test("a valid schedule that never fires is accepted; an out-of-range one is not", async () => {
    const cron = (name: string, schedule: string) => ({
      metadata: { name },
      spec: {
        schedule,
        jobTemplate: {
          spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] } } },
        },
      },
    });
    expect(
      (await api.json("POST", "/apis/batch/v1/namespaces/default/cronjobs", cron("feb31", "59 23 31 2 *"))).status,
    ).toBe(201);
    expect(
      (await api.json("POST", "/apis/batch/v1/namespaces/default/cronjobs", cron("day32", "0 0 32 2 *"))).status,
    ).toBe(422);
    expect(
      (await api.json("POST", "/apis/batch/v1/namespaces/default/cronjobs", cron("month13", "0 0 31 13 *"))).status,
    ).toBe(422);
  });
});

describe("autoscaling/v1 HorizontalPodAutoscaler over v2 storage", () => {
  const V1 = "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers";
  const V2 = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers";
  const ref = { apiVersion: "apps/v1", kind: "Deployment", name: "web" };

  test("created through v1 without a target, it gets v2's default metric (CPU 80%)", async () => {
    const r = await api.json("POST", V1, {
      apiVersion: "autoscaling/v1",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "auto" },
      spec: { scaleTargetRef: ref, maxReplicas: 4 },
    });
    expect(r.status).toBe(201);
    expect(r.body.apiVersion).toBe("autoscaling/v1");
    expect(r.body.spec).toEqual({
      scaleTargetRef: ref,
      minReplicas: 1,
      maxReplicas: 4,
      targetCPUUtilizationPercentage: 80,
    });
    const v2 = (await api.json("GET", `${V2}/auto`)).body;
    expect(v2.apiVersion).toBe("autoscaling/v2");
    expect(v2.spec.metrics).toEqual([
      { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } },
    ]);
    expect(v2.status).toMatchObject({ desiredReplicas: 0 });
    const listed = (await api.json("GET", V1)).body;
    expect(listed.kind).toBe("HorizontalPodAutoscalerList");
    expect(listed.items.find((i: any) => i.metadata.name === "auto").spec.targetCPUUtilizationPercentage).toBe(80);
  });

  test("what v1 cannot say travels in upstream's annotations and comes back", async () => {
    const memory = {
      type: "Resource",
      resource: { name: "memory", target: { type: "AverageValue", averageValue: "100Mi" } },
    };
    await api.json("POST", V2, {
      metadata: { name: "mem" },
      spec: { scaleTargetRef: ref, maxReplicas: 2, metrics: [memory] },
    });
    const v1 = (await api.json("GET", `${V1}/mem`)).body;
    expect(v1.spec.targetCPUUtilizationPercentage).toBeUndefined();
    expect(JSON.parse(v1.metadata.annotations["autoscaling.alpha.kubernetes.io/metrics"])).toEqual([memory]);
    const put = await api.json("PUT", `${V1}/mem`, { ...v1, spec: { ...v1.spec, maxReplicas: 5 } });
    expect(put.status).toBe(200);
    const v2 = (await api.json("GET", `${V2}/mem`)).body;
    expect(v2.spec.maxReplicas).toBe(5);
    expect(v2.spec.metrics).toEqual([memory]);
    expect(v2.metadata.annotations).toBeUndefined();
  });
});

describe("always-present fields", () => {
  test("fields Go writes without omitempty are there from the create response on", async () => {
    const tpl = (app: string) => ({
      metadata: { labels: { app } },
      spec: { containers: [{ name: "c", image: "busybox" }] },
    });
    const rc = await api.json("POST", "/api/v1/namespaces/default/replicationcontrollers", {
      metadata: { name: "rc" },
      spec: { selector: { app: "rc" }, template: tpl("rc") },
    });
    expect(rc.body.status).toEqual({ replicas: 0 });
    const ds = await api.json("POST", "/apis/apps/v1/namespaces/default/daemonsets", {
      metadata: { name: "ds" },
      spec: { selector: { matchLabels: { app: "ds" } }, template: tpl("ds") },
    });
    expect(ds.body.status).toEqual({
      currentNumberScheduled: 0,
      desiredNumberScheduled: 0,
      numberMisscheduled: 0,
      numberReady: 0,
    });
    // A status writer that leaves required fields out still yields them.
    const put = await api.json("PUT", "/api/v1/namespaces/default/replicationcontrollers/rc/status", {
      ...rc.body,
      status: { conditions: [{ type: "ReplicaFailure", status: "True" }] },
    });
    expect(put.body.status).toEqual({ replicas: 0, conditions: [{ type: "ReplicaFailure", status: "True" }] });
  });
});

describe("defaults as upstream's defaulting functions set them", () => {
  test("pods: grpc probe service, fieldRef apiVersion, volume sources, the deprecated serviceAccount", async () => {
    const r = await api.json("POST", "/api/v1/namespaces/default/pods", {
      metadata: { name: "defaults" },
      spec: {
        containers: [
          {
            name: "c",
            image: "busybox:1",
            readinessProbe: { grpc: { port: 9555 } },
            env: [{ name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
          },
        ],
        volumes: [
          { name: "scratch" },
          { name: "host", hostPath: { path: "/tmp" } },
          { name: "info", downwardAPI: { items: [] } },
        ],
      },
    });
    expect(r.status).toBe(201);
    const c = r.body.spec.containers[0];
    expect(c.readinessProbe).toEqual({
      grpc: { port: 9555, service: "" },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
    expect(c.env[0].valueFrom.fieldRef).toEqual({ apiVersion: "v1", fieldPath: "spec.nodeName" });
    expect(r.body.spec.volumes).toEqual([
      { name: "scratch", emptyDir: {} },
      { name: "host", hostPath: { path: "/tmp", type: "" } },
      { name: "info", downwardAPI: { items: [], defaultMode: 420 } },
    ]);
    expect(r.body.spec).toMatchObject({
      serviceAccountName: "default",
      serviceAccount: "default",
      securityContext: {},
      preemptionPolicy: "PreemptLowerPriority",
    });
  });

  test("services: families, traffic policies, session affinity", async () => {
    const svc = async (name: string, spec: object) =>
      (await api.json("POST", "/api/v1/namespaces/default/services", { metadata: { name }, spec })).body.spec;
    expect(await svc("plain", { selector: { app: "a" }, ports: [{ port: 80 }] })).toMatchObject({
      type: "ClusterIP",
      sessionAffinity: "None",
      internalTrafficPolicy: "Cluster",
      ipFamilyPolicy: "SingleStack",
      ipFamilies: ["IPv4"],
      ports: [{ port: 80, targetPort: 80, protocol: "TCP" }],
    });
    expect(await svc("np", { type: "NodePort", selector: { app: "a" }, ports: [{ port: 80 }] })).toMatchObject({
      externalTrafficPolicy: "Cluster",
      internalTrafficPolicy: "Cluster",
    });
    expect(await svc("lb", { type: "LoadBalancer", selector: { app: "a" }, ports: [{ port: 80 }] })).toMatchObject({
      allocateLoadBalancerNodePorts: true,
      externalTrafficPolicy: "Cluster",
    });
    expect(await svc("headless", { clusterIP: "None", ports: [{ port: 80 }] })).toMatchObject({
      ipFamilyPolicy: "RequireDualStack",
      ipFamilies: ["IPv4"],
    });
    const ext = await svc("ext", { type: "ExternalName", externalName: "example.test" });
    expect(ext.ipFamilies).toBeUndefined();
    expect(ext.internalTrafficPolicy).toBeUndefined();
  });
});
