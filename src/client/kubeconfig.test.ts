import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { kubeconfigPath, mergeKubeconfig, readKubeconfig, writeKubeconfig } from "./kubeconfig.ts";

const dir = mkdtempSync(join(tmpdir(), "kube-kubeconfig-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const kubectl = "/usr/lib/google-cloud-sdk/bin/kubectl.1.30";

describe("writeKubeconfig", () => {
  test("creates the parent directory and a 0600 file that reads back", () => {
    const path = join(dir, "a", "b", "kubeconfig");
    writeKubeconfig(path, { server: "http://127.0.0.1:6443", token: "s3cret", name: "kube" });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readKubeconfig(path)).toEqual({ server: "http://127.0.0.1:6443", token: "s3cret", context: "kube" });
  });

  test("replacing a file keeps it 0600", () => {
    const path = join(dir, "loose");
    writeFileSync(path, "old", { mode: 0o644 });
    writeKubeconfig(path, { server: "http://127.0.0.1:1", token: "t2", name: "c", namespace: "team" });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readKubeconfig(path)).toEqual({
      server: "http://127.0.0.1:1",
      token: "t2",
      namespace: "team",
      context: "c",
    });
  });

  test("real kubectl accepts it: server, token and context as written", () => {
    const path = join(dir, "for-kubectl");
    writeKubeconfig(path, { server: "http://127.0.0.1:6443", token: "abc123", name: "kube" });
    const run = Bun.spawnSync([kubectl, "--kubeconfig", path, "config", "view", "--minify", "--raw", "-o", "json"], {
      env: { ...process.env, HOME: dir },
    });
    expect(run.stderr.toString()).toBe("");
    expect(run.exitCode).toBe(0);
    const view = JSON.parse(run.stdout.toString());
    expect(view["current-context"]).toBe("kube");
    expect(view.clusters).toEqual([{ name: "kube", cluster: { server: "http://127.0.0.1:6443" } }]);
    expect(view.users).toEqual([{ name: "kube", user: { token: "abc123" } }]);
    expect(view.contexts).toEqual([{ name: "kube", context: { cluster: "kube", user: "kube" } }]);
  });
});

describe("readKubeconfig", () => {
  const multi = `
apiVersion: v1
kind: Config
current-context: second
clusters:
- name: one
  cluster: { server: "https://one.example:6443" }
- name: two
  cluster:
    server: https://two.example:6443
    insecure-skip-tls-verify: true
    certificate-authority-data: ${Buffer.from("PEM").toString("base64")}
users:
- name: u1
  user: { token: t1 }
- name: u2
  user: { tokenFile: token.txt }
contexts:
- name: first
  context: { cluster: one, user: u1 }
- name: second
  context: { cluster: two, user: u2, namespace: apps }
`;

  test("follows current-context to its cluster, user (token file beside the config) and namespace", () => {
    const path = join(dir, "multi");
    writeFileSync(path, multi);
    writeFileSync(join(dir, "token.txt"), "from-file\n");
    expect(readKubeconfig(path)).toEqual({
      server: "https://two.example:6443",
      token: "from-file",
      namespace: "apps",
      context: "second",
      insecureSkipTLSVerify: true,
      ca: "PEM",
    });
  });

  test("a named context overrides current-context", () => {
    const path = join(dir, "multi");
    writeFileSync(path, multi);
    expect(readKubeconfig(path, "first")).toEqual({
      server: "https://one.example:6443",
      token: "t1",
      context: "first",
    });
  });

  test("clear errors for a missing file, a missing context and no current-context", () => {
    expect(() => readKubeconfig(join(dir, "nope"))).toThrow(/cannot read kubeconfig/);
    const path = join(dir, "bad");
    writeFileSync(path, "apiVersion: v1\nkind: Config\ncurrent-context: ghost\n");
    expect(() => readKubeconfig(path)).toThrow(/context "ghost" not found/);
    writeFileSync(path, "apiVersion: v1\nkind: Config\n");
    expect(() => readKubeconfig(path)).toThrow(/no current-context/);
    writeFileSync(path, "a: [\n");
    expect(() => readKubeconfig(path)).toThrow(/not valid YAML/);
  });
});

describe("kubeconfigPath", () => {
  test("the flag wins, then KUBECONFIG's first entry, then the default", () => {
    const saved = process.env.KUBECONFIG;
    try {
      process.env.KUBECONFIG = ":/env/first:/env/second";
      expect(kubeconfigPath("/flag", "/default")).toBe("/flag");
      expect(kubeconfigPath(undefined, "/default")).toBe("/env/first");
      delete process.env.KUBECONFIG;
      expect(kubeconfigPath(undefined, "/default")).toBe("/default");
      expect(kubeconfigPath()).toMatch(/\.kube\/config$/);
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
  });
});

describe("mergeKubeconfig", () => {
  test("adds the cluster to an existing kubeconfig, keeping the others, and makes it current", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kube-merge-"));
    const path = join(dir, "config");
    writeFileSync(
      path,
      "apiVersion: v1\nkind: Config\nclusters:\n- name: other\n  cluster: { server: https://example.invalid }\nusers:\n- name: other\n  user: { token: t0 }\ncontexts:\n- name: other\n  context: { cluster: other, user: other }\ncurrent-context: other\n",
    );
    mergeKubeconfig(path, { server: "https://127.0.0.1:6443", token: "t1", name: "kube" });
    mergeKubeconfig(path, { server: "https://127.0.0.1:7443", token: "t2", name: "kube" });
    const doc = parse(await Bun.file(path).text());
    expect(doc.clusters.map((c: any) => c.name)).toEqual(["other", "kube"]);
    expect(doc["current-context"]).toBe("kube");
    expect(readKubeconfig(path)).toMatchObject({ server: "https://127.0.0.1:7443", token: "t2" });
    expect(readKubeconfig(path, "other").token).toBe("t0");
    rmSync(dir, { recursive: true, force: true });
  });
});
