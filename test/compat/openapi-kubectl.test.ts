// Real kubectl (1.27 and 1.33) against the OpenAPI documents and aggregated discovery: explain on
// nested fields of built-in kinds, create -f with an unknown field under --validate=strict|warn|
// false, and api-resources from aggregated discovery agreeing with the legacy documents.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestApi } from "../helpers/api.ts";
import { kubectlAgainstTestApi, type kubectlRunner } from "../helpers/kubectl.ts";
import { certificateCrd } from "../fixtures/crds.ts";

let env: Awaited<ReturnType<typeof kubectlAgainstTestApi>>;
let api: TestApi;
let kubectl: ReturnType<typeof kubectlRunner>;
beforeAll(async () => {
  env = await kubectlAgainstTestApi("kube-openapi");
  ({ api, kubectl } = env);
});
afterAll(() => env.close());

const withUnknown = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  selector: {matchLabels: {app: ${name}}}
  bogus: 1
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
      - name: c
        image: busybox
        imagePolicy: Always
`;
const UNKNOWN = 'unknown field "spec.bogus", unknown field "spec.template.spec.containers[0].imagePolicy"';

for (const v of ["1.27", "1.33"]) {
  describe(`kubectl ${v}`, () => {
    test("explain walks nested fields of several kinds, with upstream's descriptions", async () => {
      const grpc = await kubectl(v, ["explain", "pod.spec.containers.readinessProbe.grpc"]);
      expect(grpc.code).toBe(0);
      expect(grpc.out).toContain("FIELD: grpc <GRPCAction>");
      expect(grpc.out).toMatch(/port\s+<integer> -required-/);
      const strategy = await kubectl(v, ["explain", "deployment.spec.strategy"]);
      expect(strategy.out).toContain("GROUP:      apps");
      expect(strategy.out).toMatch(/rollingUpdate\s+<RollingUpdateDeployment>/);
      const cron = await kubectl(v, [
        "explain",
        "cronjob.spec.jobTemplate.spec.template.spec.containers.env.valueFrom.secretKeyRef",
      ]);
      expect(cron.out).toMatch(/key\s+<string> -required-/);
      const hpa = await kubectl(v, ["explain", "hpa.spec.behavior.scaleDown.policies"]);
      expect(hpa.out).toContain("VERSION:    v2");
      expect(hpa.out).toMatch(/periodSeconds\s+<integer> -required-/);
      const svc = await kubectl(v, ["explain", "svc.spec.ports.targetPort"]);
      expect(svc.out).toContain("IntOrString is a type that can hold an int32 or a string");
      const missing = await kubectl(v, ["explain", "pod.spec.nope"]);
      expect(missing.code).not.toBe(0);
      expect(missing.err).toContain('field "nope" does not exist');
    });

    test("create -f with unknown fields: strict refuses, warn warns and creates, false drops silently", async () => {
      const strict = await kubectl(
        v,
        ["create", "--validate=strict", "-f", "-"],
        withUnknown(`s${v.replace(".", "")}`),
      );
      expect(strict.code).toBe(1);
      expect(strict.err).toContain(
        `Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: ${UNKNOWN}`,
      );
      const name = `w${v.replace(".", "")}`;
      const warn = await kubectl(v, ["create", "--validate=warn", "-f", "-"], withUnknown(name));
      expect(warn.code).toBe(0);
      expect(warn.err).toContain('Warning: unknown field "spec.bogus"');
      expect(warn.err).toContain('Warning: unknown field "spec.template.spec.containers[0].imagePolicy"');
      expect(warn.out).toContain(`deployment.apps/${name} created`);
      const got = JSON.parse((await kubectl(v, ["get", "deploy", name, "-o", "json"])).out);
      expect(got.spec.bogus).toBeUndefined();
      const off = await kubectl(v, ["create", "--validate=false", "-f", "-"], withUnknown(`f${v.replace(".", "")}`));
      expect(off.code).toBe(0);
      expect(off.err).toBe("");
    });
  });
}

describe("aggregated discovery", () => {
  const ACCEPT =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList," +
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

  test("/api and /apis answer APIGroupDiscoveryList (v2, and v2beta1 when asked first) with its content type", async () => {
    const core = await api.request("GET", "/api", undefined, { accept: ACCEPT });
    expect(core.headers.get("content-type")).toBe(
      "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
    );
    const doc: any = await core.json();
    expect(doc).toMatchObject({ kind: "APIGroupDiscoveryList", apiVersion: "apidiscovery.k8s.io/v2" });
    const pods = doc.items[0].versions[0].resources.find((r: any) => r.resource === "pods");
    expect(pods).toMatchObject({
      responseKind: { group: "", version: "v1", kind: "Pod" },
      scope: "Namespaced",
      singularResource: "pod",
      shortNames: ["po"],
      categories: ["all"],
    });
    expect(pods.subresources).toContainEqual({
      subresource: "eviction",
      responseKind: { group: "policy", version: "v1", kind: "Eviction" },
      verbs: ["create"],
    });
    expect(doc.items[0].versions[0].freshness).toBe("Current");
    const beta = await api.request("GET", "/apis", undefined, { accept: ACCEPT.split(",").slice(1).join(",") });
    expect(beta.headers.get("content-type")).toBe(
      "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList",
    );
    const groups: any = await beta.json();
    const apps = groups.items.find((g: any) => g.metadata.name === "apps");
    const deploy = apps.versions[0].resources.find((r: any) => r.resource === "deployments");
    expect(deploy.subresources).toContainEqual({
      subresource: "scale",
      responseKind: { group: "autoscaling", version: "v1", kind: "Scale" },
      verbs: ["get", "patch", "update"],
    });
    const plain = await api.request("GET", "/apis", undefined, { accept: "application/json" });
    expect(((await plain.json()) as any).kind).toBe("APIGroupList");
  });

  test("kubectl 1.33 api-resources (aggregated) lists exactly what the legacy documents list", async () => {
    const r = await kubectl("1.33", ["api-resources", "-o", "wide", "-v=6"]);
    expect(r.code).toBe(0);
    expect(r.err).not.toContain("/api/v1?"); // one request for /api and one for /apis: no per-group-version fetches
    const [header, ...rows] = r.out.trim().split("\n");
    const cols = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND", "VERBS", "CATEGORIES"].map((c) =>
      header!.indexOf(c),
    );
    const seen = rows.map((row) => cols.map((at, i) => row.slice(at, cols[i + 1] ?? undefined).trim()).join(" "));
    const expected: string[] = [];
    const { body: groups } = await api.json("GET", "/apis");
    // api-resources shows each group's preferred version, which aggregated discovery lists first.
    for (const gv of ["v1", ...groups.groups.map((g: any) => g.preferredVersion.groupVersion)]) {
      const { body: list } = await api.json("GET", gv === "v1" ? "/api/v1" : `/apis/${gv}`);
      for (const res of list.resources.filter((x: any) => !x.name.includes("/"))) {
        expected.push(
          [
            res.name,
            (res.shortNames ?? []).join(","),
            gv,
            String(res.namespaced),
            res.kind,
            [...res.verbs].sort().join(","),
            (res.categories ?? []).join(","),
          ].join(" "),
        );
      }
    }
    expect(seen.sort()).toEqual(expected.sort());
    const all = await kubectl("1.33", ["get", "all", "-n", "default"]);
    expect(all.code).toBe(0);
  });
});

describe("a CustomResourceDefinition", () => {
  test("its kind is in OpenAPI and aggregated discovery at once: explain, and Strict refusing an unknown field", async () => {
    expect(
      (await api.json("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", certificateCrd())).status,
    ).toBe(201);
    const { body: index } = await api.json("GET", "/openapi/v3");
    const { body: doc } = await api.json("GET", index.paths["apis/example.com/v1"].serverRelativeURL);
    const schema = doc.components.schemas["com.example.v1.Certificate"];
    expect(schema["x-kubernetes-group-version-kind"]).toEqual([
      { group: "example.com", kind: "Certificate", version: "v1" },
    ]);
    expect(schema.properties.metadata.allOf).toEqual([
      { $ref: "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" },
    ]);
    const explain = await kubectl("1.33", ["explain", "certificates.spec.keystores.jks"]);
    expect(explain.code).toBe(0);
    expect(explain.out).toContain("GROUP:      example.com");
    expect(explain.out).toMatch(/create\s+<boolean> -required-/);
    const cert =
      `apiVersion: example.com/v1\nkind: Certificate\nmetadata:\n  name: c1\nspec:\n  secretName: c1-tls\n  ` +
      `issuerRef: {name: ca}\n  colour: red\n`;
    const strict = await kubectl("1.33", ["create", "-f", "-"], cert);
    expect(strict.err).toContain(
      'Certificate in version "v1" cannot be handled as a Certificate: strict decoding error: unknown field ' +
        '"spec.colour"',
    );
    const warn = await kubectl("1.33", ["create", "--validate=warn", "-f", "-"], cert);
    expect(warn.err).toContain('Warning: unknown field "spec.colour"');
    expect(warn.out).toContain("certificate.example.com/c1 created");
    const resources = await kubectl("1.33", ["api-resources", "--api-group=example.com"]);
    expect(resources.out).toMatch(/certificates\s+cert,certs\s+example.com\/v1\s+true\s+Certificate/);
  });
});
