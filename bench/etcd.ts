// The etcd store backend against the SQLite one, in the same run: create and GET throughput of
// pods through the whole API (TLS, auth, admission, store) on `kube up --store etcd://...` and on
// the default SQLite store; then the time a leader's takeover takes when its process is killed
// (two `kube up --server-only` on one etcd, upstream's 15 s lease).
import { startKube, load, type RunningKube } from "./lib/kube-up.ts";
import { round } from "./lib/stats.ts";
import { startEtcd } from "../test/helpers/etcd.ts";

const CONCURRENCY = 16;
const DURATION_MS = 4000;
// API server only: nothing else writes while the store is measured.
const API_ONLY = [
  "--runtime",
  "sim",
  "--sim-nodes",
  "0",
  "--disable",
  "scheduler,controllers,kubelet,proxy,dns,ingress",
];

async function throughput(kube: RunningKube, label: string): Promise<{ create: number; get: number }> {
  const headers = { authorization: `Bearer ${kube.token}`, "content-type": "application/json" };
  const req = (method: string, path: string, body?: unknown) =>
    fetch(`${kube.url}${path}`, {
      method,
      headers,
      body: body ? JSON.stringify(body) : undefined,
      tls: { ca: kube.ca },
    } as RequestInit);
  const pod = (name: string) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: { containers: [{ name: "c", image: "localhost/busybox:latest" }] },
  });
  await req("POST", "/api/v1/namespaces/default/pods", pod("target"));
  let n = 0;
  const create = await load(DURATION_MS, CONCURRENCY, () =>
    req("POST", "/api/v1/namespaces/default/pods", pod(`p-${n++}`)),
  );
  const get = await load(DURATION_MS, CONCURRENCY, () => req("GET", "/api/v1/namespaces/default/pods/target"));
  console.log(`${label}: create ${round(create)}/s, get ${round(get)}/s (concurrency ${CONCURRENCY})`);
  return { create, get };
}

/** Seconds from SIGKILL of the leading process until the other holds the scheduler's Lease. */
async function failover(endpoint: string): Promise<number> {
  const args = ["--server-only", "--store", `etcd://${endpoint.replace("http://", "")}`, "--etcd-prefix", "/failover"];
  const a = await startKube(args);
  const b = await startKube(args);
  const holder = async (k: RunningKube) => {
    const r = await fetch(`${k.url}/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler`, {
      headers: { authorization: `Bearer ${k.token}` },
      tls: { ca: k.ca },
    } as RequestInit);
    return r.ok ? ((await r.json()) as { spec?: { holderIdentity?: string } }).spec?.holderIdentity : undefined;
  };
  try {
    // Wait until a has led for a while, so b has observed a renewing lease (the steady state).
    let first = await holder(a);
    for (const deadline = Date.now() + 30_000; !first; first = await holder(a)) {
      if (Date.now() > deadline) throw new Error("no scheduler leader");
      await Bun.sleep(100);
    }
    await Bun.sleep(3000);
    const leader = (await holder(a)) === first ? a : b;
    const other = leader === a ? b : a;
    const killed = performance.now();
    process.kill(leader.pid, "SIGKILL");
    await leader.exited;
    for (const deadline = Date.now() + 60_000; ; ) {
      const h = await holder(other);
      if (h && h !== first) return (performance.now() - killed) / 1000;
      if (Date.now() > deadline) throw new Error("no takeover within 60 s");
      await Bun.sleep(100);
    }
  } finally {
    await a.stop().catch(() => {});
    await b.stop().catch(() => {});
  }
}

export default async function main(): Promise<void> {
  const etcd = await startEtcd();
  try {
    const onEtcd = await startKube([...API_ONLY, "--store", `etcd://${etcd.endpoint.replace("http://", "")}`]);
    const e = await throughput(onEtcd, "etcd").finally(() => onEtcd.stop());
    const onSqlite = await startKube(API_ONLY);
    const s = await throughput(onSqlite, "sqlite").finally(() => onSqlite.stop());
    console.log(`get ratio etcd/sqlite: ${round(e.get / s.get, 2)}`);
    const f = await failover(etcd.endpoint);
    console.log(`leader takeover after SIGKILL: ${round(f, 1)} s (lease 15 s, retry 2 s)`);
    console.log(
      `etcd: create_rps=${round(e.create)} sqlite_create_rps=${round(s.create)} ratio=${round(e.create / s.create, 2)} failover_s=${round(f, 1)}`,
    );
  } finally {
    await etcd.stop();
  }
}
