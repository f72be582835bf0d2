// The kube CLI as a user runs it, against a real API server over HTTPS: tables, output
// formats, create/apply/delete from files, run/scale/expose, describe, and bad input that
// must end in one line on stderr and exit code 1.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeKubeconfig } from "../../src/client/kubeconfig.ts";
import { startTestApi, TEST_TOKEN, type TestApi } from "../helpers/api.ts";

const MAIN = join(import.meta.dir, "../../src/main.ts");
let api: TestApi;
let work: string;
let kubeconfig: string;
beforeAll(async () => {
  api = await startTestApi();
  const served = await api.listen();
  work = mkdtempSync(join(tmpdir(), "kube-cli-"));
  kubeconfig = join(work, "kubeconfig");
  writeKubeconfig(kubeconfig, { server: served.url, token: TEST_TOKEN, ca: served.ca, name: "kube" });
});
afterAll(async () => {
  await api.close();
  rmSync(work, { recursive: true, force: true });
});

async function kube(
  args: string[],
  stdin?: string,
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], {
    stdin: stdin !== undefined ? new Blob([stdin]) : "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, KUBECONFIG: kubeconfig, XDG_DATA_HOME: join(work, "data"), ...env },
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, out, err };
}

const manifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: { app: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
      - name: c
        image: localhost/busybox:latest
        ports: [{ containerPort: 8080 }]
---
apiVersion: v1
kind: ConfigMap
metadata: { name: settings }
data: { mode: fast }
`;

describe("files", () => {
  test("get on an empty namespace says so", async () => {
    const r = await kube(["get", "pods"]);
    expect(r.code).toBe(0);
    expect(r.err.trim()).toBe("No resources found in default namespace.");
  });

  test("create -f creates every document and says what it did", async () => {
    writeFileSync(join(work, "app.yaml"), manifest);
    const r = await kube(["create", "-f", join(work, "app.yaml")]);
    expect(r.err).toBe("");
    expect(r.out.trim().split("\n")).toEqual(["deployment.apps/web created", "configmap/settings created"]);
  });

  test("apply of the same file is unchanged; a change is configured", async () => {
    // The first apply takes over objects made by create (like kubectl, it reports them configured).
    expect((await kube(["apply", "-f", join(work, "app.yaml")])).code).toBe(0);
    const same = await kube(["apply", "-f", join(work, "app.yaml")]);
    expect(same.out).toContain("deployment.apps/web unchanged");
    const changed = await kube(["apply", "-f", "-"], manifest.replace("replicas: 2", "replicas: 3"));
    expect(changed.out).toContain("deployment.apps/web configured");
    expect(changed.out).toContain("configmap/settings unchanged");
  });

  test("a multi-document file with one bad document applies nothing", async () => {
    const bad =
      manifest.replace("name: settings", "name: other").replace("replicas: 3", "replicas: 2") +
      "---\napiVersion: v1\nkind: Pod\nmetadata: { name: Bad_Name }\nspec: { containers: [] }\n";
    const r = await kube(["apply", "-f", "-"], bad);
    expect(r.code).toBe(1);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toContain('Pod "Bad_Name" is invalid');
    expect((await kube(["get", "configmap", "other"])).code).toBe(1);
  });
});

describe("get", () => {
  test("tables have kubectl's columns; -o wide adds more", async () => {
    const r = await kube(["get", "deploy"]);
    expect(r.out.split("\n")[0]).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
    expect(r.out).toMatch(/^web\s+0\/3\s+0\s+0\s+\d+s$/m);
    const wide = await kube(["get", "deployments", "-o", "wide"]);
    expect(wide.out.split("\n")[0]).toMatch(/CONTAINERS\s+IMAGES\s+SELECTOR$/);
    expect(wide.out).toContain("localhost/busybox:latest");
  });

  test("-o json, yaml, name and jsonpath", async () => {
    expect(JSON.parse((await kube(["get", "deploy", "web", "-o", "json"])).out).spec.replicas).toBe(3);
    expect((await kube(["get", "cm", "settings", "-o", "yaml"])).out).toContain("mode: fast");
    expect((await kube(["get", "deploy", "-o", "name"])).out.trim()).toBe("deployment.apps/web");
    expect((await kube(["get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"])).out).toBe(
      "localhost/busybox:latest",
    );
    expect((await kube(["get", "deploy", "-o", 'jsonpath={range .items[*]}{.metadata.name}{"\\n"}{end}'])).out).toBe(
      "web\n",
    );
  });

  test("-w prints the table, then each change as it happens", async () => {
    const proc = Bun.spawn([process.execPath, MAIN, "get", "cm", "-w"], {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, KUBECONFIG: kubeconfig, XDG_DATA_HOME: join(work, "data") },
    });
    const reader = proc.stdout.getReader();
    let out = "";
    const readUntil = async (re: RegExp) => {
      const deadline = Date.now() + 10_000;
      while (!re.test(out)) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out waiting for ${re}; output so far: ${JSON.stringify(out)}`);
        const r = await Promise.race([reader.read(), Bun.sleep(left).then(() => undefined)]);
        if (!r || r.done) continue;
        out += new TextDecoder().decode(r.value);
      }
    };
    try {
      await readUntil(/^settings\s/m);
      await api.json("POST", "/api/v1/namespaces/default/configmaps", {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "watched-later" },
        data: { a: "1" },
      });
      await readUntil(/^watched-later\s+1\s/m);
    } finally {
      proc.kill();
    }
    expect(out.split("\n")[0]).toMatch(/^NAME\s+DATA\s+AGE$/);
    expect(out).toMatch(/^watched-later\s+1\s/m);
  });

  test("-A shows the namespace column; -l filters", async () => {
    const all = await kube(["get", "cm", "-A"]);
    expect(all.out.split("\n")[0]).toMatch(/^NAMESPACE\s+NAME\s+DATA\s+AGE$/);
    const none = await kube(["get", "deploy", "-l", "app=other"]);
    expect(none.out).toBe("");
  });
});

describe("workloads", () => {
  test("run creates a Deployment, or a Pod with --restart=Never", async () => {
    expect((await kube(["run", "api", "--image=localhost/busybox:latest", "--port=80", "--env=A=1"])).out.trim()).toBe(
      "deployment.apps/api created",
    );
    const d = JSON.parse((await kube(["get", "deploy", "api", "-o", "json"])).out);
    expect(d.spec.template.spec.containers[0]).toMatchObject({
      image: "localhost/busybox:latest",
      ports: [{ containerPort: 80 }],
      env: [{ name: "A", value: "1" }],
    });
    expect(d.spec.selector.matchLabels).toEqual({ run: "api" });
    expect(
      (
        await kube(["run", "once", "--image=localhost/busybox:latest", "--restart=Never", "--", "echo", "hi"])
      ).out.trim(),
    ).toBe("pod/once created");
    const p = JSON.parse((await kube(["get", "pod", "once", "-o", "json"])).out);
    expect(p.spec.containers[0].args).toEqual(["echo", "hi"]);
  });

  test("scale and expose", async () => {
    expect((await kube(["scale", "deploy/web", "--replicas=5"])).out.trim()).toBe("deployment.apps/web scaled");
    expect(JSON.parse((await kube(["get", "deploy", "web", "-o", "json"])).out).spec.replicas).toBe(5);
    expect((await kube(["expose", "deployment", "web", "--port=80", "--target-port=8080"])).out.trim()).toBe(
      "service/web exposed",
    );
    const svc = JSON.parse((await kube(["get", "svc", "web", "-o", "json"])).out);
    expect(svc.spec).toMatchObject({ selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] });
  });

  test("describe shows the object and its events", async () => {
    const r = await kube(["describe", "deploy", "web"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("Name:         web");
    expect(r.out).toContain("Selector:     app=web");
    expect(r.out).toContain("Events:");
  });

  test("delete by name and with -f", async () => {
    expect((await kube(["delete", "svc", "web"])).out.trim()).toBe('service "web" deleted');
    const r = await kube(["delete", "-f", join(work, "app.yaml")]);
    expect(r.out).toContain('deployment.apps "web" deleted');
    expect(r.out).toContain('configmap "settings" deleted');
    expect((await kube(["get", "deploy", "web"])).code).toBe(1);
  });
});

describe("bad input ends in one line and exit 1", () => {
  const cases: [string, string[], RegExp, string?, Record<string, string>?][] = [
    ["an unknown command", ["frobnicate"], /unknown command "frobnicate"/],
    ["an unknown resource type", ["get", "widgets"], /doesn't have a resource type "widgets"/],
    ["a missing file", ["apply", "-f", "/nonexistent.yaml"], /does not exist/],
    ["invalid YAML", ["apply", "-f", "-"], /error parsing stdin/, "kind: [unclosed\n"],
    ["a missing object", ["get", "pod", "nope"], /pods "nope" not found/],
    ["an unreachable server", ["get", "pods", "--kubeconfig", "/nonexistent"], /no kubeconfig at \/nonexistent/],
    ["an unknown option", ["get", "pods", "--bogus"], /Unknown option `--bogus`/],
    ["port-forward without ports", ["port-forward", "pod/x"], /at least 1 PORT is required/],
    ["port-forward with a bad mapping", ["port-forward", "pod/x", "80:"], /invalid port mapping "80:"/],
    ["port-forward to a missing pod", ["port-forward", "pod/nope", "8080"], /pods "nope" not found/],
    ["up with a bad --gc-interval", ["up", "--gc-interval", "soon"], /--gc-interval must be a duration/],
    ["up with a --gc-interval under 1s", ["up", "--gc-interval", "500ms"], /--gc-interval must be at least 1s/],
  ];
  for (const [name, args, pattern, stdin, env] of cases)
    test(name, async () => {
      const r = await kube(args, stdin, env);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(pattern);
      expect(r.err.trim().split("\n")).toHaveLength(1);
      expect(r.err).not.toContain("    at ");
    });

  test("a server that does not answer", async () => {
    const cfg = join(work, "dead");
    writeKubeconfig(cfg, { server: "https://127.0.0.1:1", token: "x", name: "dead" });
    const r = await kube(["get", "pods", "--kubeconfig", cfg]);
    expect(r.code).toBe(1);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toMatch(/not reachable/);
  });
});
