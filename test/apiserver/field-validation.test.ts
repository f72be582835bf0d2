// fieldValidation=Strict|Warn|Ignore on create, update and patch, JSON and YAML, with the bodies
// and the exact messages of upstream's test/integration/apiserver/field_validation_test.go.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClient, inProcessTransport } from "../../src/client/index.ts";
import { startTestApi, TEST_TOKEN, type TestApi } from "../helpers/api.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

const invalidJson = (name: string) => `{
  "apiVersion": "apps/v1",
  "kind": "Deployment",
  "metadata": {
    "name": "dupename",
    "name": "${name}",
    "labels": {"app": "nginx"},
    "unknownMeta": "metaVal"
  },
  "spec": {
    "unknown1": "val1",
    "unknownDupe": "valDupe",
    "unknownDupe": "valDupe2",
    "paused": true,
    "paused": false,
    "selector": {"matchLabels": {"app": "nginx"}},
    "template": {
      "metadata": {"labels": {"app": "nginx"}},
      "spec": {
        "containers": [{
          "name": "nginx",
          "image": "nginx:latest",
          "unknownNested": "val1",
          "imagePullPolicy": "Always",
          "imagePullPolicy": "Never"
        }]
      }
    }
  }
}`;

const invalidYaml = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: dupename
  name: ${name}
  unknownMeta: metaVal
  labels:
    app: nginx
spec:
  unknown1: val1
  unknownDupe: valDupe
  unknownDupe: valDupe2
  paused: true
  paused: false
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:latest
        unknownNested: val1
        imagePullPolicy: Always
        imagePullPolicy: Never`;

const JSON_ISSUES = [
  'duplicate field "metadata.name"',
  'unknown field "metadata.unknownMeta"',
  'unknown field "spec.unknown1"',
  'unknown field "spec.unknownDupe"',
  'duplicate field "spec.paused"',
  'unknown field "spec.template.spec.containers[0].unknownNested"',
  'duplicate field "spec.template.spec.containers[0].imagePullPolicy"',
];
const YAML_DUPLICATES = [
  'line 5: key "name" already set in map',
  'line 12: key "unknownDupe" already set in map',
  'line 14: key "paused" already set in map',
  'line 28: key "imagePullPolicy" already set in map',
];
const YAML_UNKNOWN = [
  'unknown field "metadata.unknownMeta"',
  'unknown field "spec.template.spec.containers[0].unknownNested"',
  'unknown field "spec.unknown1"',
  'unknown field "spec.unknownDupe"',
];
const PREFIX = 'Deployment in version "v1" cannot be handled as a Deployment: ';

const DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments";
const warningsOf = (res: Response) =>
  (res.headers.get("warning") ?? "")
    .split(/, (?=299 )/)
    .filter(Boolean)
    .map((w) => JSON.parse(w.replace(/^299 - /, "")) as string);

async function send(method: string, path: string, body: string, contentType = "application/json") {
  const res = await api.request(method, path, body, { "content-type": contentType });
  return { status: res.status, body: (await res.json()) as any, warnings: warningsOf(res) };
}

/** The stored object kept the last of each duplicate and none of the unknown fields. */
function expectPruned(obj: any, name: string) {
  expect(obj.metadata.name).toBe(name);
  expect(obj.metadata.unknownMeta).toBeUndefined();
  expect(obj.spec.unknown1).toBeUndefined();
  expect(obj.spec.unknownDupe).toBeUndefined();
  expect(obj.spec.paused).toBe(false);
  expect(obj.spec.template.spec.containers[0].unknownNested).toBeUndefined();
  expect(obj.spec.template.spec.containers[0].imagePullPolicy).toBe("Never");
}

describe("create", () => {
  test("Strict refuses with every duplicate and unknown field in document order", async () => {
    const r = await send("POST", `${DEPLOYMENTS}?fieldValidation=Strict`, invalidJson("strict"));
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({
      kind: "Status",
      reason: "BadRequest",
      code: 400,
      message: `${PREFIX}strict decoding error: ${JSON_ISSUES.join(", ")}`,
    });
    expect((await api.request("GET", `${DEPLOYMENTS}/strict`)).status).toBe(404);
  });

  test("Warn, and no directive, create the pruned object with one warning per field", async () => {
    for (const [name, q] of [
      ["warn", "?fieldValidation=Warn"],
      ["none", ""],
    ] as const) {
      const r = await send("POST", `${DEPLOYMENTS}${q}`, invalidJson(name));
      expect(r.status).toBe(201);
      expect(r.warnings).toEqual(JSON_ISSUES);
      expectPruned(r.body, name);
      expectPruned((await api.json("GET", `${DEPLOYMENTS}/${name}`)).body, name);
    }
  });

  test("an object the in-process client sends (JSON it wrote: no key can repeat) gets its unknown fields in document order", async () => {
    const client = createClient(inProcessTransport(api.fetch, TEST_TOKEN));
    const obj = JSON.parse(invalidJson("client")) as Record<string, unknown>;
    const err = await client
      .request("POST", `${DEPLOYMENTS}?fieldValidation=Strict`, { body: obj })
      .then((res) => res.json() as Promise<any>);
    expect(err.message).toBe(
      `${PREFIX}strict decoding error: ${JSON_ISSUES.filter((i) => i.startsWith("unknown")).join(", ")}`,
    );
  });

  test("over HTTPS, the same text still has its duplicates found", async () => {
    const served = await api.listen();
    try {
      const res = await fetch(`${served.url}${DEPLOYMENTS}?fieldValidation=Strict`, {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" },
        body: invalidJson("https"),
        tls: { ca: served.ca },
      } as RequestInit);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toBe(
        `${PREFIX}strict decoding error: ${JSON_ISSUES.join(", ")}`,
      );
    } finally {
      await served.stop();
    }
  });

  test("Ignore creates the pruned object silently", async () => {
    const r = await send("POST", `${DEPLOYMENTS}?fieldValidation=Ignore`, invalidJson("ignore"));
    expect(r.status).toBe(201);
    expect(r.warnings).toEqual([]);
    expectPruned(r.body, "ignore");
  });

  test("YAML: the decoder's duplicate-key lines first, then unknown fields sorted", async () => {
    const strict = await send(
      "POST",
      `${DEPLOYMENTS}?fieldValidation=Strict`,
      invalidYaml("ystrict"),
      "application/yaml",
    );
    expect(strict.status).toBe(400);
    expect(strict.body.message).toBe(
      `${PREFIX}strict decoding error: yaml: unmarshal errors:\n  ${YAML_DUPLICATES.join("\n  ")}, ${YAML_UNKNOWN.join(", ")}`,
    );
    const warn = await send("POST", DEPLOYMENTS, invalidYaml("ywarn"), "application/yaml");
    expect(warn.status).toBe(201);
    expect(warn.warnings).toEqual([...YAML_DUPLICATES, ...YAML_UNKNOWN]);
    expectPruned(warn.body, "ywarn");
  });

  test("a valid body has no warnings, and a bad directive is a 400", async () => {
    const valid = JSON.stringify({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "fine", labels: { a: "b" } },
      data: { x: "y" },
    });
    const r = await send("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict", valid);
    expect(r.status).toBe(201);
    expect(r.warnings).toEqual([]);
    const bad = await send("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Loud", valid);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe(
      'fieldValidation: Unsupported value: "Loud": supported values: "", "Ignore", "Strict", "Warn"',
    );
  });

  test("maps keep any key, free-form fields (managedFields) keep anything", async () => {
    const cm = JSON.stringify({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "maps", annotations: { "any.key/x": "1" } },
      data: { "key.x_1-A": "v" },
    });
    const r = await send("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict", cm);
    expect(r.status).toBe(201);
    expect(r.body.data).toEqual({ "key.x_1-A": "v" });
  });
});

describe("update", () => {
  test("PUT: Strict refuses, Warn warns and prunes", async () => {
    const strict = await send("PUT", `${DEPLOYMENTS}/warn?fieldValidation=Strict`, invalidJson("warn"));
    expect(strict.status).toBe(400);
    expect(strict.body.message).toBe(`${PREFIX}strict decoding error: ${JSON_ISSUES.join(", ")}`);
    const warn = await send("PUT", `${DEPLOYMENTS}/warn?fieldValidation=Warn`, invalidJson("warn"));
    expect(warn.status).toBe(200);
    expect(warn.warnings).toEqual(JSON_ISSUES);
    expectPruned(warn.body, "warn");
  });
});

describe("patch", () => {
  const mergePatch = `{
  "spec": {
    "unknown1": "val1",
    "unknownDupe": "valDupe",
    "unknownDupe": "valDupe2",
    "paused": true,
    "paused": false,
    "template": {"spec": {"containers": [{
      "name": "nginx",
      "image": "nginx:latest",
      "unknownNested": "val1",
      "imagePullPolicy": "Always",
      "imagePullPolicy": "Never"
    }]}}
  }
}`;
  const PATCH_ISSUES = [
    'duplicate field "spec.unknownDupe"',
    'duplicate field "spec.paused"',
    'duplicate field "spec.template.spec.containers[0].imagePullPolicy"',
    'unknown field "spec.template.spec.containers[0].unknownNested"',
    'unknown field "spec.unknown1"',
    'unknown field "spec.unknownDupe"',
  ];

  test("merge patch: the patch's duplicates, then the result's unknown fields sorted", async () => {
    const strict = await send(
      "PATCH",
      `${DEPLOYMENTS}/ignore?fieldValidation=Strict`,
      mergePatch,
      "application/merge-patch+json",
    );
    expect(strict.status).toBe(400);
    expect(strict.body.message).toBe(`strict decoding error: ${PATCH_ISSUES.join(", ")}`);
    const warn = await send("PATCH", `${DEPLOYMENTS}/ignore`, mergePatch, "application/merge-patch+json");
    expect(warn.status).toBe(200);
    expect(warn.warnings).toEqual(PATCH_ISSUES);
    expect(warn.body.spec.unknown1).toBeUndefined();
    expect(warn.body.spec.template.spec.containers[0].imagePullPolicy).toBe("Never");
  });

  test("strategic merge and JSON patches are checked on their result", async () => {
    const smp = await send(
      "PATCH",
      `${DEPLOYMENTS}/ignore?fieldValidation=Strict`,
      '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","bogus":1}]}}}}',
      "application/strategic-merge-patch+json",
    );
    expect(smp.status).toBe(400);
    expect(smp.body.message).toBe('strict decoding error: unknown field "spec.template.spec.containers[0].bogus"');
    const jp = await send(
      "PATCH",
      `${DEPLOYMENTS}/ignore?fieldValidation=Warn`,
      '[{"op":"add","path":"/spec/extra","value":1}]',
      "application/json-patch+json",
    );
    expect(jp.status).toBe(200);
    expect(jp.warnings).toEqual(['unknown field "spec.extra"']);
    expect(jp.body.spec.extra).toBeUndefined();
  });

  test("server-side apply: managedFields written by the server pass Strict", async () => {
    const cm = JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "ssa" }, data: { k: "v" } });
    const path = "/api/v1/namespaces/default/configmaps/ssa?fieldManager=test&fieldValidation=Strict";
    expect((await send("PATCH", path, cm, "application/apply-patch+yaml")).status).toBe(201);
    const again = await send("PATCH", path, cm.replace('"v"', '"w"'), "application/apply-patch+yaml");
    expect(again.status).toBe(200);
    expect(again.body.data.k).toBe("w");
    const unknown = await send(
      "PATCH",
      path,
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  k: v\nextra: 1\n",
      "application/apply-patch+yaml",
    );
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toBe('strict decoding error: unknown field "extra"');
  });
});

describe("round trip", () => {
  test("what the server returns (defaults, always-present fields, status) goes back under Strict unchanged", async () => {
    const objects: [string, unknown][] = [
      [
        "/api/v1/namespaces/default/pods",
        {
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "rt" },
          spec: { containers: [{ name: "c", image: "busybox", ports: [{ containerPort: 80 }] }] },
        },
      ],
      [
        "/api/v1/namespaces/default/services",
        {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: "rt" },
          spec: { selector: { a: "b" }, ports: [{ port: 80 }] },
        },
      ],
      [
        DEPLOYMENTS,
        {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name: "rt" },
          spec: {
            selector: { matchLabels: { a: "b" } },
            template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "busybox" }] } },
          },
        },
      ],
      [
        "/apis/batch/v1/namespaces/default/cronjobs",
        {
          apiVersion: "batch/v1",
          kind: "CronJob",
          metadata: { name: "rt" },
          spec: {
            schedule: "* * * * *",
            jobTemplate: {
              spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] } } },
            },
          },
        },
      ],
      [
        "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers",
        {
          apiVersion: "autoscaling/v2",
          kind: "HorizontalPodAutoscaler",
          metadata: { name: "rt" },
          spec: { maxReplicas: 3, scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "rt" } },
        },
      ],
    ];
    for (const [path, obj] of objects) {
      const created = await send("POST", `${path}?fieldValidation=Strict`, JSON.stringify(obj));
      expect(created.status).toBe(201);
      const got = await api.json("GET", `${path}/${created.body.metadata.name}`);
      const put = await send(
        "PUT",
        `${path}/${created.body.metadata.name}?fieldValidation=Strict`,
        JSON.stringify(got.body),
      );
      expect([put.status, put.body.message]).toEqual([200, undefined]);
    }
  });
});
