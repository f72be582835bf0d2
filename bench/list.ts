// List: where the time of one cluster-wide LIST of all pods goes, without the scale bench. A store
// of BENCH_LIST_PODS pods (default 100,000) shaped as bench scale's hollow pods (Running, four
// conditions, a container status; ~1.9 KB each, 184 MB of list as in bench scale) is served by the
// real API server (HTTPS and plain HTTP) in this process, each client in a process of its own. It
// times, separately: the store read (SQLite rows -> strings, pages of 500) and the items' text
// pieces; the whole body read in process (no socket); over a socket curl -o, a fetch that only
// counts bytes, res.text() then JSON.parse, and the project's client.list() (what bench scale's
// list_all_ms times). Each line has the server's CPU and its peak RSS over its RSS before the
// request (VmHWM reset), and the machine's load.
// BENCH_LIST_DIR=DIR keeps the store there between runs (made once); BENCH_LIST_RUNS: rounds (2);
// BENCH_LIST_SAVE=FILE keeps curl's body, to compare bytes across versions (cmp);
// BENCH_LIST_LIVE=N holds N parsed pods in the server's process, a live heap like kube's at 100k
// pods (400,000: RSS ~1.2 GB), so that collections cost what they cost there;
// BENCH_LIST_BUSY=B/P keeps the server's event loop busy: a turn of B ms every P ms;
// BENCH_LIST_GC_MS=N forces a full collection every N ms as kube up's --gc-interval does, held
// while a LIST is written as there (BENCH_LIST_GC_HOLD=0: not held);
// BENCH_LIST_ONLY=a,b runs only the clients whose label starts with one of these.
// Last line: list: pods=N in_process_ms= curl_https_ms= curl_http_ms= count_ms= text_parse_ms= list_ms=
// (the best of the rounds).
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { allKinds } from "../src/api/registry.ts";
import { collectGarbage } from "../src/cli/gc.ts";
import { createApiServer, serve } from "../src/components/apiserver/index.ts";
import { itemHead, itemJson } from "../src/components/apiserver/list-stream.ts";
import { createTlsMaterial } from "../src/components/apiserver/tls.ts";
import { openStore } from "../src/store/index.ts";
import { round, tempDir } from "./lib/stats.ts";

const PODS = Number(process.env.BENCH_LIST_PODS ?? 100_000);
const RUNS = Number(process.env.BENCH_LIST_RUNS ?? 2);
const TOKEN = "list-bench";
const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const status = (field: string) =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0) / 1024;
const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

/** One hollow pod's stored text (no resourceVersion: the store's revision is it). */
function podText(i: number): string {
  const name = `load-${Math.floor(i / 500)}-7c9f8d5b6d-${i.toString(36).padStart(5, "0")}`;
  const rs = `load-${Math.floor(i / 500)}-7c9f8d5b6d`;
  const t = "2026-12-02T14:08:19Z";
  const uid = (n: number) => `${n.toString(16).padStart(8, "0")}-3c1a-4126-b238-fe69ef5e905f`;
  const condition = (type: string) => ({ type, status: "True", lastProbeTime: null, lastTransitionTime: t });
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName: `${rs}-`,
      namespace: "default",
      labels: { app: `load-${Math.floor(i / 500)}`, "pod-template-hash": "7c9f8d5b6d" },
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: rs,
          uid: uid(i >> 9),
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      name,
      uid: uid(i),
      creationTimestamp: t,
      generation: 1,
    },
    spec: {
      containers: [
        {
          name: "c",
          image: "registry.k8s.io/pause:3.10",
          imagePullPolicy: "IfNotPresent",
          terminationMessagePath: "/dev/termination-log",
          terminationMessagePolicy: "File",
        },
      ],
      restartPolicy: "Always",
      dnsPolicy: "ClusterFirst",
      schedulerName: "default-scheduler",
      terminationGracePeriodSeconds: 30,
      enableServiceLinks: true,
      priority: 0,
      serviceAccountName: "default",
      serviceAccount: "default",
      securityContext: {},
      preemptionPolicy: "PreemptLowerPriority",
      nodeName: `hollow-sim-${i % 5000}`,
    },
    status: {
      phase: "Running",
      qosClass: "BestEffort",
      conditions: ["Initialized", "Ready", "ContainersReady", "PodScheduled"].map(condition),
      hostIP: "127.0.0.1",
      hostIPs: [{ ip: "127.0.0.1" }],
      podIP: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      podIPs: [{ ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }],
      startTime: t,
      containerStatuses: [
        {
          name: "c",
          state: { running: { startedAt: t } },
          lastState: {},
          ready: true,
          started: true,
          restartCount: 0,
          image: "registry.k8s.io/pause:3.10",
          imageID: "sha256:sim-registry.k8s.io/pause:3.10",
          containerID: `docker://sim${i.toString(16).padStart(24, "0")}`,
        },
      ],
    },
  });
}

export default async function main(): Promise<void> {
  const keep = process.env.BENCH_LIST_DIR;
  const dir = keep ?? tempDir("list");
  const fresh = !existsSync(join(dir, "kube.db"));
  const store = await openStore({ dataDir: dir });
  const pod = allKinds().find((k) => k.kind === "Pod" && !k.group)!;
  const live: unknown[] = [];
  for (let i = 0; i < Number(process.env.BENCH_LIST_LIVE ?? 0); i++) live.push(JSON.parse(podText(i)));
  if (live.length) console.log(`holding ${live.length} parsed pods: rss ${round(status("VmRSS"))} MB`);
  try {
    if (fresh) {
      const t0 = performance.now();
      for (let i = 0; i < PODS; i += 1000)
        await Promise.all(
          Array.from({ length: Math.min(1000, PODS - i) }, (_, j) => {
            const text = podText(i + j);
            return store.create(`/registry/pods/default/${JSON.parse(text).metadata.name}`, text);
          }),
        );
      console.log(`stored ${PODS} pods in ${round(performance.now() - t0)} ms`);
    }

    // The store alone, and the store with each item's text pieces (what the stream writes).
    const prefix = "/registry/pods/";
    const head = itemHead(pod);
    for (const pieces of [false, true]) {
      const c0 = cpuMs();
      const t0 = performance.now();
      let n = 0;
      let chars = 0;
      let page = await store.list(prefix, { limit: 500, countRemaining: false });
      for (;;) {
        for (const kv of page.kvs) {
          n++;
          if (!pieces) chars += kv.value.length;
          else for (const p of itemJson(pod, kv, head) as string[]) chars += p.length;
        }
        if (!page.more) break;
        page = await store.list(prefix, {
          limit: 500,
          startAfter: page.kvs[page.kvs.length - 1]!.key,
          countRemaining: false,
        });
      }
      console.log(
        `${pieces ? "store+pieces" : "store"}: ${n} items ${round(chars / 2 ** 20)} M chars in ${round(performance.now() - t0)} ms, cpu ${round(cpuMs() - c0)} ms (load ${loadavg()})`,
      );
    }

    const api = createApiServer({ store, token: TOKEN });
    await api.ready;
    const tls = await createTlsMaterial(["127.0.0.1"]);
    const caFile = join(dir, "list-bench-ca.crt");
    writeFileSync(caFile, tls.ca);
    const https = await serve(api, { hostname: "127.0.0.1", port: 0, tls, adminToken: TOKEN });
    const http = await serve(api, { hostname: "127.0.0.1", port: 0, adminToken: TOKEN });
    const urls = { https: `https://127.0.0.1:${https.port}`, http: `http://127.0.0.1:${http.port}` };
    const figures: Record<string, number[]> = {};
    const note = (k: string, v: number) => {
      figures[k] = [...(figures[k] ?? []), v];
    };

    /** Runs one client and prints its line with the server's CPU and peak RSS over the RSS before. */
    const [busy = 0, period = 0] = (process.env.BENCH_LIST_BUSY ?? "").split("/").map(Number);
    const busyTimer =
      busy > 0 &&
      setInterval(() => {
        const end = performance.now() + busy;
        while (performance.now() < end);
      }, period);
    // As kube up's, held while a LIST is written (BENCH_LIST_GC_HOLD=0: not held, as before).
    const hold = process.env.BENCH_LIST_GC_HOLD !== "0";
    const stopCollecting = collectGarbage(Number(process.env.BENCH_LIST_GC_MS ?? 0), {
      busy: hold ? () => api.streamingLists() > 0 : undefined,
      collect: () => {
        const g0 = performance.now();
        Bun.gc(true);
        console.log(`forced gc: ${round(performance.now() - g0)} ms`);
      },
    });
    const only = process.env.BENCH_LIST_ONLY?.split(",");
    async function measure(label: string, run: () => Promise<Record<string, number>>): Promise<void> {
      if (only && !only.some((o) => label.startsWith(o))) return;
      Bun.gc(true);
      const rss0 = status("VmRSS");
      writeFileSync("/proc/self/clear_refs", "5");
      const c0 = cpuMs();
      const t0 = performance.now();
      const got = await run();
      const wall = performance.now() - t0;
      const serverCpu = cpuMs() - c0;
      const peak = status("VmHWM") - rss0;
      note(label, got.ms ?? wall);
      const shown = Object.entries(got)
        .map(([k, v]) => `${k}=${round(v, k.endsWith("_mb") ? 0 : 0)}`)
        .join(" ");
      console.log(
        `${label}: ${shown} server_cpu_ms=${round(serverCpu)} server_peak_mb=+${round(peak)} (load ${loadavg()})`,
      );
    }
    const child = async (mode: string, url: string) => {
      const p = Bun.spawn([process.execPath, join(import.meta.dir, "lib/list-client.ts"), mode, url, TOKEN, caFile], {
        stdout: "pipe",
        stderr: "inherit",
      });
      const out = await new Response(p.stdout).text();
      await p.exited;
      return JSON.parse(out) as Record<string, number>;
    };
    const curl = async (url: string, file = "/dev/null") => {
      const p = Bun.spawn(
        [
          "curl",
          "-sS",
          "-o",
          file,
          "-w",
          "%{time_total} %{size_download}",
          "--cacert",
          caFile,
          "-H",
          `authorization: Bearer ${TOKEN}`,
          `${url}/api/v1/pods`,
        ],
        { stdout: "pipe", stderr: "inherit" },
      );
      const [s, bytes] = (await new Response(p.stdout).text()).split(" ").map(Number) as [number, number];
      await p.exited;
      const ru = p.resourceUsage();
      return { ms: s * 1000, mb: bytes / 2 ** 20, cpu_ms: ru ? Number(ru.cpuTime.total) / 1000 : NaN };
    };

    for (let r = 0; r < RUNS; r++) {
      await measure("in-process body", async () => {
        const t0 = performance.now();
        const res = await api.fetch(
          new Request("http://in-process/api/v1/pods", { headers: { authorization: `Bearer ${TOKEN}` } }),
        );
        let bytes = 0;
        const reader = res.body!.getReader();
        for (let r = await reader.read(); !r.done; r = await reader.read()) bytes += r.value.byteLength;
        return { ms: performance.now() - t0, mb: bytes / 2 ** 20 };
      });
      await measure("curl https", () =>
        curl(urls.https, r === 0 ? (process.env.BENCH_LIST_SAVE ?? "/dev/null") : "/dev/null"),
      );
      await measure("curl http", () => curl(urls.http));
      await measure("fetch count https", () => child("count", urls.https));
      await measure("fetch text+parse https", () => child("text", urls.https));
      await measure("client list https", () => child("list", urls.https));
    }
    if (busyTimer) clearInterval(busyTimer);
    stopCollecting();
    await https.stop();
    await http.stop();
    api.close();
    const best = (k: string) => round(Math.min(...(figures[k] ?? [NaN])));
    console.log(
      `list: pods=${PODS} in_process_ms=${best("in-process body")} curl_https_ms=${best("curl https")} curl_http_ms=${best("curl http")} count_ms=${best("fetch count https")} text_parse_ms=${best("fetch text+parse https")} list_ms=${best("client list https")} load=${loadavg()}`,
    );
  } finally {
    live.length = 0;
    await store.close();
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}
