// Proxy throughput: bulk TCP and small HTTP requests through a service port, against the same
// traffic straight to the backend, in the same run; for each data plane this machine can run.
// The machine is shared, so one transfer says little: after a warm-up, each round measures the
// direct and the proxied transfer in halves, in the order A B B A (alternating which goes first),
// and the line gives the median of the rounds' ratios with their range. The `userspace:` line is the plane a non-root
// `kube up` uses (the splice relay where it is available); `userspace-sockets:` is its fallback
// (Bun's sockets, KUBE_PROXY_SPLICE=0). The last line is for the plane `kube up` picks here.
// `bun run bench proxy [rounds]` (default 5).
import net from "node:net";
import { join } from "node:path";
import { cpuSeconds, percentile, round } from "./lib/stats.ts";

const BULK_BYTES = 512 * 1024 * 1024;
const CONNS = 4;

/** A measured piece of work: its amount (megabits, requests) and the wall time it took. */
interface Sample {
  amount: number;
  seconds: number;
}

async function bulk(host: string, port: number, bytes = BULK_BYTES): Promise<Sample> {
  const per = bytes / CONNS;
  const chunk = Buffer.alloc(256 * 1024, 1);
  const t0 = performance.now();
  await Promise.all(
    Array.from(
      { length: CONNS },
      () =>
        new Promise<void>((resolve, reject) => {
          const c = net.connect(port, host);
          c.on("error", reject);
          c.on("data", () => {});
          c.on("end", () => resolve());
          c.once("connect", async () => {
            for (let sent = 0; sent < per; sent += chunk.length)
              if (!c.write(chunk)) await new Promise((r) => c.once("drain", r));
            c.end();
          });
        }),
    ),
  );
  return { amount: (bytes * 8) / 1e6, seconds: (performance.now() - t0) / 1000 };
}

async function rps(url: string, ms = 750, concurrency = 16): Promise<Sample> {
  const t0 = performance.now();
  const end = t0 + ms;
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await (await fetch(url)).arrayBuffer();
        n++;
      }
    }),
  );
  return { amount: n, seconds: (performance.now() - t0) / 1000 };
}

const median = (xs: number[]) => percentile(xs, 50);
const range = (xs: number[], digits = 2) => `${round(Math.min(...xs), digits)}-${round(Math.max(...xs), digits)}`;
/** CPU seconds (user + system, all threads) this process has used. */
const ownCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/**
 * Direct and proxied rates over `n` rounds. A round runs each path twice, in the order A B B A
 * (which path is A alternates between rounds), and a path's rate is its amount over its time in
 * the round: the two paths see the same drift of the machine's load instead of one half each.
 * `cpu` adds up the CPU seconds this process (client and backend) used on each path.
 */
async function rounds(n: number, direct: () => Promise<Sample>, proxied: () => Promise<Sample>) {
  const d: number[] = [];
  const p: number[] = [];
  const cpu = { direct: 0, proxied: 0 };
  const run = async (path: "direct" | "proxied", acc: Sample) => {
    const c0 = ownCpu();
    const s = await (path === "direct" ? direct() : proxied());
    cpu[path] += ownCpu() - c0;
    acc.amount += s.amount;
    acc.seconds += s.seconds;
  };
  for (let i = 0; i < n; i++) {
    const dr = { amount: 0, seconds: 0 };
    const pr = { amount: 0, seconds: 0 };
    const [a, b] = i % 2 === 0 ? (["direct", "proxied"] as const) : (["proxied", "direct"] as const);
    const acc = { direct: dr, proxied: pr };
    for (const path of [a, b, b, a]) await run(path, acc[path]);
    d.push(dr.amount / dr.seconds);
    p.push(pr.amount / pr.seconds);
  }
  const ratios = p.map((x, i) => x / d[i]!);
  return { direct: median(d), proxied: median(p), ratio: median(ratios), ratios, cpu };
}

export default async function main(args: string[]): Promise<void> {
  const n = Math.max(1, Number(args[0] ?? 5) || 5);
  // A sink that reads everything and closes when the sender is done.
  const sink = net.createServer({ allowHalfOpen: true }, (c) => {
    c.on("data", () => {});
    c.on("end", () => c.end());
  });
  await new Promise<void>((r) => sink.listen(0, "127.0.0.1", () => r()));
  const sinkPort = (sink.address() as net.AddressInfo).port;
  const http = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") });

  // The proxy runs in its own process, as it does inside `kube up`; this process is the client and backend.
  const measure = async (mode: string, vip: string, env: Record<string, string> = {}) => {
    const specs = [
      {
        key: "bench/bulk:1/TCP",
        bindAddresses: [vip],
        port: 7001,
        protocol: "TCP",
        affinity: { type: "None" },
        endpoints: [{ ip: "127.0.0.1", port: sinkPort }],
      },
      {
        key: "bench/http:2/TCP",
        bindAddresses: [vip],
        port: 7002,
        protocol: "TCP",
        affinity: { type: "None" },
        endpoints: [{ ip: "127.0.0.1", port: http.port! }],
      },
    ];
    const child = Bun.spawn(
      [process.execPath, join(import.meta.dir, "lib/proxy-child.ts"), mode, JSON.stringify(specs)],
      { stdout: "pipe", stderr: "inherit", env: { ...process.env, ...env } },
    );
    try {
      const { value } = await child.stdout.getReader().read();
      const ready = new TextDecoder().decode(value).match(/ready (\w+) (\w+)/);
      if (!ready) throw new Error("proxy process did not start");
      // Warm-up: the JIT, the kernel's socket buffers and (nftables) conntrack, on both paths.
      await bulk("127.0.0.1", sinkPort, BULK_BYTES / 4);
      await bulk(vip, 7001, BULK_BYTES / 4);
      // NaN once the process is gone (the figure is then NaN rather than a crash of the bench).
      const cpu = () => (child.exitCode === null ? cpuSeconds(child.pid) : Number.NaN);
      let proxyCpu = 0;
      // Each round moves BULK_BYTES on each path, in two halves.
      const b = await rounds(
        n,
        () => bulk("127.0.0.1", sinkPort, BULK_BYTES / 2),
        async () => {
          const c0 = cpu();
          const s = await bulk(vip, 7001, BULK_BYTES / 2);
          proxyCpu += cpu() - c0;
          return s;
        },
      );
      // CPU time per GB moved: the proxy's, and the client's and backend's (this process) on each
      // path. Unlike throughput, the machine's load skews these little. cpu_ratio is the direct
      // path's CPU over the proxied path's (client, backend and proxy): what the throughput ratio
      // falls to on a busy machine, where this process and the proxy (one session, so one group for
      // the scheduler) share one group's part of the cores instead of each having a core.
      const perGb = (s: number) => round((s * 2 ** 30) / (BULK_BYTES * n), 2);
      const r = await rounds(
        Math.min(n, 3),
        () => rps(`http://127.0.0.1:${http.port}/`),
        () => rps(`http://${vip}:7002/`),
      );
      const plane = ready[1]!;
      return {
        plane,
        line: [
          `mbps=${round(b.proxied)} direct_mbps=${round(b.direct)} ratio=${round(b.ratio, 2)}`,
          `ratio_range=${range(b.ratios)} rounds=${n}`,
          `rps=${round(r.proxied)} direct_rps=${round(r.direct)} rps_ratio=${round(r.ratio, 2)}`,
          `proxy_cpu_s_per_gb=${perGb(proxyCpu)} cpu_ratio=${round(b.cpu.direct / (b.cpu.proxied + proxyCpu), 2)}`,
          `client_cpu_s_per_gb=${perGb(b.cpu.proxied)} direct_client_cpu_s_per_gb=${perGb(b.cpu.direct)}`,
          plane === "userspace" ? `relay=${ready[2]}` : "",
        ]
          .filter(Boolean)
          .join(" "),
      };
    } finally {
      child.kill("SIGTERM");
      await child.exited;
    }
  };
  // A plane that fails prints its error on its line; the others, and the last line, still print.
  const attempt = async (mode: string, vip: string, env?: Record<string, string>) =>
    measure(mode, vip, env).catch((err: Error) => ({ plane: mode, line: `error=${JSON.stringify(err.message)}` }));
  const userspace = await attempt("userspace", "127.99.0.10");
  console.log(`userspace: ${userspace.line}`);
  const sockets = await attempt("userspace", "127.99.0.12", { KUBE_PROXY_SPLICE: "0" });
  console.log(`userspace-sockets: ${sockets.line}`);
  const chosen = await attempt("auto", "127.99.0.11");
  if (chosen.plane !== "userspace") console.log(`${chosen.plane}: ${chosen.line}`);
  http.stop(true);
  sink.close();
  console.log(`proxy: ${chosen.line} plane=${chosen.plane}`);
}
