// Starts `kube up` as a separate process for benchmarks, on a free port and a temp data dir,
// and hands back the URL, token and CA to reach it.
import { existsSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./stats.ts";

export interface RunningKube {
  url: string;
  port: number;
  token: string;
  ca: string;
  dataDir: string;
  pid: number;
  exited: Promise<number>;
  stop(): Promise<void>;
}

/**
 * A service range of its own for a test or benchmark cluster, so concurrent clusters' DNAT rules
 * never overlap: as root in 10.200.0.0/13 (made local by the proxy; kube up's default is
 * 10.43.0.0/16), else in 127.0.0.0/8.
 */
export function testServiceCidr(): string {
  const [a, b] = [Math.floor(Math.random() * 200) + 20, Math.floor(Math.random() * 250)];
  return process.getuid?.() === 0 ? `10.${200 + (a % 8)}.${b}.0/24` : `127.${a}.${b}.0/24`;
}

/** A restarted process's log continues the file instead of replacing it. */
const appendTo = (file: string) => openSync(file, "a");

async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

export async function startKube(
  args: string[] = ["--runtime", "sim", "--sim-nodes", "1"],
  /**
   * stdoutFile: where the process's log goes (else nowhere, unless KUBE_BENCH_LOG is set); port: a
   * free one by default; readyMs: how long it may take to serve /readyz (30 s by default).
   */
  opts: {
    dataDir?: string;
    keepDataDir?: boolean;
    stdoutFile?: string;
    port?: number;
    readyMs?: number;
    /** Run it through this, e.g. a network namespace's `nsenter --net=...` (test/helpers/netns.ts). */
    prefix?: string[];
    /** The API server's address (`--host`), 127.0.0.1 by default; the returned url uses it. */
    host?: string;
    /** More environment variables (Bun.spawn passes the environment the runner started with, not process.env's changes). */
    env?: Record<string, string>;
  } = {},
): Promise<RunningKube> {
  const dataDir = opts.dataDir ?? tempDir("up");
  const port = opts.port ?? (await freePort());
  const host = opts.host ?? "127.0.0.1";
  const proc = Bun.spawn(
    [
      ...(opts.prefix ?? []),
      process.execPath,
      // KUBE_LEAK_PROBE=FILE: map sizes and heap figures of the kube process every 20 s (bench/lib/leak-probe.ts).
      ...(process.env.KUBE_LEAK_PROBE ? ["--preload", join(import.meta.dir, "leak-probe.ts")] : []),
      // KUBE_LOOP_PROBE=FILE: the event loop's longest turns and the socket writes' handler times every 10 s (bench/lib/loop-probe.ts).
      ...(process.env.KUBE_LOOP_PROBE ? ["--preload", join(import.meta.dir, "loop-probe.ts")] : []),
      // KUBE_BENCH_PROF=DIR: a CPU profile (markdown) of the kube process in DIR when it exits.
      ...(process.env.KUBE_BENCH_PROF ? ["--cpu-prof-md", `--cpu-prof-dir=${process.env.KUBE_BENCH_PROF}`] : []),
      // KUBE_BENCH_PROF_JSON=DIR: the same as a .cpuprofile, whose samples carry their times: what ran during one stall.
      ...(process.env.KUBE_BENCH_PROF_JSON ? ["--cpu-prof", `--cpu-prof-dir=${process.env.KUBE_BENCH_PROF_JSON}`] : []),
      join(import.meta.dir, "../../src/main.ts"),
      "up",
      "--data-dir",
      dataDir,
      "--port",
      String(port),
      ...(opts.host ? ["--host", opts.host] : []),
      ...(args.includes("--service-cidr") ? [] : ["--service-cidr", testServiceCidr()]),
      ...args,
    ],
    {
      stdout: opts.stdoutFile ? appendTo(opts.stdoutFile) : process.env.KUBE_BENCH_LOG ? "inherit" : "ignore",
      stderr: "inherit",
      ...(opts.env && { env: { ...process.env, ...opts.env } }),
    },
  );
  const url = `https://${host}:${port}`;
  const deadline = Date.now() + (opts.readyMs ?? 30_000);
  let ca = "";
  for (;;) {
    try {
      ca = readFileSync(join(dataDir, "pki", "ca.crt"), "utf8");
      const r = await fetch(`${url}/readyz`, { tls: { ca } } as RequestInit);
      // The kubeconfig is written just after the API server answers: callers may run kubectl at once.
      if (r.ok && existsSync(join(dataDir, "kubeconfig"))) break;
    } catch {}
    if (Date.now() > deadline || proc.exitCode !== null) {
      proc.kill("SIGKILL"); // else a kube that was merely slow keeps running (and using CPU) after the bench
      throw new Error("kube up did not become ready");
    }
    await Bun.sleep(50);
  }
  return {
    url,
    port,
    token: readFileSync(join(dataDir, "token"), "utf8").trim(),
    ca,
    dataDir,
    pid: proc.pid,
    exited: proc.exited,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      if (!opts.keepDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs `concurrency` request loops for `ms` and returns requests per second. */
export async function load(ms: number, concurrency: number, request: () => Promise<Response>): Promise<number> {
  const end = performance.now() + ms;
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const r = await request();
        await r.arrayBuffer();
        if (!r.ok) throw new Error(`request failed: ${r.status}`);
        n++;
      }
    }),
  );
  return n / (ms / 1000);
}
