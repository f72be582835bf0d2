// 5000 hollow nodes (Node objects, 4 cpu / 16Gi / 110 pods), 10000 small pods created as fast
// as the API takes them; time from the first create to the last pod seen bound (watch).
// Reference, same run: writing the same 10000 bindings with no scheduling decisions.
// Then workloads shaped like upstream's scheduler_perf, one line each against 3x upstream's CI floor
// (BENCH_WORKLOADS=name,name picks some by family or full name, none skips them; BENCH_SCALE shrinks them;
// BENCH_DECIDE=1 runs the plugins' decisions alone instead, with their CPU time per pod).
import { rmSync } from "node:fs";
import { openStore } from "../src/store/index.ts";
import { createApiServer } from "../src/components/apiserver/index.ts";
import { createClient, inProcessTransport, type Client } from "../src/client/index.ts";
import { runScheduler } from "../src/components/scheduler/index.ts";
import { nodeWith } from "../test/helpers/scheduler.ts";
import { peakRssMb, round, tempDir } from "./lib/stats.ts";
import { runWorkload, waitBound, workloadLine, workloads } from "./lib/scheduler-perf.ts";
import { decideLine } from "./lib/scheduler-decide.ts";

const NODES = Number(process.env.BENCH_NODES ?? 5000);
const PODS = Number(process.env.BENCH_PODS ?? 10000);
const CONCURRENCY = 64;

const podObj = (ns: string, i: number) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: `p-${i}`, namespace: ns },
  spec: {
    containers: [
      { name: "c", image: "localhost/busybox:latest", resources: { requests: { cpu: "10m", memory: "16Mi" } } },
    ],
  },
});

async function inParallel(n: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

async function createNamespace(client: Client, name: string): Promise<void> {
  await client.resource("namespaces").create({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
}

export default async function main(): Promise<void> {
  const dir = tempDir("scheduler");
  const store = await openStore({ dataDir: dir });
  const api = createApiServer({ store, token: "t" });
  await api.ready;
  const client = createClient(inProcessTransport(api.fetch, "t"));

  const t0 = performance.now();
  await inParallel(NODES, (i) =>
    client
      .resource("nodes")
      .create({ apiVersion: "v1", kind: "Node", ...nodeWith(`hollow-${i}`, { cpu: "4", memory: "16Gi", pods: 110 }) }),
  );
  console.log(`registered ${NODES} hollow nodes in ${round(performance.now() - t0)} ms`);

  // Reference: the same number of pods and bindings, with no decisions (round-robin nodes).
  await createNamespace(client, "ref");
  await inParallel(PODS, (i) => client.resource("pods", "ref").create(podObj("ref", i)));
  const r0 = performance.now();
  await inParallel(PODS, (i) =>
    client.resource("pods", "ref").createSubresource(`p-${i}`, "binding", {
      apiVersion: "v1",
      kind: "Binding",
      metadata: { name: `p-${i}` },
      target: { kind: "Node", name: `hollow-${i % NODES}` },
    }),
  );
  const bindOnly = PODS / ((performance.now() - r0) / 1000);
  console.log(`bind only: ${round(bindOnly)} bindings/s`);

  const scheduler = await runScheduler(client, (m) => console.log(`[scheduler] ${m}`));
  await createNamespace(client, "bench");
  const done = waitBound(
    client,
    "bench",
    Array.from({ length: PODS }, (_, i) => `p-${i}`),
  );
  const s0 = performance.now();
  await inParallel(PODS, (i) => client.resource("pods", "bench").create(podObj("bench", i)));
  const created = performance.now();
  await done;
  const elapsed = (performance.now() - s0) / 1000;
  const rate = PODS / elapsed;
  console.log(`created ${PODS} pods in ${round(created - s0)} ms; all bound after ${round(elapsed * 1000)} ms`);
  console.log(`peak rss ${peakRssMb()} MB`);
  await scheduler.stop();
  api.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });

  const pick = process.env.BENCH_WORKLOADS?.split(",");
  for (const w of workloads(Number(process.env.BENCH_SCALE ?? 1)))
    if (!pick || pick.includes(w.name) || pick.includes(w.name.split("/")[0]!))
      console.log(
        process.env.BENCH_DECIDE === "1"
          ? decideLine(w)
          : await runWorkload(w).then(
              (r) => workloadLine(w, r),
              (err: Error) => `${w.name}: failed: ${err.message}`,
            ),
      );
  console.log(
    `scheduler: nodes=${NODES} pods=${PODS} pods_per_s=${round(rate)} bind_only_per_s=${round(bindOnly)} ratio=${round(rate / bindOnly, 2)}`,
  );
}
