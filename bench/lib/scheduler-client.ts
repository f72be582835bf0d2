// The measured pods' client in its own process (BENCH_CLIENT=process), as scheduler_perf's client is
// its own goroutines rather than the API server's: it creates the measured pods over HTTPS and
// watches them bound, and its own CPU stays out of the kube process. argv: one JSON object (server,
// token, ca, workload name, scale, resourceVersion). Its watch starts from that resourceVersion, so
// it misses nothing whenever the server registers it. Prints "ready", waits for "go" on stdin, then
// prints "done MS" (first create to last pod seen bound).
import { createClient, httpTransport } from "../../src/client/index.ts";
import { inParallel, waitBound, workloads } from "./scheduler-perf.ts";

const arg = JSON.parse(process.argv[2]!) as {
  server: string;
  token: string;
  ca: string;
  workload: string;
  scale: number;
  resourceVersion: string;
};
const w = workloads(arg.scale).find((x) => x.name === arg.workload)!;
const client = createClient(httpTransport(arg.server, arg.token, { ca: arg.ca }));
const set = w.measure;
const names = Array.from({ length: set.count }, (_, i) => (set.pod(i).metadata as { name: string }).name);
const done = waitBound(client, set.namespace, names, arg.resourceVersion);
console.log("ready");
const stdin = Bun.stdin.stream().getReader();
for (let got = ""; !got.includes("go"); ) {
  const { value, done: closed } = await stdin.read();
  if (closed) process.exit(1);
  got += new TextDecoder().decode(value);
}
const t0 = performance.now();
await inParallel(set.count, (i) => client.resource("pods", set.namespace).create(set.pod(i)));
await done;
console.log(`done ${performance.now() - t0}`);
process.exit(0);
