// The web dashboard in a real headless Chromium (Debian's chromium driven by playwright-core)
// against a whole cluster with real Podman containers: logging in (a bad token, the one-time link
// of `kube dashboard`), a Deployment scaled by kubectl showing its new pods live, scaling from the
// page, a followed log, an exec terminal, a YAML edit applied server-side, and a view-only
// service account whose scale the server forbids, with the server's message on the page.
// Reports the first load's size gzipped (the budget is 300 KB). KUBE_SCREENSHOTS=1 also writes
// docs/screenshots/*.png.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { parse, stringify } from "yaml";
import { writeKubeconfig } from "../../src/client/kubeconfig.ts";
import { uiAssets } from "../../src/components/apiserver/dashboard-assets.ts";
import { BUSYBOX_IMAGE } from "../helpers/engine.ts";
import { TEST_TOKEN } from "../helpers/api.ts";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";
import { kubectlRunner } from "../helpers/kubectl.ts";
import { goto } from "../helpers/browser.ts";
import { waitFor } from "../helpers/wait.ts";

const CHROMIUM = "/usr/bin/chromium";
const SHOTS = process.env.KUBE_SCREENSHOTS ? join(import.meta.dir, "../../docs/screenshots") : undefined;
const NS = "dash";

let cluster: TestCluster;
let served: { url: string; ca: string; stop(): Promise<void> };
let browser: Browser;
let work: string;
let kubectl: ReturnType<typeof kubectlRunner>;
/** Every request any page made to another origin than the API server's (the page must work offline). */
const foreign: string[] = [];

const deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "ticker", namespace: NS },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: "ticker" } },
    template: {
      metadata: { labels: { app: "ticker" } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: "main",
            image: BUSYBOX_IMAGE,
            imagePullPolicy: "IfNotPresent",
            // A web server (busybox httpd, in the background) for the port-forward, and a log that ticks.
            command: ["sh", "-c", "httpd -p 8080 -h /etc; i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done"],
            ports: [{ containerPort: 8080 }],
          },
        ],
      },
    },
  },
};

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: scripts/podman-setup.sh installs it`);
  cluster = await startCluster({ runtime: "engine" });
  served = await cluster.api.listen();
  work = mkdtempSync(join(tmpdir(), "kube-dashboard-"));
  writeKubeconfig(join(work, "kubeconfig"), { server: served.url, token: TEST_TOKEN, ca: served.ca, name: "kube" });
  kubectl = kubectlRunner(join(work, "kubeconfig"), work);
  const api = cluster.api;
  await api.json("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
  const created = await api.json("POST", `/apis/apps/v1/namespaces/${NS}/deployments`, deployment);
  expect(created.status).toBe(201);
  await api.json("POST", `/api/v1/namespaces/${NS}/services`, {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "ticker", namespace: NS },
    spec: { selector: { app: "ticker" }, ports: [{ port: 80, targetPort: 8080 }] },
  });
  // The pod's veth comes up on the host as it starts, and Chromium fails the navigations in flight
  // when an interface comes or goes (ERR_NETWORK_CHANGED): the pages load once it is there.
  await waitFor(
    "the ticker pod Running",
    async () => (await podsOf()).some((p: { status?: { phase?: string } }) => p.status?.phase === "Running"),
    60_000,
  );
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
  // Running from source, the bundle is built on first use: once here, not inside a page load's timeout.
  await uiAssets();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await cluster?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1400, height: 860 } });
  // A shared 2-core machine can be slow: waits end on their condition, the deadline is only a backstop.
  context.setDefaultTimeout(60_000);
  context.on("request", (r) => {
    if (!r.url().startsWith(`${served.url}/`)) foreign.push(r.url());
  });
  const page = await context.newPage();
  // For a failure's diagnosis: a page that never showed its form (2 of ~10 runs of this file on a
  // loaded machine, session 37, cause not found) left nothing in the log but a selector's timeout.
  page.on("pageerror", (e) => console.error(`[page] error: ${e.message}`));
  page.on("crash", () => console.error("[page] crashed"));
  page.on("requestfailed", (r) => {
    const why = r.failure()?.errorText ?? "";
    // Streams the tests end themselves (logs, watches, terminals) are aborted on purpose.
    if (!why.includes("ERR_ABORTED")) console.error(`[page] request failed: ${r.method()} ${r.url()}: ${why}`);
  });
  return page;
}

async function shot(page: Page, name: string) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

async function login(page: Page, token: string) {
  await goto(page, `${served.url}/ui/`);
  await page.fill("textarea[name=token]", token);
  await page.click("button[type=submit]");
}

const podsOf = async () =>
  (await cluster.api.json("GET", `/api/v1/namespaces/${NS}/pods?labelSelector=app%3Dticker`)).body.items.filter(
    (p: { metadata: { deletionTimestamp?: string } }) => !p.metadata.deletionTimestamp,
  );

let admin: Page;

describe("the dashboard", () => {
  test("serves its page with a CSP; the first load (all assets) stays within 300 KB gzipped", async () => {
    const res = await fetch(`${served.url}/ui/`, { tls: { rejectUnauthorized: false } } as RequestInit);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    const page = await newPage();
    const sizes: Record<string, number> = {};
    const pending: Promise<void>[] = [];
    page.on("response", (r) => {
      if (!r.url().startsWith(served.url)) return;
      pending.push(
        r
          .body()
          .then((b) => {
            sizes[new URL(r.url()).pathname] = Bun.gzipSync(new Uint8Array(b), { level: 9 }).length;
          })
          .catch(() => {}),
      );
    });
    await goto(page, `${served.url}/ui/`, { waitUntil: "load" });
    await page.waitForSelector("textarea[name=token]");
    await Promise.all(pending);
    const total = Object.values(sizes).reduce((a, b) => a + b, 0);
    console.log(
      `dashboard first load: ${(total / 1024).toFixed(1)} KiB gzipped (${Object.entries(sizes)
        .map(([p, n]) => `${p} ${(n / 1024).toFixed(1)} KiB`)
        .join(", ")})`,
    );
    // The terminal's xterm.js is a chunk loaded when a terminal opens: the whole bundle, for the record.
    const all = [...(await uiAssets()).entries()];
    console.log(
      `dashboard bundle, every file: ${(all.reduce((n, [, a]) => n + a.gzip.length, 0) / 1024).toFixed(1)} KiB gzipped (${all
        .map(([name, a]) => `${name} ${(a.gzip.length / 1024).toFixed(1)} KiB`)
        .join(", ")})`,
    );
    expect(Object.keys(sizes)).toContain("/ui/main.js");
    expect(total).toBeLessThanOrEqual(300 * 1024);
    await shot(page, "login");
    await page.context().close();
  }, 120_000);

  test("a bad token gets the login page again with the server's verdict", async () => {
    const page = await newPage();
    await login(page, "not-a-token");
    await expect(page.textContent("[data-testid=login-error]")).resolves.toContain("401 Unauthorized");
    expect(await page.isVisible("textarea[name=token]")).toBe(true);
    await page.context().close();
  }, 120_000);

  test("`kube dashboard` prints a one-time login link that logs in once", async () => {
    const proc = Bun.spawn(
      [
        process.execPath,
        join(import.meta.dir, "../../src/main.ts"),
        "dashboard",
        "--no-browser",
        "--kubeconfig",
        join(work, "kubeconfig"),
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    expect({ code, err }).toEqual({ code: 0, err: "" });
    const link = /(https:\/\/\S+#code=[A-Za-z0-9_-]+)/.exec(out)?.[1];
    expect(link).toBeDefined();
    expect(out).not.toContain(TEST_TOKEN);
    admin = await newPage();
    await goto(admin, link!);
    await admin.waitForSelector("text=kubernetes-admin");
    expect(admin.url()).not.toContain("code=");
    // The code was spent: the same link shows the login page with a message.
    const again = await newPage();
    await goto(again, link!);
    await expect(again.textContent("[data-testid=login-error]")).resolves.toContain("not valid any more");
    await again.context().close();
  }, 120_000);

  test("a Deployment scaled with kubectl shows its new pods live; scaling from the page works", async () => {
    // A namespace typed but not yet committed survives the page re-rendering (here a namespace's watch
    // event; in a loaded full-suite run it was the view-only user's late 403 on namespaces) before Enter.
    await admin.fill("[data-testid=namespace]", NS);
    await cluster.api.json("POST", "/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "dash-rerender" },
    });
    await admin.waitForSelector("#namespace-list option[value=dash-rerender]", { state: "attached" });
    await admin.press("[data-testid=namespace]", "Enter");
    await admin.waitForFunction((ns) => sessionStorage.getItem("kube-dashboard-ns") === ns, NS);
    await goto(admin, `${served.url}/ui/#/workloads`);
    await admin.click("[data-testid=deployments] >> text=ticker");
    await admin.waitForSelector("[data-testid=detail] >> text=Deployment");
    const rows = () => admin.locator("[data-testid=workload-pods] tbody tr");
    await waitFor(
      "the first pod on the page",
      async () => (await rows().count()) === 1 && (await podsOf()).length === 1,
      60_000,
    );
    const scaled = await kubectl("1.30", ["scale", "deployment", "ticker", "-n", NS, "--replicas=3"]);
    expect(scaled.code).toBe(0);
    await waitFor("three pods on the page", async () => (await rows().count()) === 3, 60_000);
    await waitFor(
      "three running pods",
      async () => {
        const text = await admin.textContent("[data-testid=workload-pods]");
        return (text?.match(/Running/g) ?? []).length === 3;
      },
      60_000,
    );
    await shot(admin, "workload");
    await admin.fill("input[name=replicas]", "2");
    await admin.click("form.scale button[type=submit]");
    await admin.waitForSelector("[data-testid=toast] >> text=Scaled ticker to 2");
    const d = await cluster.api.json("GET", `/apis/apps/v1/namespaces/${NS}/deployments/ticker`);
    expect(d.body.spec.replicas).toBe(2);
    await waitFor("two pods on the page", async () => (await rows().count()) === 2, 60_000);
  }, 240_000);

  test("a pod's log streams, and an exec terminal runs a command", async () => {
    await admin.locator("[data-testid=workload-pods] tbody tr").first().click();
    await admin.waitForSelector("[data-testid=detail] >> text=Pod");
    await admin.click("[data-tab=logs]");
    const tick = async () => {
      const all = [...((await admin.textContent("[data-testid=logs]")) ?? "").matchAll(/tick (\d+)/g)];
      return all.length ? Number(all[all.length - 1]![1]) : -1;
    };
    const first = await waitFor("a log line", async () => ((await tick()) >= 0 ? (await tick()) + 1 : 0), 60_000);
    await waitFor("the log to follow", async () => (await tick()) >= first + 1, 60_000);
    await shot(admin, "logs");
    await admin.click("[data-tab=terminal]");
    await admin.waitForSelector("[data-testid=terminal-state] >> text=connected", { timeout: 60_000 });
    await admin.click("[data-testid=terminal]");
    await admin.keyboard.type("echo dash-$((6*7))\n");
    await waitFor(
      "the command's output in the terminal",
      async () => ((await admin.textContent(".xterm-rows")) ?? "").includes("dash-42"),
      60_000,
    );
    await shot(admin, "terminal");
    await admin.keyboard.press("Escape");
  }, 180_000);

  test("a YAML edit is applied server-side by the dashboard's field manager", async () => {
    await goto(admin, `${served.url}/ui/#/workloads`);
    await admin.click("[data-testid=deployments] >> text=ticker");
    await admin.click("[data-tab=yaml]");
    const text = await admin.inputValue("[data-testid=yaml]");
    const obj = parse(text);
    obj.metadata.labels = { ...obj.metadata.labels, edited: "by-dashboard" };
    await admin.fill("[data-testid=yaml]", stringify(obj));
    await admin.click("text=Apply");
    await admin.waitForSelector("[data-testid=toast] >> text=Applied ticker");
    const d = await cluster.api.json("GET", `/apis/apps/v1/namespaces/${NS}/deployments/ticker`);
    expect(d.body.metadata.labels.edited).toBe("by-dashboard");
    expect(d.body.metadata.managedFields.map((m: { manager: string }) => m.manager)).toContain("kube-dashboard");
    await shot(admin, "yaml");
    await admin.keyboard.press("Escape");
  }, 120_000);

  test("keyboard navigation moves between views and opens rows", async () => {
    await goto(admin, `${served.url}/ui/#/workloads`);
    await admin.waitForSelector("[data-testid=deployments]");
    await admin.keyboard.press("g");
    await admin.keyboard.press("p");
    await admin.waitForSelector("[data-testid=pods]");
    expect(admin.url()).toContain("#/pods");
    await waitFor(
      "pods listed",
      async () => (await admin.locator("[data-testid=pods] tbody tr.selected").count()) === 1,
    );
    await admin.keyboard.press("j");
    await admin.keyboard.press("Enter");
    await admin.waitForSelector("[data-testid=detail] >> text=Pod");
    await shot(admin, "pods");
    await admin.keyboard.press("Escape");
    await admin.keyboard.press("g");
    await admin.keyboard.press("s");
    await admin.waitForSelector("[data-testid=services] a[href^='http://']");
    await shot(admin, "services");
    await admin.keyboard.press("g");
    await admin.keyboard.press("n");
    await admin.waitForSelector(`[data-testid=nodes] >> text=${cluster.nodeName}`);
    await shot(admin, "nodes");
  }, 120_000);

  test("port-forward from the page: its link reaches the pod's server; stopping or the pod's end closes it", async () => {
    const [pod] = await podsOf();
    const name = pod.metadata.name as string;
    const openForward = async () => {
      await goto(admin, `${served.url}/ui/#/pods`);
      await admin.click(`[data-testid=pods] >> text=${name}`);
      await admin.click("[data-tab=ports]");
      await admin.fill("input[name=forward-port]", "8080");
      await admin.click("form.forward button[type=submit]");
      const href = await (await admin.waitForSelector("[data-testid=forward-link]")).getAttribute("href");
      expect(href).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      return href!;
    };
    const get = (href: string) =>
      fetch(`${href}hostname`, { headers: { connection: "close" } }).then(
        async (r) => `${r.status} ${(await r.text()).trim()}`,
        (err: Error) => `failed: ${err.message}`,
      );
    let href = await openForward();
    // httpd starts beside the ticker; the first answers may come before it listens.
    await waitFor("the pod's web server through the link", async () => (await get(href)) === `200 ${name}`, 60_000);
    await shot(admin, "port-forward");
    await admin.click("[data-testid=forward] >> text=Stop");
    await admin.waitForSelector("[data-testid=forward] >> text=ended (stopped)");
    expect(await get(href)).toStartWith("failed");

    href = await openForward();
    expect(await get(href)).toBe(`200 ${name}`);
    const gone = await cluster.api.json("DELETE", `/api/v1/namespaces/${NS}/pods/${name}`);
    expect(gone.status).toBe(200);
    await admin.waitForSelector(`[data-testid=forward] >> text=/ended \\(pod ${name} is (gone|being deleted)\\)/`);
    expect(await get(href)).toStartWith("failed");
    await admin.keyboard.press("Escape");
  }, 180_000);

  test("an action RBAC forbids shows the server's message", async () => {
    const api = cluster.api;
    await api.json("POST", `/api/v1/namespaces/${NS}/serviceaccounts`, {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "viewer" },
    });
    await api.json("POST", `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "viewer" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
      subjects: [{ kind: "ServiceAccount", name: "viewer", namespace: NS }],
    });
    const tr = await api.json("POST", `/api/v1/namespaces/${NS}/serviceaccounts/viewer/token`, {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: {},
    });
    const token = tr.body.status.token as string;
    const page = await newPage();
    await login(page, token);
    await page.waitForSelector(`text=system:serviceaccount:${NS}:viewer`);
    await page.fill("[data-testid=namespace]", NS);
    await page.press("[data-testid=namespace]", "Enter");
    await page.waitForFunction((ns) => sessionStorage.getItem("kube-dashboard-ns") === ns, NS);
    await goto(page, `${served.url}/ui/#/workloads`);
    await page.click("[data-testid=deployments] >> text=ticker");
    await page.fill("input[name=replicas]", "5");
    await page.click("form.scale button[type=submit]");
    const toast = await page.waitForSelector("[data-testid=toast]");
    const expected = await (
      await fetch(`${served.url}/apis/apps/v1/namespaces/${NS}/deployments/ticker/scale`, {
        method: "PATCH",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/merge-patch+json" },
        body: JSON.stringify({ spec: { replicas: 5 } }),
        tls: { rejectUnauthorized: false },
      } as RequestInit)
    ).json();
    expect(expected.code).toBe(403);
    expect(await toast.textContent()).toBe(expected.message);
    expect(expected.message).toContain(`cannot patch resource "deployments/scale"`);
    await shot(page, "forbidden");
    // Port-forward needs `get` and `create` on pods/portforward, which `view` does not grant.
    await page.keyboard.press("Escape");
    await goto(page, `${served.url}/ui/#/pods`);
    // A running pod, by name: the first row may be the one the port-forward case deleted, gone any moment.
    const [running] = await podsOf();
    await page.click(`[data-testid=pods] >> text=${running.metadata.name}`);
    await page.click("[data-tab=ports]");
    await page.click("form.forward button[type=submit]");
    await page.waitForSelector(
      `[data-testid=toast] >> text=/is forbidden: .* cannot get resource "pods\\/portforward"/`,
    );
    await page.context().close();
  }, 120_000);

  test("no page asked anything of another origin: everything is served by the API server (works offline)", () => {
    expect(foreign).toEqual([]);
  });
});
