// The dashboard outlives its API server: with the page open in a real headless Chromium, `kube up`
// is stopped and started again on the same data dir and port; the page says its watches are down,
// then reconnects them on its own (no reload) and shows an object created after the restart.
// No containers: the API server alone (every node component disabled).
import { afterAll, expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { startKube, type RunningKube } from "../../bench/lib/kube-up.ts";
import { tempDir } from "../../bench/lib/stats.ts";
import { goto } from "../helpers/browser.ts";
import { waitFor } from "../helpers/wait.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--runtime", "sim", "--sim-nodes", "0", "--disable", "scheduler,controllers,kubelet,proxy,dns,ingress"];
const dataDir = tempDir("dashboard-restart");
let kube: RunningKube | undefined;
let browser: Browser | undefined;

afterAll(async () => {
  await browser?.close();
  await kube?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const createNamespace = async (k: RunningKube, name: string) => {
  const res = await fetch(`${k.url}/api/v1/namespaces`, {
    method: "POST",
    headers: { authorization: `Bearer ${k.token}`, "content-type": "application/json" },
    body: JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name } }),
    tls: { ca: k.ca },
  } as RequestInit);
  expect(res.status).toBe(201);
};

test("the page reconnects its watches after the API server restarts on the same data dir and port", async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: scripts/podman-setup.sh installs it`);
  // A loaded shared machine can take long to start a process: the deadline is only a backstop.
  kube = await startKube(ARGS, { dataDir, keepDataDir: true, readyMs: 120_000 });
  const { port, token } = kube;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  context.setDefaultTimeout(60_000);
  const page = await context.newPage();
  await goto(page, `${kube.url}/ui/`);
  await page.fill("textarea[name=token]", token);
  await page.click("button[type=submit]");
  await page.waitForSelector("text=kubernetes-admin");
  await createNamespace(kube, "before-restart");
  await goto(page, `${kube.url}/ui/#/namespaces`);
  await page.waitForSelector("[data-testid=namespaces] >> text=before-restart");
  // Marks this document: a reload would lose it.
  await page.evaluate(() => Object.assign(window, { notReloaded: true }));

  const stopped = kube;
  kube = undefined;
  await stopped.stop();
  await page.waitForSelector("[role=alert]");
  kube = await startKube(ARGS, { dataDir, keepDataDir: true, port, readyMs: 120_000 });
  expect(kube.url).toBe(stopped.url);
  await createNamespace(kube, "after-restart");
  await page.waitForSelector("[data-testid=namespaces] >> text=after-restart");
  await waitFor("the notice to go", async () => (await page.locator("[role=alert]").count()) === 0, 60_000);
  expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  expect(await page.textContent("[data-testid=namespaces]")).toContain("before-restart");
}, 400_000);
