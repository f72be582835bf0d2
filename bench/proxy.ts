// Proxy throughput: bulk TCP and small HTTP requests through a service port, against the same
// traffic straight to the backend, in the same run; for each data plane this machine can run.
// The last line is for the plane `kube up` picks here (nftables as root, else userspace).
import net from "node:net";
import { join } from "node:path";
import { cpuSeconds, round } from "./lib/stats.ts";

const BULK_BYTES = 1024 * 1024 * 1024;
const CONNS = 4;

async function bulk(host: string, port: number): Promise<number> {
  const per = BULK_BYTES / CONNS;
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
  return (BULK_BYTES * 8) / 1e6 / ((performance.now() - t0) / 1000);
}

async function rps(url: string, ms = 3000, concurrency = 16): Promise<number> {
  const end = performance.now() + ms;
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await (await fetch(url)).arrayBuffer();
        n++;
      }
    }),
  );
  return n / (ms / 1000);
}

export default async function main(): Promise<void> {
  // A sink that reads everything and closes when the sender is done.
  const sink = net.createServer({ allowHalfOpen: true }, (c) => {
    c.on("data", () => {});
    c.on("end", () => c.end());
  });
  await new Promise<void>((r) => sink.listen(0, "127.0.0.1", () => r()));
  const sinkPort = (sink.address() as net.AddressInfo).port;
  const http = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") });

  // The proxy runs in its own process, as it does inside `kube up`; this process is the client and backend.
  const measure = async (mode: string, vip: string) => {
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
      { stdout: "pipe", stderr: "inherit" },
    );
    const { value } = await child.stdout.getReader().read();
    const ready = new TextDecoder().decode(value).match(/ready (\w+)/);
    if (!ready) throw new Error("proxy process did not start");
    await bulk("127.0.0.1", sinkPort); // warm-up
    const direct = await bulk("127.0.0.1", sinkPort);
    // NaN once the process is gone (the figure is then NaN rather than a crash of the bench).
    const cpu = () => (child.exitCode === null ? cpuSeconds(child.pid) : Number.NaN);
    const c0 = cpu();
    const proxied = await bulk(vip, 7001);
    // The proxy process's CPU time per GB moved: unlike throughput, the machine's load does not skew it.
    const cpuPerGb = ((cpu() - c0) * 2 ** 30) / BULK_BYTES;
    const directRps = await rps(`http://127.0.0.1:${http.port}/`);
    const proxiedRps = await rps(`http://${vip}:7002/`);
    child.kill("SIGTERM");
    await child.exited;
    return {
      plane: ready[1]!,
      line: [
        `mbps=${round(proxied)} direct_mbps=${round(direct)} ratio=${round(proxied / direct, 2)}`,
        `rps=${round(proxiedRps)} direct_rps=${round(directRps)} rps_ratio=${round(proxiedRps / directRps, 2)}`,
        `proxy_cpu_s_per_gb=${round(cpuPerGb, 2)}`,
      ].join(" "),
    };
  };
  const userspace = await measure("userspace", "127.99.0.10");
  console.log(`userspace: ${userspace.line}`);
  const chosen = await measure("auto", "127.99.0.11");
  if (chosen.plane !== "userspace") console.log(`${chosen.plane}: ${chosen.line}`);
  http.stop(true);
  sink.close();
  console.log(`proxy: ${chosen.line} plane=${chosen.plane}`);
}
