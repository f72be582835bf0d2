// The API server through its full stack (TLS, auth, routing, store read, JSON) against a bare
// hono handler (its own process, as kube) returning the same pod JSON over the same TLS, with the same load generator
// and concurrency in the same run; plus create throughput and LIST of 1000 pods; and the same GET
// by a service account through a RoleBinding against the admin token's (authz_ratio).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startKube, load } from "./lib/kube-up.ts";
import { cpuSeconds, round } from "./lib/stats.ts";

const CONCURRENCY = 32;
const DURATION_MS = 4000;

export default async function main(): Promise<void> {
  const kube = await startKube([
    "--runtime",
    "sim",
    "--sim-nodes",
    "0",
    "--disable",
    "scheduler,controllers,kubelet,proxy",
  ]);
  const tls = { ca: kube.ca } as const;
  const headers = { authorization: `Bearer ${kube.token}`, "content-type": "application/json" };
  const req = (method: string, path: string, body?: unknown) =>
    fetch(`${kube.url}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined, tls } as RequestInit);
  const pod = (name: string) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { app: "bench" } },
    spec: { containers: [{ name: "c", image: "localhost/busybox:latest", ports: [{ containerPort: 80 }] }] },
  });

  const first = await (await req("POST", "/api/v1/namespaces/default/pods", pod("target"))).json();
  const podJson = JSON.stringify(first);

  // Bare hono on Bun, same TLS certificate, answering the same pod bytes, in a process of its own as kube is.
  const pki = join(kube.dataDir, "pki");
  const bodyFile = join(kube.dataDir, "bench-pod.json");
  writeFileSync(bodyFile, podJson);
  const bare = Bun.spawn(
    [
      process.execPath,
      join(import.meta.dir, "lib/bare-hono.ts"),
      join(pki, "apiserver.crt"),
      join(pki, "apiserver.key"),
      bodyFile,
    ],
    { stdout: "pipe", stderr: "inherit" },
  );
  const { value } = await bare.stdout.getReader().read();
  const barePort = new TextDecoder().decode(value).match(/port (\d+)/)?.[1];
  if (!barePort) throw new Error("the bare hono process did not start");
  const bareUrl = `https://127.0.0.1:${barePort}/pod`;

  // A service account allowed to read pods through a RoleBinding: its GETs pay for authentication and RBAC.
  const rbac = "/apis/rbac.authorization.k8s.io/v1/namespaces/default";
  await req("POST", "/api/v1/namespaces/default/serviceaccounts", {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "reader" },
  });
  await req("POST", `${rbac}/roles`, {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: { name: "pod-reader" },
    rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] }],
  });
  await req("POST", `${rbac}/rolebindings`, {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name: "reader" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "pod-reader" },
    subjects: [{ kind: "ServiceAccount", name: "reader", namespace: "default" }],
  });
  const saToken = (
    await (
      await req("POST", "/api/v1/namespaces/default/serviceaccounts/reader/token", {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: {},
      })
    ).json()
  ).status.token as string;
  const saGet = () =>
    fetch(`${kube.url}/api/v1/namespaces/default/pods/target`, {
      headers: { authorization: `Bearer ${saToken}` },
      tls,
    } as RequestInit);
  const probe = await saGet();
  if (probe.status !== 200) throw new Error(`the service account's GET answered ${probe.status}`);

  const adminGet = () => req("GET", "/api/v1/namespaces/default/pods/target");
  await load(500, CONCURRENCY, adminGet); // warm-up
  await load(500, CONCURRENCY, saGet);
  const bareGet = () => fetch(bareUrl, { tls } as RequestInit);
  await load(500, CONCURRENCY, bareGet);
  // Interleaved quarters, so that a change in the machine's load hits kube and the bare handler alike.
  // Each server's CPU time per request is taken too: unlike throughput, it does not depend on how
  // much of the machine the other processes leave.
  const measured = async (pid: number, request: () => Promise<Response>) => {
    const c0 = cpuSeconds(pid);
    const rps = await load(DURATION_MS / 4, CONCURRENCY, request);
    return { rps, cpu: cpuSeconds(pid) - c0, requests: (rps * DURATION_MS) / 4 / 1000 };
  };
  const total = {
    get: { rps: 0, cpu: 0, requests: 0 },
    authz: { rps: 0, cpu: 0, requests: 0 },
    hono: { rps: 0, cpu: 0, requests: 0 },
  };
  const add = (t: typeof total.get, m: typeof total.get) => {
    t.rps += m.rps / 4;
    t.cpu += m.cpu;
    t.requests += m.requests;
  };
  for (let k = 0; k < 4; k++) {
    add(total.get, await measured(kube.pid, adminGet));
    add(total.authz, await measured(kube.pid, saGet));
    add(total.hono, await measured(bare.pid, bareGet));
  }
  const getRps = total.get.rps;
  const authzRps = total.authz.rps;
  const honoRps = total.hono.rps;
  const usPerReq = (t: typeof total.get) => round((t.cpu / t.requests) * 1e6);
  console.log(
    `GET pod as a service account through a RoleBinding: ${round(authzRps)} req/s (admin token: ${round(getRps)} req/s)`,
  );
  console.log(`GET pod: ${round(getRps)} req/s through kube, ${round(honoRps)} req/s bare hono`);
  console.log(
    `server CPU per GET: kube ${usPerReq(total.get)} us (service account ${usPerReq(total.authz)} us), bare hono ${usPerReq(total.hono)} us`,
  );

  let i = 0;
  const createRps = await load(DURATION_MS, CONCURRENCY, () =>
    req("POST", "/api/v1/namespaces/default/pods", pod(`p-${i++}`)),
  );
  console.log(`create: ${round(createRps)} pods/s (${i} created)`);

  // A kubelet's write: a merge patch of a pod's status (each changes it, so each is written), and the
  // server's CPU per patch.
  let n = 0;
  const created = i;
  const patchStatus = () =>
    fetch(`${kube.url}/api/v1/namespaces/default/pods/p-${n % created}/status`, {
      method: "PATCH",
      headers: { ...headers, "content-type": "application/merge-patch+json" },
      body: JSON.stringify({ status: { phase: "Running", message: `patch ${n++}` } }),
      tls,
    } as RequestInit);
  await load(500, CONCURRENCY, patchStatus); // warm-up
  const patch = { rps: 0, cpu: 0, requests: 0 };
  for (let k = 0; k < 4; k++) add(patch, await measured(kube.pid, patchStatus));
  const patchRps = patch.rps;
  const cpuUsPerPatch = round((patch.cpu / patch.requests) * 1e6);
  console.log(`status patch: ${round(patchRps)} req/s, server CPU ${cpuUsPerPatch} us each`);

  await req("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "list" } });
  let made = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (made < 1000) await (await req("POST", "/api/v1/namespaces/list/pods", pod(`l-${made++}`))).arrayBuffer();
    }),
  );
  const times: number[] = [];
  for (let k = 0; k < 10; k++) {
    const t0 = performance.now();
    const list = await (await req("GET", "/api/v1/namespaces/list/pods")).json();
    times.push(performance.now() - t0);
    if (list.items.length !== 1000) throw new Error(`expected 1000 pods, got ${list.items.length}`);
  }
  const list1000 = round(times.sort((a, b) => a - b)[5]!, 1);
  console.log(`LIST 1000 pods: median ${list1000} ms`);
  bare.kill("SIGTERM");
  await bare.exited;
  await kube.stop();
  console.log(
    [
      `api: get_rps=${round(getRps)} hono_rps=${round(honoRps)} ratio=${round(getRps / honoRps, 2)}`,
      `create_rps=${round(createRps)} list1000_ms=${list1000}`,
      `patch_rps=${round(patchRps)} cpu_us_per_patch=${cpuUsPerPatch}`,
      `authz_get_rps=${round(authzRps)} authz_ratio=${round(authzRps / getRps, 2)}`,
      `cpu_us_per_get=${usPerReq(total.get)} hono_cpu_us_per_get=${usPerReq(total.hono)}`,
      `cpu_ratio=${round(usPerReq(total.hono) / usPerReq(total.get), 2)}`,
    ].join(" "),
  );
}
