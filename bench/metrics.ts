// What measuring costs: GET throughput of one pod on a `kube up` with Prometheus metrics on (every
// request counted and timed, every store call timed) against one started with --disable-metrics,
// same load generator and concurrency, rounds interleaved so a change in the machine's load hits
// both alike; the ratio is the median of the rounds' ratios, so a burst of load from elsewhere on the
// machine moves it less. A scrape of /metrics between rounds keeps the exposition path honest too.
import { load, startKube, type RunningKube } from "./lib/kube-up.ts";
import { percentile, round } from "./lib/stats.ts";

const CONCURRENCY = 32;
const ROUND_MS = 800;
const ROUNDS = 10;
const ARGS = ["--runtime", "sim", "--sim-nodes", "0", "--disable", "scheduler,controllers,kubelet,proxy,dns,ingress"];

async function target(kube: RunningKube): Promise<() => Promise<Response>> {
  const headers = { authorization: `Bearer ${kube.token}`, "content-type": "application/json" };
  const tls = { ca: kube.ca };
  const made = await fetch(`${kube.url}/api/v1/namespaces/default/pods`, {
    method: "POST",
    headers,
    tls,
    body: JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "target", labels: { app: "bench" } },
      spec: { containers: [{ name: "c", image: "localhost/busybox:latest" }] },
    }),
  } as RequestInit);
  if (made.status !== 201) throw new Error(`creating the pod answered ${made.status}`);
  const url = `${kube.url}/api/v1/namespaces/default/pods/target`;
  return () => fetch(url, { headers, tls } as RequestInit);
}

export default async function main(): Promise<void> {
  const on = await startKube(ARGS);
  const off = await startKube([...ARGS, "--disable-metrics"]);
  try {
    const getOn = await target(on);
    const getOff = await target(off);
    const scrape = () =>
      fetch(`${on.url}/metrics`, {
        headers: { authorization: `Bearer ${on.token}` },
        tls: { ca: on.ca },
      } as RequestInit);
    const probe = await scrape();
    if (probe.status !== 200) throw new Error(`/metrics answered ${probe.status}`);
    await probe.text();
    const offProbe = await fetch(`${off.url}/metrics`, {
      headers: { authorization: `Bearer ${off.token}` },
      tls: { ca: off.ca },
    } as RequestInit);
    if (offProbe.status !== 404) throw new Error(`/metrics with --disable-metrics answered ${offProbe.status}`);
    await offProbe.arrayBuffer();

    await load(500, CONCURRENCY, getOn); // warm-up
    await load(500, CONCURRENCY, getOff);
    let onRps = 0;
    let offRps = 0;
    const ratios: number[] = [];
    for (let k = 0; k < ROUNDS; k++) {
      // Alternate which goes first, so neither always follows the other.
      let a: number;
      let b: number;
      if (k % 2 === 0) {
        a = await load(ROUND_MS, CONCURRENCY, getOn);
        b = await load(ROUND_MS, CONCURRENCY, getOff);
      } else {
        b = await load(ROUND_MS, CONCURRENCY, getOff);
        a = await load(ROUND_MS, CONCURRENCY, getOn);
      }
      onRps += a / ROUNDS;
      offRps += b / ROUNDS;
      ratios.push(a / b);
      const t0 = performance.now();
      const text = await (await scrape()).text();
      const ms = round(performance.now() - t0, 1);
      console.log(
        `round ${k + 1}: on ${round(a)} off ${round(b)} req/s; /metrics ${round(text.length / 1024)} KiB in ${ms} ms`,
      );
    }
    console.log(
      `GET pod: ${round(onRps)} req/s with metrics, ${round(offRps)} req/s without (mean of ${ROUNDS} rounds)`,
    );
    const ratio = round(percentile(ratios, 50), 2);
    console.log(`metrics: on_rps=${round(onRps)} off_rps=${round(offRps)} ratio=${ratio}`);
  } finally {
    await on.stop();
    await off.stop();
  }
}
