// CustomResourceDefinitions through the API: CRD validation and status, names conflicts,
// discovery, custom resources' schema (pruning, defaults, 422 causes with field paths, CEL),
// versions, printer columns, selectors, subresources, patches, watch, deletion and restart.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApiServer } from "../../src/components/apiserver/index.ts";
import { readWatch, startTestApi, TEST_TOKEN, type TestApi } from "../helpers/api.ts";
import { waitFor } from "../helpers/wait.ts";
import { certificateCrd, clusterIssuerCrd, monitorCrd } from "../fixtures/crds.ts";

const CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
const MONITORS = "/apis/example.com/v1/namespaces/default/monitors";
const CERTS = "/apis/example.com/v1/namespaces/default/certificates";
const merge = { "content-type": "application/merge-patch+json" };

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
  for (const crd of [monitorCrd(), certificateCrd(), clusterIssuerCrd()])
    expect((await api.json("POST", CRDS, crd)).status).toBe(201);
});
afterAll(() => api.close());

const monitor = (name: string, spec: Record<string, unknown> = {}, labels?: Record<string, string>) => ({
  apiVersion: "example.com/v1",
  kind: "Monitor",
  metadata: { name, labels },
  spec: { selector: {}, ...spec },
});
const cert = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: "example.com/v1",
  kind: "Certificate",
  metadata: { name },
  spec: { secretName: `${name}-tls`, issuerRef: { name: "ca" }, ...spec },
});

describe("CustomResourceDefinition", () => {
  test("an accepted CRD is Established with its names and stored version, and carries the cleanup finalizer", async () => {
    const { body } = await api.json("GET", `${CRDS}/monitors.example.com`);
    const conds = Object.fromEntries(body.status.conditions.map((c: any) => [c.type, [c.status, c.reason]]));
    expect(conds).toEqual({ NamesAccepted: ["True", "NoConflicts"], Established: ["True", "InitialNamesAccepted"] });
    expect(body.status.acceptedNames).toMatchObject({
      plural: "monitors",
      kind: "Monitor",
      listKind: "MonitorList",
      shortNames: ["smon"],
      categories: ["prometheus-operator"],
    });
    expect(body.status.storedVersions).toEqual(["v1"]);
    expect(body.metadata.finalizers).toEqual(["customresourcecleanup.apiextensions.k8s.io"]);
  });

  test("discovery lists the custom resources at once, with subresources, short names and versions", async () => {
    const { body } = await api.json("GET", "/apis/example.com/v1");
    const names = body.resources.map((r: any) => r.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "monitors",
        "monitors/status",
        "monitors/scale",
        "certificates",
        "certificates/status",
        "clusterissuers",
      ]),
    );
    expect(body.resources.find((r: any) => r.name === "clusterissuers").namespaced).toBe(false);
    const group = (await api.json("GET", "/apis/example.com")).body;
    expect(group.versions.map((v: any) => v.version)).toEqual(["v1", "v1beta1"]);
    expect(group.preferredVersion.version).toBe("v1");
  });

  test("invalid CRDs are refused with upstream's messages", async () => {
    const bad = monitorCrd() as any;
    bad.metadata.name = "wrong.example.com";
    let r = await api.json("POST", CRDS, bad);
    expect(r.status).toBe(422);
    expect(r.body.message).toContain(
      'metadata.name: Invalid value: "wrong.example.com": must be spec.names.plural+"."+spec.group',
    );

    const nonStructural = certificateCrd() as any;
    nonStructural.metadata.name = "things.example.com";
    nonStructural.spec.names = { plural: "things", kind: "Thing" };
    delete nonStructural.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.issuerRef.type;
    r = await api.json("POST", CRDS, nonStructural);
    expect(r.status).toBe(422);
    expect(r.body.message).toContain(
      "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[issuerRef].type: Required value: " +
        "must not be empty for specified object fields",
    );

    const webhook = {
      ...nonStructural,
      spec: {
        ...(certificateCrd().spec as object),
        names: { plural: "things", kind: "Thing" },
        conversion: { strategy: "Webhook" },
      },
    };
    r = await api.json("POST", CRDS, webhook);
    expect(r.body.message).toContain(
      'spec.conversion.strategy: Unsupported value: "Webhook": supported values: "None"',
    );

    const twoStorage = monitorCrd() as any;
    twoStorage.spec.versions[1].storage = true;
    twoStorage.metadata.name = "monitors2.example.com";
    twoStorage.spec.names = { plural: "monitors2", kind: "Monitor2" };
    r = await api.json("POST", CRDS, twoStorage);
    expect(r.body.message).toContain("spec.versions: Invalid value");
    expect(r.body.message).toContain("must have exactly one version marked as storage version");

    const celBroken = certificateCrd() as any;
    celBroken.metadata.name = "things.example.com";
    celBroken.spec.names = { plural: "things", kind: "Thing" };
    celBroken.spec.versions[0].schema.openAPIV3Schema.properties.spec["x-kubernetes-validations"] = [
      { rule: "self.x >" },
    ];
    r = await api.json("POST", CRDS, celBroken);
    expect(r.status).toBe(422);
    expect(r.body.message).toContain("x-kubernetes-validations[0].rule: Invalid value");
  });

  test("a CRD whose names are taken is stored with NamesAccepted False and not served", async () => {
    const dup = monitorCrd() as any;
    dup.metadata.name = "servicemonitors.example.com";
    dup.spec.names = { plural: "servicemonitors", singular: "servicemonitor", kind: "Monitor", shortNames: ["svcmon"] };
    const r = await api.json("POST", CRDS, dup);
    expect(r.status).toBe(201);
    const conds = Object.fromEntries(r.body.status.conditions.map((c: any) => [c.type, c]));
    expect(conds.NamesAccepted).toMatchObject({
      status: "False",
      reason: "KindConflict",
      message: '"Monitor" is already in use',
    });
    expect(conds.Established).toMatchObject({ status: "False", reason: "NotAccepted" });
    expect((await api.json("GET", "/apis/example.com/v1/servicemonitors")).status).toBe(404);
    expect((await api.json("DELETE", `${CRDS}/servicemonitors.example.com`)).status).toBe(200);
  });

  test("a CRD refused for its names is accepted once the CRD holding them is deleted", async () => {
    const named = (plural: string) => {
      const c = monitorCrd();
      return {
        ...c,
        metadata: { name: `${plural}.example.org` },
        spec: { ...(c.spec as object), group: "example.org", names: { plural, kind: "Gauge" } },
      };
    };
    type Cond = { type: string; status: string };
    expect((await api.json("POST", CRDS, named("gauges"))).status).toBe(201);
    const second = await api.json("POST", CRDS, named("meters"));
    expect(second.body.status.conditions[0]).toMatchObject({ type: "NamesAccepted", status: "False" });
    expect((await api.json("DELETE", `${CRDS}/gauges.example.org`)).status).toBe(200);
    const conds = await waitFor("meters accepted", async () => {
      const c: Cond[] = (await api.json("GET", `${CRDS}/meters.example.org`)).body.status.conditions;
      return c.find((x) => x.type === "Established" && x.status === "True") ? c : undefined;
    });
    expect(conds.find((x) => x.type === "NamesAccepted")).toMatchObject({ status: "True", reason: "NoConflicts" });
    await waitFor("meters served", async () => (await api.json("GET", "/apis/example.org/v1/meters")).status === 200);
  });
});

describe("custom resources", () => {
  test("unknown fields are pruned, defaults applied, int-or-string and preserve-unknown-fields kept", async () => {
    const r = await api.json(
      "POST",
      MONITORS,
      monitor("prune", {
        junk: 1,
        endpoints: [{ port: "web", targetPort: 8080, relabelings: [{ sourceLabels: ["a"] }], extra: true }],
      }),
    );
    expect(r.status).toBe(201);
    expect(r.body.spec.junk).toBeUndefined();
    expect(r.body.spec.endpoints[0]).toEqual({
      port: "web",
      targetPort: 8080,
      relabelings: [{ sourceLabels: ["a"], action: "replace", regex: "(.*)", separator: ";" }],
    });
    expect(r.body.metadata.generation).toBe(1);
    const issuer = {
      apiVersion: "example.com/v1",
      kind: "ClusterIssuer",
      metadata: { name: "acme" },
      spec: {
        acme: {
          server: "https://acme.test/dir",
          privateKeySecretRef: { name: "k" },
          solvers: [
            {
              dns01: { anything: { deep: [1, 2] } },
              http01: {
                ingress: {
                  podTemplate: { apiVersion: "v1", kind: "Pod", metadata: { labels: { a: "b" } }, spec: { x: 1 } },
                },
              },
            },
          ],
        },
      },
    };
    const i = await api.json("POST", "/apis/example.com/v1/clusterissuers", issuer);
    expect(i.status).toBe(201);
    expect(i.body.spec.acme.solvers[0].dns01).toEqual({ anything: { deep: [1, 2] } });
    expect(i.body.spec.acme.solvers[0].http01.ingress.podTemplate.metadata).toEqual({ labels: { a: "b" } });
    expect(i.body.spec.acme.skipTLSVerify).toBe(false);
  });

  test("an instance failing its schema is a 422 naming every field as upstream, and is not stored", async () => {
    const r = await api.json(
      "POST",
      MONITORS,
      monitor("bad", {
        sampleLimit: "many",
        endpoints: [{ port: 1, targetPort: true, interval: "5 minutes", scheme: "ftp" }],
        selector: { matchExpressions: [{ key: "a", operator: "Bad" }] },
        namespaceSelector: { matchNames: ["a", "a"] },
      }),
    );
    expect(r.status).toBe(422);
    const causes = Object.fromEntries(r.body.details.causes.map((c: any) => [c.field, c.message]));
    expect(causes["spec.sampleLimit"]).toBe(
      'Invalid value: "string": spec.sampleLimit in body must be of type integer: "string"',
    );
    expect(causes["spec.endpoints[0].targetPort"]).toBe(
      'Invalid value: "boolean": spec.endpoints[0].targetPort in body must be of type integer,string: "boolean"',
    );
    expect(causes["spec.endpoints[0].scheme"]).toBe('Unsupported value: "ftp": supported values: "http", "https"');
    expect(causes["spec.endpoints[0].interval"]).toStartWith(
      'Invalid value: "5 minutes": spec.endpoints[0].interval in body should match \'^(0|',
    );
    expect(causes["spec.selector.matchExpressions[0].operator"]).toContain("Unsupported value");
    expect(causes["spec.namespaceSelector.matchNames[1]"]).toBe('Duplicate value: "a"');
    expect(r.body.message).toStartWith('Monitor.example.com "bad" is invalid: [');
    expect((await api.json("GET", `${MONITORS}/bad`)).status).toBe(404);

    const missing = await api.json("POST", CERTS, {
      apiVersion: "example.com/v1",
      kind: "Certificate",
      metadata: { name: "nope" },
      spec: { commonName: "x".repeat(65), privateKey: { size: 9000 }, emailAddresses: ["not-an-email"] },
    });
    const mc = Object.fromEntries(missing.body.details.causes.map((c: any) => [c.field, c.message]));
    expect(mc["spec.issuerRef"]).toBe("Required value");
    expect(mc["spec.secretName"]).toBe("Required value");
    expect(mc["spec.commonName"]).toBe("Too long: may not be longer than 64");
    expect(mc["spec.privateKey.size"]).toBe(
      "Invalid value: 9000: spec.privateKey.size in body should be less than or equal to 8192",
    );
    expect(mc["spec.emailAddresses[0]"]).toBe(
      'Invalid value: "not-an-email": spec.emailAddresses[0] in body must be of type email: "not-an-email"',
    );
    const issuer = await api.json("POST", "/apis/example.com/v1/clusterissuers", {
      apiVersion: "example.com/v1",
      kind: "ClusterIssuer",
      metadata: { name: "two" },
      spec: { ca: { secretName: "a" }, selfSigned: {} },
    });
    expect(issuer.body.details.causes[0]).toMatchObject({ field: "spec", reason: "FieldValueTooMany" });
  });

  test("x-kubernetes-validations (CEL) rules are evaluated", async () => {
    const bad = await api.json("POST", CERTS, cert("ca", { isCA: true, usages: ["server auth"] }));
    expect(bad.status).toBe(422);
    expect(bad.body.message).toBe(
      `Certificate.example.com "ca" is invalid: spec: Invalid value: "object": a CA certificate needs the ` +
        `'cert sign' usage`,
    );
    expect((await api.json("POST", CERTS, cert("ca", { isCA: true, usages: ["cert sign"] }))).status).toBe(201);
  });

  test("versions: the same object through each served version; the deprecated one warns", async () => {
    await api.json("POST", MONITORS, monitor("versions"));
    const res = await api.request("GET", "/apis/example.com/v1beta1/namespaces/default/monitors/versions");
    expect(res.headers.get("warning")).toBe('299 - "example.com/v1beta1 Monitor is deprecated"');
    expect(((await res.json()) as any).apiVersion).toBe("example.com/v1beta1");
    const v1 = await api.json("GET", `${MONITORS}/versions`);
    expect(v1.body.apiVersion).toBe("example.com/v1");
    const list = await api.json("GET", "/apis/example.com/v1beta1/monitors");
    expect(list.body.kind).toBe("MonitorList");
    expect(list.body.items.every((o: any) => o.apiVersion === "example.com/v1beta1")).toBe(true);
  });

  test("server-side tables show the printer columns (priority ones marked for -o wide)", async () => {
    await api.json("POST", CERTS, cert("web"));
    await api.json(
      "PATCH",
      `${CERTS}/web/status`,
      { status: { conditions: [{ type: "Ready", status: "True", message: "issued" }] } },
      merge,
    );
    const { body } = await api.json("GET", `${CERTS}/web`, undefined, {
      accept: "application/json;as=Table;v=v1;g=meta.k8s.io",
    });
    expect(body.columnDefinitions.map((c: any) => [c.name, c.priority])).toEqual([
      ["Name", 0],
      ["Ready", 0],
      ["Secret", 0],
      ["Issuer", 1],
      ["Status", 1],
      ["Age", 0],
    ]);
    expect(body.rows[0].cells.slice(0, 5)).toEqual(["web", "True", "web-tls", "ca", "issued"]);
    expect(body.rows[0].cells[5]).toMatch(/^\d+s$/);
  });

  test("label and field selectors, selectableFields included; unknown fields are a 400", async () => {
    await api.json("POST", MONITORS, monitor("sel-a", { jobLabel: "api" }, { team: "a" }));
    await api.json("POST", MONITORS, monitor("sel-b", { jobLabel: "db" }, { team: "b" }));
    const names = async (q: string) =>
      (await api.json("GET", `${MONITORS}?${q}`)).body.items.map((o: any) => o.metadata.name);
    expect(await names("labelSelector=team%3Da")).toEqual(["sel-a"]);
    expect(await names("fieldSelector=spec.jobLabel%3Ddb")).toEqual(["sel-b"]);
    expect(await names("fieldSelector=metadata.name%3Dsel-a")).toEqual(["sel-a"]);
    expect((await api.json("GET", `${MONITORS}?fieldSelector=spec.port%3D1`)).status).toBe(400);
  });

  test("watch with a label selector sees the matching instances only", async () => {
    const first = (await api.json("POST", MONITORS, monitor("w0"))).body;
    const res = await api.request(
      "GET",
      `${MONITORS}?watch=true&labelSelector=watch%3Dyes&resourceVersion=${first.metadata.resourceVersion}`,
    );
    await api.json("POST", MONITORS, monitor("w1", {}, { watch: "no" }));
    await api.json("POST", MONITORS, monitor("w2", {}, { watch: "yes" }));
    await api.json("DELETE", `${MONITORS}/w2`);
    const events = await readWatch(res, (e) => e.length >= 2);
    expect(events.map((e) => [e.type, e.object.metadata.name, e.object.apiVersion])).toEqual([
      ["ADDED", "w2", "example.com/v1"],
      ["DELETED", "w2", "example.com/v1"],
    ]);
  });

  test(
    "status subresource: the main resource ignores status, /status ignores the rest; generation follows spec " + "only",
    async () => {
      const created = (await api.json("POST", MONITORS, { ...monitor("st"), status: { replicas: 9 } })).body;
      expect(created.status).toBeUndefined();
      const put = await api.json("PUT", `${MONITORS}/st`, {
        ...created,
        spec: { ...created.spec, jobLabel: "x" },
        status: { replicas: 5 },
      });
      expect(put.body.status).toBeUndefined();
      expect(put.body.metadata.generation).toBe(2);
      const st = await api.json(
        "PATCH",
        `${MONITORS}/st/status`,
        { status: { replicas: 3 }, spec: { jobLabel: "ignored" } },
        merge,
      );
      expect(st.body.status).toEqual({ replicas: 3 });
      expect(st.body.spec.jobLabel).toBe("x");
      expect(st.body.metadata.generation).toBe(2);
      const labelled = await api.json("PATCH", `${MONITORS}/st`, { metadata: { labels: { a: "b" } } }, merge);
      expect(labelled.body.metadata.generation).toBe(2);
    },
  );

  test("status writes are pruned, defaulted and checked for unknown fields as the main resource is", async () => {
    const crd = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "probes.example.com" },
      spec: {
        group: "example.com",
        scope: "Namespaced",
        names: { plural: "probes", singular: "probe", kind: "Probe" },
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            subresources: { status: {} },
            schema: {
              openAPIV3Schema: {
                type: "object",
                properties: {
                  spec: { type: "object", properties: { target: { type: "string" } } },
                  status: {
                    type: "object",
                    properties: { phase: { type: "string", default: "Pending" }, count: { type: "integer" } },
                  },
                },
              },
            },
          },
        ],
      },
    };
    expect((await api.json("POST", CRDS, crd)).status).toBe(201);
    const PROBES = "/apis/example.com/v1/namespaces/default/probes";
    await waitFor("probes served", async () => (await api.json("GET", PROBES)).status === 200);
    const created = await api.json("POST", PROBES, {
      apiVersion: "example.com/v1",
      kind: "Probe",
      metadata: { name: "p" },
    });
    expect(created.status).toBe(201);
    const body = { ...created.body, status: { count: 1, bogus: true } };

    const strict = await api.json("PUT", `${PROBES}/p/status?fieldValidation=Strict`, body);
    expect(strict.status).toBe(400);
    expect(strict.body.message).toBe(
      'Probe in version "v1" cannot be handled as a Probe: strict decoding error: unknown field "status.bogus"',
    );
    const warned = await api.request("PUT", `${PROBES}/p/status`, body);
    expect(warned.status).toBe(200);
    expect(warned.headers.get("warning")).toBe('299 - "unknown field \\"status.bogus\\""');
    expect((await warned.json()).status).toEqual({ count: 1, phase: "Pending" });

    const patch = { status: { extra: 1, count: 2 } };
    const strictPatch = await api.json("PATCH", `${PROBES}/p/status?fieldValidation=Strict`, patch, merge);
    expect(strictPatch.status).toBe(400);
    expect(strictPatch.body.message).toBe('strict decoding error: unknown field "status.extra"');
    const ignored = await api.request("PATCH", `${PROBES}/p/status?fieldValidation=Ignore`, patch, merge);
    expect(ignored.status).toBe(200);
    expect(ignored.headers.get("warning")).toBeNull();
    expect((await ignored.json()).status).toEqual({ count: 2, phase: "Pending" });
    // Defaults fill a status written without them.
    const reset = await api.json("PUT", `${PROBES}/p/status`, {
      ...created.body,
      metadata: { name: "p" }, // no resourceVersion: the writes above moved it
      status: { count: 3 },
    });
    expect(reset.body.status).toEqual({ count: 3, phase: "Pending" });
  });

  test("scale subresource reads and writes the declared replica paths", async () => {
    await api.json("POST", MONITORS, monitor("sc", { replicas: 2 }));
    await api.json("PATCH", `${MONITORS}/sc/status`, { status: { replicas: 1 } }, merge);
    const scale = await api.json("GET", `${MONITORS}/sc/scale`);
    expect(scale.body).toMatchObject({
      kind: "Scale",
      apiVersion: "autoscaling/v1",
      spec: { replicas: 2 },
      status: { replicas: 1 },
    });
    const r = await api.json("PATCH", `${MONITORS}/sc/scale`, { spec: { replicas: 4 } }, merge);
    expect(r.body.spec.replicas).toBe(4);
    expect((await api.json("GET", `${MONITORS}/sc`)).body.spec.replicas).toBe(4);
  });

  test("patches: merge, JSON and apply work; strategic merge is a 415 as upstream", async () => {
    await api.json("POST", MONITORS, monitor("p"));
    expect(
      (
        await api.json("PATCH", `${MONITORS}/p`, [{ op: "add", path: "/spec/jobLabel", value: "j" }], {
          "content-type": "application/json-patch+json",
        })
      ).body.spec.jobLabel,
    ).toBe("j");
    const sm = await api.json(
      "PATCH",
      `${MONITORS}/p`,
      { spec: { jobLabel: "k" } },
      { "content-type": "application/strategic-merge-patch+json" },
    );
    expect(sm.status).toBe(415);
    const applied = await api.json(
      "PATCH",
      `${MONITORS}/applied?fieldManager=test`,
      "apiVersion: example.com/v1\nkind: Monitor\nmetadata:\n  name: applied\nspec:\n  selector: {}\n  " +
        "jobLabel: from-apply\n",
      { "content-type": "application/apply-patch+yaml" },
    );
    expect(applied.status).toBe(201);
    expect(applied.body.spec.jobLabel).toBe("from-apply");
    expect(applied.body.metadata.managedFields[0]).toMatchObject({ manager: "test", operation: "Apply" });
    const badPatch = await api.json("PATCH", `${MONITORS}/p`, { spec: { sampleLimit: "x" } }, merge);
    expect(badPatch.status).toBe(422);
  });

  test("deleting a CRD deletes its instances, then the CRD, and the kind leaves discovery", async () => {
    const crd = certificateCrd() as any;
    crd.metadata.name = "tmps.example.com";
    crd.spec.names = { plural: "tmps", kind: "Tmp" };
    await api.json("POST", CRDS, crd);
    for (const n of ["a", "b"])
      expect(
        (
          await api.json("POST", "/apis/example.com/v1/namespaces/default/tmps", {
            ...cert(n),
            apiVersion: "example.com/v1",
            kind: "Tmp",
          })
        ).status,
      ).toBe(201);
    expect((await api.json("DELETE", `${CRDS}/tmps.example.com`)).status).toBe(200);
    await waitFor("CRD gone", async () => (await api.json("GET", `${CRDS}/tmps.example.com`)).status === 404);
    expect((await api.json("GET", "/apis/example.com/v1")).body.resources.map((r: any) => r.name)).not.toContain(
      "tmps",
    );
    const left = await api.store.list("/registry/tmps.example.com/");
    expect(left.kvs.length).toBe(0);
  });

  test("defaults added to the schema later are applied on read", async () => {
    const gadgets = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: "gadgets.example.com" },
      spec: {
        group: "example.com",
        scope: "Cluster",
        names: { plural: "gadgets", kind: "Gadget" },
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: "object",
                properties: { spec: { type: "object", properties: { size: { type: "integer" } } } },
              },
            },
          },
        ],
      },
    };
    expect((await api.json("POST", CRDS, gadgets)).status).toBe(201);
    expect(
      (
        await api.json("POST", "/apis/example.com/v1/gadgets", {
          apiVersion: "example.com/v1",
          kind: "Gadget",
          metadata: { name: "g" },
          spec: {},
        })
      ).body.spec,
    ).toEqual({});
    const withDefault = [
      { op: "add", path: "/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/size/default", value: 3 },
    ];
    expect(
      (
        await api.json("PATCH", `${CRDS}/gadgets.example.com`, withDefault, {
          "content-type": "application/json-patch+json",
        })
      ).status,
    ).toBe(200);
    expect((await api.json("GET", "/apis/example.com/v1/gadgets/g")).body.spec).toEqual({ size: 3 });
    expect((await api.json("GET", "/apis/example.com/v1/gadgets")).body.items[0].spec).toEqual({ size: 3 });
    expect(
      (
        await api.json("POST", "/apis/example.com/v1/gadgets", {
          apiVersion: "example.com/v1",
          kind: "Gadget",
          metadata: { name: "h" },
          spec: {},
        })
      ).body.spec,
    ).toEqual({ size: 3 });
  });

  test("after a restart the stored CRDs are served again", async () => {
    const again = createApiServer({ store: api.store, token: TEST_TOKEN });
    await again.ready;
    const res = await again.fetch(
      new Request(`http://in-process${MONITORS}/prune`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } }),
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).spec.endpoints[0].targetPort).toBe(8080);
    again.close();
  });
});
