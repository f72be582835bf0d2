// Watch fan-out: BENCH_WATCHERS (default 1000) HTTPS watches on pods, each on its own connection,
// while BENCH_EVENTS pods (default 500) are created as fast as the API takes them. Measured:
// the create rate, and how long until every watcher has every event. The reference in the same
// run is the same creates with one watcher; ratio = create rate with all watchers / with one
// (1.0: the watchers cost the writers nothing).
// Last line: watch: watchers=W events=E delivered_per_s=D fanout_lag_ms=L ratio=R
import { Agent, request } from "node:https";
import { startKube } from "./lib/kube-up.ts";
import { round } from "./lib/stats.ts";

const WATCHERS = Number(process.env.BENCH_WATCHERS ?? 1000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 500);
const CONCURRENCY = 16;

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

  /** Opens n watches from the current revision; each counts the event lines it receives. */
  const watchers = async (n: number, ns: string) => {
    const rv = JSON.parse(await call("GET", `/api/v1/namespaces/${ns}/pods?limit=1`)).metadata.resourceVersion;
    const counts = new Array<number>(n).fill(0);
    const open = (i: number) =>
      new Promise<ReturnType<typeof request>>((resolve, reject) => {
        const r = request(
          {
            host: url.hostname,
            port: url.port,
            path: `/api/v1/namespaces/${ns}/pods?watch=1&resourceVersion=${rv}`,
            headers,
            agent,
          },
          (res) => {
            // An event is a line ending "}\n" (the blank first line is not one); a chunk may split the two.
            let prev = 0;
            res.on("data", (c: Buffer) => {
              for (let j = c.indexOf(10); j >= 0; j = c.indexOf(10, j + 1))
                if ((j > 0 ? c[j - 1] : prev) === 125) counts[i]!++;
              prev = c[c.length - 1]!;
            });
            resolve(r);
          },
        );
        r.on("error", reject);
        r.end();
      });
    // Connections are opened 50 at a time: a thousand TLS handshakes at once overflow the listen backlog.
    const reqs: ReturnType<typeof request>[] = [];
    for (let i = 0; i < n; i += 50)
      reqs.push(...(await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, j) => open(i + j)))));
    return {
      counts,
      close: () => {
        for (const r of reqs) r.destroy();
      },
    };
  };

  /** Creates EVENTS pods in `ns`; returns creates/s and the ms until every watcher counted them all. */
  const run = async (n: number, ns: string) => {
    await call("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    const w = await watchers(n, ns);
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < EVENTS) {
          const i = next++;
          await call("POST", `/api/v1/namespaces/${ns}/pods`, {
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: `p-${i}`, labels: { app: "watch" } },
            spec: { containers: [{ name: "c", image: "registry.k8s.io/pause:3.10" }] },
          });
        }
      }),
    );
    const written = performance.now();
    const deadline = written + 120_000;
    while (w.counts.some((c) => c < EVENTS) && performance.now() < deadline) await Bun.sleep(10);
    const done = performance.now();
    const missing = w.counts.filter((c) => c < EVENTS).length;
    w.close();
    return {
      createsPerS: EVENTS / ((written - t0) / 1000),
      lagMs: done - written,
      totalS: (done - t0) / 1000,
      missing,
    };
  };

  try {
    const one = await run(1, "watch-one");
    console.log(`1 watcher: creates_per_s=${round(one.createsPerS)} lag_ms=${round(one.lagMs)}`);
    const many = await run(WATCHERS, "watch-many");
    console.log(
      `${WATCHERS} watchers: creates_per_s=${round(many.createsPerS)} lag_ms=${round(many.lagMs)} incomplete_watchers=${many.missing}`,
    );
    console.log(
      `watch: watchers=${WATCHERS} events=${EVENTS} delivered_per_s=${round((WATCHERS * EVENTS) / many.totalS)} fanout_lag_ms=${round(many.lagMs)} ratio=${round(many.createsPerS / one.createsPerS, 2)}`,
    );
  } finally {
    agent.destroy();
    await kube.stop();
  }
}
