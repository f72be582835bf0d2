// Watch fan-out: BENCH_WATCHERS (default 1000) HTTPS watches on pods, each on its own connection,
// while BENCH_EVENTS pods (default 500) are created. Four runs in one process, each in a namespace
// of its own: paced (one writer, BENCH_RATE creates/s, default 20) with one watcher and with all,
// then a burst (16 writers, as fast as the API takes them) with one watcher and with all. The runs
// with one watcher are the reference.
//
// Measured per run: the create rate; events delivered per second (watchers x events over the time
// from the first create to the last event at the last watcher); and each event's delivery lag at
// each watcher: when its line arrived minus when its create was sent (so it includes the create's
// own latency, which the one-watcher run shows). A watcher gets events in revision order, so its
// k-th line is the create with the k-th smallest resourceVersion: no event body is parsed here,
// which keeps this client cheap next to the server it measures (both share the machine).
// Last line: watch: watchers=W events=E delivered_per_s=D (burst) rate=R lag_p99_ms=P (paced, all
//   watchers) ref_lag_p99_ms=Q (paced, one watcher) fanout_lag_ms=L (burst: last create to last
//   delivery) ratio=X (burst create rate with all watchers / with one; 1.0: watchers cost writers nothing)
import { Agent, request } from "node:https";
import { startKube } from "./lib/kube-up.ts";
import { cpuSeconds, percentile, round } from "./lib/stats.ts";

const WATCHERS = Number(process.env.BENCH_WATCHERS ?? 1000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 500);
const CONCURRENCY = 16;
const RATE = Number(process.env.BENCH_RATE ?? 20);

export default async function main(): Promise<void> {
  const kube = await startKube([
    "--runtime",
    "sim",
    "--sim-nodes",
    "0",
    "--disable",
    "scheduler,controllers,kubelet,proxy",
    "--max-watches-per-client",
    String(WATCHERS + 10),
  ]);
  const url = new URL(kube.url);
  const agent = new Agent({ ca: kube.ca, keepAlive: true, maxSockets: Infinity });
  const headers = { authorization: `Bearer ${kube.token}`, "content-type": "application/json" };
  const call = (method: string, path: string, body?: unknown) =>
    new Promise<string>((resolve, reject) => {
      const r = request({ host: url.hostname, port: url.port, path, method, headers, agent }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => (res.statusCode! < 300 ? resolve(text) : reject(new Error(`${res.statusCode}: ${text}`))));
      });
      r.on("error", reject);
      r.end(body ? JSON.stringify(body) : undefined);
    });

  /**
   * Opens n watches from the current revision; each notes when each of its event lines arrived.
   * Raw TLS sockets (Bun.connect) with the request written by hand: the cheapest client there is,
   * so that it takes as little as possible of the CPU the server needs.
   */
  const watchers = async (n: number, ns: string) => {
    const rv = JSON.parse(await call("GET", `/api/v1/namespaces/${ns}/pods?limit=1`)).metadata.resourceVersion;
    const arrivals = Array.from({ length: n }, () => [] as number[]);
    const connected = new Array<boolean>(n).fill(true);
    const head =
      `GET /api/v1/namespaces/${ns}/pods?watch=1&resourceVersion=${rv} HTTP/1.1\r\n` +
      `host: ${url.host}\r\nauthorization: Bearer ${kube.token}\r\naccept: application/json\r\n\r\n`;
    const open = (i: number) => {
      // An event is a line ending "}\n" (headers, chunk sizes and the blank first line are not); a read may split the two.
      let prev = 0;
      const mine = arrivals[i]!;
      return Bun.connect({
        hostname: url.hostname,
        port: Number(url.port),
        tls: { ca: kube.ca },
        socket: {
          open: (s) => void s.write(head),
          data(_s, c) {
            const now = performance.now();
            for (let j = c.indexOf(10); j >= 0; j = c.indexOf(10, j + 1))
              if ((j > 0 ? c[j - 1] : prev) === 125) mine.push(now);
            prev = c[c.length - 1]!;
          },
          close: () => {
            connected[i] = false;
          },
        },
      });
    };
    // Connections are opened 50 at a time: a thousand TLS handshakes at once overflow the listen backlog.
    const socks: Awaited<ReturnType<typeof open>>[] = [];
    for (let i = 0; i < n; i += 50)
      socks.push(...(await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, j) => open(i + j)))));
    return {
      arrivals,
      connected,
      close: () => {
        for (const s of socks) s.end();
      },
    };
  };

  /** Creates EVENTS pods in `ns` with n watchers open: `rate` a second by one writer, or as fast as 16 writers can. */
  const run = async (n: number, ns: string, rate?: number) => {
    await call("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    const w = await watchers(n, ns);
    const created: { rv: number; at: number }[] = [];
    const cpu0 = cpuSeconds(kube.pid);
    const own0 = process.cpuUsage();
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: rate ? 1 : CONCURRENCY }, async () => {
        while (next < EVENTS) {
          const i = next++;
          // Paced: create i is due at t0 + i/rate (at once when behind).
          if (rate) await Bun.sleep(Math.max(0, t0 + (i * 1000) / rate - performance.now()));
          const sent = performance.now();
          const pod = JSON.parse(
            await call("POST", `/api/v1/namespaces/${ns}/pods`, {
              apiVersion: "v1",
              kind: "Pod",
              metadata: { name: `p-${i}`, labels: { app: "watch" } },
              spec: { containers: [{ name: "c", image: "registry.k8s.io/pause:3.10" }] },
            }),
          );
          created.push({ rv: Number(pod.metadata.resourceVersion), at: sent });
        }
      }),
    );
    const written = performance.now();
    const deadline = written + 120_000;
    while (w.arrivals.some((a) => a.length < EVENTS) && performance.now() < deadline) await Bun.sleep(10);
    const done = performance.now();
    const cpu = cpuSeconds(kube.pid) - cpu0;
    const own = process.cpuUsage(own0);
    const missing = w.arrivals.filter((a) => a.length < EVENTS).length;
    // Watches that got fewer events than written because their connection closed under them.
    const cut = w.arrivals.filter((a, i) => a.length < EVENTS && !w.connected[i]).length;
    w.close();
    created.sort((a, b) => a.rv - b.rv);
    const lags: number[] = [];
    for (const a of w.arrivals) for (let k = 0; k < a.length; k++) lags.push(a[k]! - created[k]!.at);
    return {
      createsPerS: EVENTS / ((written - t0) / 1000),
      deliveredPerS: lags.length / ((done - t0) / 1000),
      cpuPerDeliveryUs: (cpu * 1e6) / lags.length,
      drainMs: done - written,
      p50: percentile(lags, 50),
      p99: percentile(lags, 99),
      cpu,
      clientCpu: (own.user + own.system) / 1e6,
      missing,
      cut,
    };
  };

  try {
    const show = (what: string, r: Awaited<ReturnType<typeof run>>) =>
      console.log(
        `${what}: creates_per_s=${round(r.createsPerS)} delivered_per_s=${round(r.deliveredPerS)} lag_p50_ms=${round(r.p50)} lag_p99_ms=${round(r.p99)} kube_cpu_s=${round(r.cpu, 1)} bench_cpu_s=${round(r.clientCpu, 1)} incomplete_watchers=${r.missing} (connection closed: ${r.cut}) kube_cpu_us_per_delivery=${round(r.cpuPerDeliveryUs, 1)}`,
      );
    const onePaced = await run(1, "watch-one-paced", RATE);
    show(`1 watcher, ${RATE} creates/s`, onePaced);
    const manyPaced = await run(WATCHERS, "watch-many-paced", RATE);
    show(`${WATCHERS} watchers, ${RATE} creates/s`, manyPaced);
    const one = await run(1, "watch-one");
    show("1 watcher, burst", one);
    const many = await run(WATCHERS, "watch-many");
    show(`${WATCHERS} watchers, burst`, many);
    console.log(
      `watch: watchers=${WATCHERS} events=${EVENTS} delivered_per_s=${round(many.deliveredPerS)} rate=${RATE} lag_p99_ms=${round(manyPaced.p99)} ref_lag_p99_ms=${round(onePaced.p99)} fanout_lag_ms=${round(many.drainMs)} ratio=${round(many.createsPerS / one.createsPerS, 2)}`,
    );
  } finally {
    agent.destroy();
    await kube.stop();
  }
}
