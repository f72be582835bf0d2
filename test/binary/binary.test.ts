// The standalone binary: built as `bun run build` does (the dashboard embedded), copied alone into an empty directory,
// run without Bun or node_modules on PATH: `kube up` starts, `kube get` and `kube run` work, a NodePort
// Service answers through the userspace proxy's splice relay (a worker thread the binary must embed, as
// the scheduler's when KUBE_SCHEDULER_THREAD=1), SIGTERM stops it cleanly.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { waitFor } from "../helpers/wait.ts";
import { testServiceCidr } from "../../bench/lib/kube-up.ts";
import { HEAP_RAM_BYTES } from "../../src/cli/heap-size.ts";

let dir: string;
let up: ReturnType<typeof Bun.spawn> | undefined;
const env = () => ({ PATH: "/usr/bin:/bin", HOME: dir });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kube-binary-"));
  const build = Bun.spawnSync(
    [process.execPath, join(import.meta.dir, "../../scripts/build.ts"), "--outfile", join(dir, "build", "kube")],
    { stdout: "pipe", stderr: "pipe" },
  );
  if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`);
  copyFileSync(join(dir, "build", "kube"), join(dir, "kube"));
  rmSync(join(dir, "build"), { recursive: true });
  Bun.spawnSync(["chmod", "+x", join(dir, "kube")]);
}, 60_000);

afterAll(() => {
  up?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

function kube(args: string[]): { code: number; out: string; err: string } {
  const r = Bun.spawnSync([join(dir, "kube"), ...args], { cwd: dir, env: env(), stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, out: r.stdout.toString(), err: r.stderr.toString() };
}

test("the binary alone runs a cluster and its CLI", async () => {
  const size = statSync(join(dir, "kube")).size;
  console.log(`binary size: ${(size / 2 ** 20).toFixed(1)} MiB`);
  expect(kube(["version", "--client"]).out).toContain("Client Version: kube");
  const port = 20000 + Math.floor(Math.random() * 20000);
  up = Bun.spawn(
    [
      join(dir, "kube"),
      "up",
      "--runtime",
      "sim",
      "--sim-nodes",
      "2",
      "--node-name",
      "bin",
      "--data-dir",
      join(dir, "data"),
      "--port",
      String(port),
      "--service-cidr",
      testServiceCidr(),
      "--proxy-mode",
      "userspace",
    ],
    // The scheduler on its thread (not the default), so that the binary must embed that worker too.
    { cwd: dir, env: { ...env(), KUBE_SCHEDULER_THREAD: "1" }, stdout: "pipe", stderr: "pipe" },
  );
  await waitFor(
    "readyz",
    async () => {
      const ca = readFileSync(join(dir, "data", "pki", "ca.crt"), "utf8");
      return (await fetch(`https://127.0.0.1:${port}/readyz`, { tls: { ca } } as RequestInit)).ok;
    },
    20_000,
  );
  // It restarted itself in place with JSC's heap sized (src/cli/heap-size.ts): the pid spawned serves.
  expect(readFileSync(`/proc/${up.pid}/environ`, "utf8").split("\0")).toContain(
    `BUN_JSC_forceRAMSize=${Math.min(totalmem(), HEAP_RAM_BYTES)}`,
  );
  const kubeconfig = ["--kubeconfig", join(dir, "data", "kubeconfig")];
  await waitFor(
    "two nodes",
    () =>
      kube(["get", "nodes", ...kubeconfig])
        .out.split("\n")
        .filter((l) => / Ready /.test(l)).length === 2,
    10_000,
  );
  expect(kube(["run", "hello", "--image=localhost/busybox:latest", "--restart=Never", ...kubeconfig]).out.trim()).toBe(
    "pod/hello created",
  );
  await waitFor("pod running", () => /hello\s+1\/1\s+Running/.test(kube(["get", "pods", ...kubeconfig]).out), 10_000);
  // The dashboard is embedded: nothing next to the binary to bundle it from.
  const ca = readFileSync(join(dir, "data", "pki", "ca.crt"), "utf8");
  const ui = await fetch(`https://127.0.0.1:${port}/ui/main.js`, { tls: { ca } } as RequestInit);
  expect(ui.status).toBe(200);
  expect(ui.headers.get("content-type")).toContain("javascript");
  expect((await ui.text()).length).toBeGreaterThan(10_000);
  // A Service whose endpoint is a server of this test, reached on its node port through the relay.
  const backend = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("through the relay") });
  try {
    const manifest = join(dir, "svc.yaml");
    writeFileSync(
      manifest,
      [
        "apiVersion: v1\nkind: Service\nmetadata: {name: outside}",
        `spec: {type: NodePort, ports: [{port: 80, targetPort: ${backend.port}}]}`,
        "---\napiVersion: v1\nkind: Endpoints\nmetadata: {name: outside}",
        `subsets: [{addresses: [{ip: 127.0.0.1}], ports: [{port: ${backend.port}}]}]\n`,
      ].join("\n"),
    );
    expect(kube(["apply", "-f", manifest, ...kubeconfig]).code).toBe(0);
    const nodePort = kube(["get", "service", "outside", "-o", "jsonpath={.spec.ports[0].nodePort}", ...kubeconfig]).out;
    let body = "";
    await waitFor("the node port answers", async () => {
      body = await fetch(`http://127.0.0.1:${nodePort}/`).then(
        (r) => r.text(),
        () => "",
      );
      return body === "through the relay";
    });
  } finally {
    backend.stop(true);
  }
  const bad = kube(["get", "widgets", ...kubeconfig]);
  expect(bad.code).toBe(1);
  expect(bad.err.trim().split("\n")).toHaveLength(1);
  up.kill("SIGTERM");
  expect(await up.exited).toBe(0);
  // The relay and the scheduler ran as the binary's own worker threads, not their fallbacks.
  expect(await new Response(up.stderr as ReadableStream).text()).not.toContain("relaying with Bun sockets");
  expect(await new Response(up.stdout as ReadableStream).text()).not.toContain("scheduling on the main thread");
  up = undefined;
});
