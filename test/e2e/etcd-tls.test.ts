// `kube up --store etcd://... --etcd-cafile/--etcd-certfile/--etcd-keyfile` on a real etcd that
// serves https and asks for client certificates (certs made here with openssl): a ConfigMap
// created through the API is in etcd (read back over etcd's own https), and a missing client
// certificate or a CA that did not sign etcd's certificate makes `kube up` exit with one clear line.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningKube, startKube } from "../../bench/lib/kube-up.ts";
import { createClient, httpTransport } from "../../src/client/index.ts";
import { type EtcdTls, startEtcd, type TestEtcdCluster } from "../helpers/etcd.ts";

const work = mkdtempSync(join(tmpdir(), "kube-etcd-tls-"));
const f = (name: string) => join(work, name);
let etcd: TestEtcdCluster;
let kube: RunningKube | undefined;

function openssl(args: string[]): void {
  const r = Bun.spawnSync(["openssl", ...args], { stdout: "ignore", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl ${args[0]}: ${r.stderr.toString()}`);
}

/** A self-signed CA `name`.crt/.key, and certificates signed by it. */
function makeCa(name: string): void {
  openssl(
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"].concat([
      "-subj",
      `/CN=${name}`,
      "-keyout",
      f(`${name}.key`),
      "-out",
      f(`${name}.crt`),
    ]),
  );
}
function makeCert(ca: string, name: string, ext: string): void {
  openssl(
    ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", `/CN=${name}`].concat([
      "-keyout",
      f(`${name}.key`),
      "-out",
      f(`${name}.csr`),
    ]),
  );
  const extFile = f(`${name}.ext`);
  writeFileSync(extFile, ext);
  openssl(
    ["x509", "-req", "-in", f(`${name}.csr`), "-CA", f(`${ca}.crt`), "-CAkey", f(`${ca}.key`)].concat([
      "-CAcreateserial",
      "-days",
      "1",
      "-extfile",
      extFile,
      "-out",
      f(`${name}.crt`),
    ]),
  );
}

beforeAll(async () => {
  makeCa("ca");
  makeCa("other-ca");
  // clientAuth too: etcd's JSON gateway dials etcd's own gRPC port with the server certificate,
  // which --client-cert-auth then checks as a client certificate ("connection closed" otherwise).
  makeCert("ca", "server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n");
  makeCert("ca", "client", "extendedKeyUsage=clientAuth\n");
  const tls: EtcdTls = {
    ca: f("ca.crt"),
    cert: f("server.crt"),
    key: f("server.key"),
    clientCert: f("client.crt"),
    clientKey: f("client.key"),
  };
  etcd = await startEtcd(tls);
});
afterAll(async () => {
  await kube?.stop().catch(() => {});
  await etcd?.stop();
  rmSync(work, { recursive: true, force: true });
});

const storeArgs = () => ["--store", `etcd://${etcd.storeUrl}`];

/** Runs `kube up` expecting it to fail: its exit code and stderr. */
async function failingUp(args: string[]): Promise<{ code: number; err: string }> {
  const proc = Bun.spawn(
    [process.execPath, join(import.meta.dir, "../../src/main.ts"), "up", "--data-dir", mkdtempSync(f("up-"))].concat([
      "--port",
      "0",
      "--runtime",
      "sim",
      "--disable",
      "dns,proxy,ingress",
      ...storeArgs(),
      ...args,
    ]),
    { stdout: "ignore", stderr: "pipe" },
  );
  // A kube up that hangs instead of exiting fails the test through bun's per-test timeout.
  const [code, err] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  return { code, err: err.trim() };
}

test("kube up on etcd over https with a client certificate stores objects in etcd", async () => {
  kube = await startKube(
    [
      ...storeArgs(),
      ...["--etcd-cafile", f("ca.crt"), "--etcd-certfile", f("client.crt"), "--etcd-keyfile", f("client.key")],
      ...["--etcd-prefix", "/tls", "--runtime", "sim", "--node-name", `etcd-tls-${process.pid}`],
      ...["--disable", "dns,proxy,ingress"],
    ],
    { stdoutFile: f("kube.log") },
  );
  const cms = createClient(httpTransport(kube.url, kube.token, { ca: kube.ca })).resource("configmaps", "default");
  await cms.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "over-tls" }, data: { k: "v" } });
  expect(((await cms.get("over-tls")) as { data?: Record<string, string> }).data).toEqual({ k: "v" });

  // etcd's own view, over its https with the client certificate: the key is under the prefix.
  const tls = {
    ca: readFileSync(f("ca.crt"), "utf8"),
    cert: readFileSync(f("client.crt"), "utf8"),
    key: readFileSync(f("client.key"), "utf8"),
  };
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  const res = await fetch(`${etcd.endpoint}/v3/kv/range`, {
    method: "POST",
    body: JSON.stringify({ key: b64("/tls/"), range_end: b64("/tls0") }),
    tls,
  } as RequestInit);
  expect(res.status).toBe(200);
  const kvs = ((await res.json()) as { kvs?: { key: string; value: string }[] }).kvs ?? [];
  const hit = kvs.find((kv) => Buffer.from(kv.key, "base64").toString().includes("over-tls"));
  expect(hit && Buffer.from(hit.key, "base64").toString()).toContain("configmaps");
  expect(Buffer.from(hit!.value, "base64").toString()).toContain('"k":"v"');

  // Without a client certificate etcd itself turns the request away.
  const bare = await fetch(`${etcd.endpoint}/v3/kv/range`, {
    method: "POST",
    body: JSON.stringify({ key: b64("/tls/") }),
    tls: { ca: tls.ca },
  } as RequestInit).catch((e: Error) => e);
  expect(bare instanceof Error || !bare.ok).toBe(true);
});

test("kube up without the client certificate, or trusting another CA, exits with one line naming etcd", async () => {
  const noCert = await failingUp(["--etcd-cafile", f("ca.crt")]);
  expect(noCert.code).not.toBe(0);
  expect(noCert.err.split("\n")).toHaveLength(1);
  expect(noCert.err).toContain("etcd");
  expect(noCert.err).toContain("--etcd-certfile");

  const wrongCa = await failingUp([
    "--etcd-cafile",
    f("other-ca.crt"),
    "--etcd-certfile",
    f("client.crt"),
    "--etcd-keyfile",
    f("client.key"),
  ]);
  expect(wrongCa.code).not.toBe(0);
  expect(wrongCa.err.split("\n")).toHaveLength(1);
  expect(wrongCa.err).toContain("etcd");
  expect(wrongCa.err).toMatch(/certificate|verify|self.signed|issuer/i);
});
