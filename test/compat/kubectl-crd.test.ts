// Real kubectl against CRDs: kubectl 1.33 applies the test CRDs (YAML, hundreds of KB of schema)
// and custom resources, prints their printer columns (and -o wide's priority ones), shows
// upstream's validation errors, patches status through --subresource, scales, watches with a
// selector, and deletes a CRD with instances; kubectl 1.27 lists the same resources.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import type { TestApi } from "../helpers/api.ts";
import { kubectlAgainstTestApi, type kubectlRunner } from "../helpers/kubectl.ts";
import { certificateCrd, clusterIssuerCrd, monitorCrd } from "../fixtures/crds.ts";

let env: Awaited<ReturnType<typeof kubectlAgainstTestApi>>;
let api: TestApi;
let work: string;
let kubectl: ReturnType<typeof kubectlRunner>;
beforeAll(async () => {
  env = await kubectlAgainstTestApi("kube-kubectl-crd");
  ({ api, work, kubectl } = env);
});
afterAll(() => env.close());

const file = (name: string, docs: unknown[]) => {
  const path = join(work, name);
  writeFileSync(path, docs.map((d) => stringify(d)).join("---\n"));
  return path;
};
const ok = (r: { code: number; out: string; err: string }) => {
  if (r.code !== 0) throw new Error(`kubectl failed (${r.code}): ${r.err}`);
  return r.out;
};

const certificate = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: "example.com/v1",
  kind: "Certificate",
  metadata: { name, labels: { tier: name === "api" ? "front" : "back" } },
  spec: {
    secretName: `${name}-tls`,
    issuerRef: { name: "ca-issuer", kind: "ClusterIssuer" },
    dnsNames: [`${name}.example.test`],
    ...extra,
  },
});

test("kubectl 1.33 applies the CRDs, which become Established", async () => {
  const crds = file("crds.yaml", [monitorCrd(), certificateCrd(), clusterIssuerCrd()]);
  const out = ok(await kubectl("1.33", ["apply", "-f", crds]));
  expect(out).toContain("customresourcedefinition.apiextensions.k8s.io/monitors.example.com created");
  ok(
    await kubectl("1.33", [
      "wait",
      "--for=condition=Established",
      "--timeout=20s",
      "crd/monitors.example.com",
      "crd/certificates.example.com",
      "crd/clusterissuers.example.com",
    ]),
  );
  expect(ok(await kubectl("1.33", ["get", "crds"]))).toMatch(/^NAME\s+CREATED AT\ncertificates.example.com\s+\d{4}-/);
  // Applying the same files again is unchanged (server-side defaults do not churn).
  expect(ok(await kubectl("1.33", ["apply", "-f", crds]))).toContain("monitors.example.com unchanged");
});

test("custom resources: apply, printer columns, -o wide, short names, validation errors", async () => {
  const certs = file("certs.yaml", [
    certificate("api"),
    certificate("db", { privateKey: { algorithm: "ECDSA", size: 256 } }),
  ]);
  expect(ok(await kubectl("1.33", ["apply", "-f", certs]))).toContain("certificate.example.com/api created");
  ok(
    await kubectl("1.33", [
      "patch",
      "certificate",
      "api",
      "--subresource=status",
      "--type=merge",
      "-p",
      '{"status":{"conditions":[{"type":"Ready","status":"True","message":"Certificate is up to date"}]}}',
    ]),
  );
  const table = ok(await kubectl("1.33", ["get", "certs"]));
  expect(table.split("\n")[0]).toMatch(/^NAME\s+READY\s+SECRET\s+AGE$/);
  expect(table).toMatch(/\napi\s+True\s+api-tls\s+\d+s\n/);
  const wide = ok(await kubectl("1.33", ["get", "certificates.example.com", "-o", "wide"]));
  expect(wide.split("\n")[0]).toMatch(/^NAME\s+READY\s+SECRET\s+ISSUER\s+STATUS\s+AGE$/);
  expect(wide).toMatch(/\napi\s+True\s+api-tls\s+ca-issuer\s+Certificate is up to date\s+\d+s\n/);
  expect(ok(await kubectl("1.33", ["get", "certificate", "db", "-o", "jsonpath={.spec.privateKey.encoding}"]))).toBe(
    "PKCS1",
  );

  const bad = file("bad.yaml", [certificate("bad", { privateKey: { algorithm: "DSA" }, secretName: "" })]);
  const r = await kubectl("1.33", ["apply", "-f", bad]);
  expect(r.code).not.toBe(0);
  expect(r.err).toContain('The Certificate "bad" is invalid');
  expect(r.err).toContain(
    'spec.privateKey.algorithm: Unsupported value: "DSA": supported values: "RSA", "ECDSA", "Ed25519"',
  );
  expect(r.err).toContain(
    'spec.secretName: Invalid value: "": spec.secretName in body should be at least 1 chars long',
  );
});

test("label selectors, scale subresource and the deprecated version's warning", async () => {
  expect(ok(await kubectl("1.33", ["get", "certificates", "-l", "tier=front", "-o", "name"])).trim()).toBe(
    "certificate.example.com/api",
  );
  const mon = file("mon.yaml", [
    {
      apiVersion: "example.com/v1",
      kind: "Monitor",
      metadata: { name: "node" },
      spec: {
        selector: { matchLabels: { app: "node" } },
        replicas: 1,
        jobLabel: "node",
        endpoints: [{ port: "metrics", interval: "30s" }],
      },
    },
  ]);
  ok(await kubectl("1.33", ["apply", "-f", mon]));
  expect(ok(await kubectl("1.33", ["scale", "smon/node", "--replicas=3"]))).toContain(
    "monitor.example.com/node scaled",
  );
  expect(ok(await kubectl("1.33", ["get", "smon", "node", "-o", "jsonpath={.spec.replicas}"]))).toBe("3");
  const old = await kubectl("1.33", ["get", "monitors.v1beta1.example.com", "node"]);
  expect(old.code).toBe(0);
  expect(old.err).toContain("example.com/v1beta1 Monitor is deprecated");
});

test("kubectl 1.27 lists the custom resources with their columns", async () => {
  const table = ok(await kubectl("1.27", ["get", "certificates"]));
  expect(table.split("\n")[0]).toMatch(/^NAME\s+READY\s+SECRET\s+AGE$/);
  expect(table).toMatch(/\ndb\s+db-tls\s+\d+s\n/); // a missing value is an empty cell
  expect(ok(await kubectl("1.27", ["get", "smon"]))).toMatch(/\nnode\s+node\s+\d+s\n/);
});

test("deleting a CRD with instances removes the instances and the resource type", async () => {
  const r = ok(await kubectl("1.33", ["delete", "crd", "certificates.example.com"]));
  expect(r).toContain('customresourcedefinition.apiextensions.k8s.io "certificates.example.com" deleted');
  const after = await kubectl("1.33", ["get", "certificates.example.com"]);
  expect(after.code).not.toBe(0);
  expect(after.err).toContain(`the server doesn't have a resource type "certificates"`);
  expect((await api.store.list("/registry/certificates.example.com/")).kvs).toEqual([]);
});
