// Several machines on one: network namespaces stand for hosts on one L2 segment (test/helpers/netns.ts),
// and only the addresses this file gives them receive traffic. Three hosts run a member each of a
// real etcd cluster (Debian's etcd-server); two of them also run `kube up --server-only` on it; two
// more hosts run `kube agent --server A,B`, one with real containers (a Podman service inside its
// namespace), one hollow (sim). A Deployment spreads over both agents behind one Service. Then:
// the leading server is SIGKILLed (the other takes the Leases over, the agents go on through it, and
// no pod is created or scheduled twice); it comes back as a follower; an etcd member dies and nothing
// shows; the engine agent loses its network (its pods keep running) and catches up when it is back.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startKube, testServiceCidr, type RunningKube } from "../../bench/lib/kube-up.ts";
import { CONTAINER_LABELS } from "../../src/api/well-known.ts";
import { createClient, httpTransport, type Client } from "../../src/client/index.ts";
import { ensureEngine } from "../helpers/engine.ts";
import { startEtcdCluster, type TestEtcdCluster } from "../helpers/etcd.ts";
import { kubectlRunner } from "../helpers/kubectl.ts";
import { createNetLab, startEngine, type HostEngine, type NetHost, type NetLab } from "../helpers/netns.ts";
import { waitFor } from "../helpers/wait.ts";

const MAIN = join(import.meta.dir, "../../src/main.ts");
const work = mkdtempSync(join(tmpdir(), "kube-multihost-"));
const serviceCidr = testServiceCidr();
const PORT = 6443;
/** Where each part runs: hosts 0-2 hold the etcd members, 0 and 1 the servers, 3 and 4 the agents. */
let lab: NetLab;
let etcd: TestEtcdCluster;
let engine: HostEngine;
const servers: { name: string; host: NetHost; kube: RunningKube }[] = [];
const agents: { node: string; host: NetHost; proc: Bun.Subprocess }[] = [];

const log = (name: string) =>
  existsSync(join(work, `${name}.log`)) ? readFileSync(join(work, `${name}.log`), "utf8") : "";
const clientOf = (k: RunningKube) => createClient(httpTransport(k.url, k.token, { ca: k.ca }));
const host = (i: number) => lab.hosts[i]!;
const storeUrl = () => etcd.storeUrl;

async function server(name: string, h: NetHost, dataDir?: string): Promise<RunningKube> {
  const kube = await startKube(["--server-only", "--store", `etcd://${storeUrl()}`, "--service-cidr", serviceCidr], {
    prefix: h.prefix,
    host: h.ip,
    port: PORT,
    stdoutFile: join(work, `${name}.log`),
    keepDataDir: true,
    dataDir,
    readyMs: 60_000,
  });
  const i = servers.findIndex((s) => s.name === name);
  if (i >= 0) servers[i]!.kube = kube;
  else servers.push({ name, host: h, kube });
  return kube;
}

function agent(node: string, h: NetHost, token: string, runtime: "engine" | "sim", socket?: string): void {
  const proc = h.spawn(
    [
      process.execPath,
      MAIN,
      "agent",
      "--server",
      servers.map((s) => s.kube.url).join(","),
      "--token",
      token,
      "--node-name",
      node,
      "--data-dir",
      join(work, node),
      "--runtime",
      runtime,
      ...(socket ? ["--container-socket", socket] : []),
      "--service-cidr",
      serviceCidr,
      "--clean-on-exit",
    ],
    { stdout: Bun.file(join(work, `${node}.log`)), stderr: Bun.file(join(work, `${node}.err`)) },
  );
  agents.push({ node, host: h, proc });
}

beforeAll(async () => {
  await ensureEngine();
  lab = await createNetLab(5);
  etcd = await startEtcdCluster(3, [host(0), host(1), host(2)]);
  // A first, alone long enough to lead: the agents try it first too, so its death is both tests at once.
  await server("a", host(0));
  await waitFor(
    "server a to lead",
    () => /successfully acquired lease kube-system\/kube-scheduler/.test(log("a")),
    30_000,
  );
  await server("b", host(1));
  engine = await startEngine(host(3));
}, 120_000);

afterAll(async () => {
  // Agents first: with --clean-on-exit they remove their containers through the host's Podman.
  for (const a of agents) if (a.proc.exitCode === null) a.proc.kill("SIGTERM");
  await Promise.all(agents.map((a) => a.proc.exited));
  await engine?.stop();
  for (const s of servers) await s.kube.stop().catch(() => {});
  await etcd?.stop();
  await lab?.cleanup();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

type Pod = {
  metadata: { name: string; uid: string };
  spec: { nodeName?: string };
  status?: { phase?: string; containerStatuses?: { containerID?: string; restartCount: number }[] };
};
const pods = async (c: Client) =>
  (await c.resource("pods", "default").list({ labelSelector: "app=web" })).items as unknown as Pod[];
const running = async (c: Client, n: number) => {
  const ps = await pods(c);
  return ps.length === n && ps.every((p) => p.status?.phase === "Running") && ps;
};
const perNode = (ps: Pod[]) => {
  const count: Record<string, number> = {};
  for (const p of ps) count[p.spec.nodeName ?? ""] = (count[p.spec.nodeName ?? ""] ?? 0) + 1;
  return count;
};
const renewTime = async (c: Client, node: string) =>
  Date.parse(
    ((await c.resource("leases.coordination.k8s.io", "kube-node-lease").get(node)) as { spec: { renewTime: string } })
      .spec.renewTime,
  );
const holder = async (c: Client, lease: string) =>
  ((await c.resource("leases.coordination.k8s.io", "kube-system").get(lease)) as { spec: { holderIdentity?: string } })
    .spec.holderIdentity ?? "";
/** Events of a reason, by the object they are about (count is how often an identical event was recorded). */
const events = async (c: Client, reason: string) =>
  (
    (await c.resource("events", "default").list({ fieldSelector: `reason=${reason}` })).items as unknown as {
      involvedObject: { uid: string };
      count?: number;
    }[]
  ).map((e) => ({ uid: e.involvedObject.uid, count: e.count ?? 1 }));
/** The engine agent's pods as its Podman has them: pod UIDs of running infra containers. */
const enginePods = async (node: string) => {
  const filters = JSON.stringify({ label: [`${CONTAINER_LABELS.node}=${node}`, `${CONTAINER_LABELS.kind}=infra`] });
  const res = await fetch(`http://d/v1.41/containers/json?filters=${encodeURIComponent(filters)}`, {
    unix: engine.socket,
  } as RequestInit);
  return ((await res.json()) as { Labels: Record<string, string> }[])
    .map((c) => c.Labels[CONTAINER_LABELS.podUid]!)
    .sort();
};

const [engineNode, simNode] = [`mh-engine-${process.pid}`, `mh-sim-${process.pid}`];

test("two agents join through the servers on the etcd cluster; a Deployment spreads over both behind one Service", async () => {
  const [a] = servers as [(typeof servers)[0]];
  expect(readFileSync(join(servers[1]!.kube.dataDir, "pki", "ca.crt"), "utf8")).toBe(a.kube.ca);
  const created = Bun.spawnSync(
    [process.execPath, MAIN, "token", "create", "--kubeconfig", join(a.kube.dataDir, "kubeconfig")],
    { stdout: "pipe", stderr: "pipe" },
  );
  expect(created.exitCode).toBe(0);
  const token = created.stdout.toString().trim();
  agent(engineNode, host(3), token, "engine", engine.socket);
  agent(simNode, host(4), token, "sim");
  const client = clientOf(a.kube);
  for (const node of [engineNode, simNode])
    await waitFor(
      `node ${node} Ready`,
      async () => {
        const n = (await client.resource("nodes").get(node)) as {
          status?: { conditions?: { type: string; status: string }[] };
        };
        return n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
      },
      60_000,
    );
  await client.resource("deployments.apps", "default").create({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web" },
    spec: {
      replicas: 4,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          terminationGracePeriodSeconds: 1,
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "kubernetes.io/hostname",
              whenUnsatisfiable: "DoNotSchedule",
              labelSelector: { matchLabels: { app: "web" } },
            },
          ],
          containers: [
            { name: "web", image: "localhost/busybox:latest", command: ["httpd", "-f", "-p", "8080", "-h", "/etc"] },
          ],
        },
      },
    },
  });
  await client.resource("services", "default").create({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web" },
    spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] },
  });
  const ps = await waitFor("four web pods running", () => running(client, 4), 90_000);
  expect(perNode(ps)).toEqual({ [engineNode]: 2, [simNode]: 2 });
  expect(await enginePods(engineNode)).toEqual(
    ps
      .filter((p) => p.spec.nodeName === engineNode)
      .map((p) => p.metadata.uid)
      .sort(),
  );
  const endpoints = await waitFor(
    "the service's four endpoints",
    async () => {
      const ep = (await client.resource("endpoints", "default").get("web")) as {
        subsets?: { addresses?: { nodeName?: string }[] }[];
      };
      const addrs = ep.subsets?.flatMap((s) => s.addresses ?? []) ?? [];
      return addrs.length === 4 && addrs;
    },
    30_000,
  );
  expect(new Set(endpoints.map((e) => e.nodeName))).toEqual(new Set([engineNode, simNode]));
}, 120_000);

test("the leading server dies: the other takes the Leases over, the agents go on through it, no pod is made or scheduled twice", async () => {
  const [a, b] = servers as [(typeof servers)[0], (typeof servers)[0]];
  const viaB = clientOf(b.kube);
  const leader = await holder(viaB, "kube-scheduler");
  expect(log("a")).toContain(`successfully acquired lease kube-system/kube-scheduler as ${leader}`);
  // Every pod made or removed from now on, seen through b, which stays.
  const listed = await viaB.resource("pods", "default").list({ labelSelector: "app=web" });
  const watch = viaB
    .resource("pods", "default")
    .watch({ labelSelector: "app=web", resourceVersion: listed.metadata.resourceVersion });
  const changes: string[] = [];
  void (async () => {
    for await (const ev of watch) if (ev.type !== "MODIFIED") changes.push(`${ev.type} ${ev.object.metadata?.name}`);
  })().catch(() => {});
  const killed = Date.now();
  process.kill(a.kube.pid, "SIGKILL");
  await a.kube.exited;
  // Scaled at once, through b: the new pods wait for b's controllers and scheduler to take over.
  await viaB.resource("deployments.apps", "default").patch("web", { spec: { replicas: 6 } }, "merge");
  for (const lease of ["kube-scheduler", "kube-controller-manager"])
    await waitFor(
      `b to hold ${lease}`,
      async () => {
        const h = await holder(viaB, lease);
        return h !== leader && log("b").includes(`successfully acquired lease kube-system/${lease} as ${h}`);
      },
      40_000,
    );
  const failoverS = (Date.now() - killed) / 1000;
  console.log(`leader failover: ${failoverS.toFixed(1)} s`);
  // Both agents renewed their node Leases after a's death: through b, the only server left.
  for (const node of [engineNode, simNode])
    await waitFor(`${node}'s lease renewed through b`, async () => (await renewTime(viaB, node)) > killed, 30_000);
  // a comes back on its data dir and port, and follows: b keeps the Lease.
  const newLeader = await holder(viaB, "kube-scheduler");
  const back = await server("a", a.host, a.kube.dataDir);
  expect(await holder(clientOf(back), "kube-scheduler")).toBe(newLeader);

  const ps = await waitFor("six web pods running", () => running(viaB, 6), 90_000);
  expect(perNode(ps)).toEqual({ [engineNode]: 3, [simNode]: 3 });
  // Exactly the two missing pods were made and none removed (two active controllers would make more,
  // then delete the surplus); each of the six was scheduled once.
  watch.close();
  const added = ps.filter((p) => !listed.items.some((o) => o.metadata?.uid === p.metadata.uid));
  expect(changes.sort()).toEqual(added.map((p) => `ADDED ${p.metadata.name}`).sort());
  expect(added).toHaveLength(2);
  const scheduled = await events(viaB, "Scheduled");
  expect(scheduled.map((e) => e.uid).sort()).toEqual(ps.map((p) => p.metadata.uid).sort());
  expect(scheduled.every((e) => e.count === 1)).toBe(true);
  // The engine agent runs exactly the pods bound to it, once each.
  const mine = ps
    .filter((p) => p.spec.nodeName === engineNode)
    .map((p) => p.metadata.uid)
    .sort();
  await waitFor(
    "the engine agent's Podman to hold exactly its three pods",
    async () => JSON.stringify(await enginePods(engineNode)) === JSON.stringify(mine),
  );
}, 180_000);

test("an etcd member dies: clients, agents and controllers see nothing; it comes back", async () => {
  const [a, b] = servers as [(typeof servers)[0], (typeof servers)[0]];
  const kubectl = kubectlRunner(join(b.kube.dataDir, "kubeconfig"), work);
  const viaA = clientOf(a.kube);
  // The first member, which every server tries first.
  const m0 = etcd.members[0]!;
  await m0.kill();
  const lost = Date.now();
  expect(await kubectl("1.30", ["create", "configmap", "during-loss", "--from-literal=k=v"])).toMatchObject({
    code: 0,
    out: "configmap/during-loss created\n",
  });
  expect(((await viaA.resource("configmaps", "default").get("during-loss")) as { data: { k: string } }).data.k).toBe(
    "v",
  );
  expect(await kubectl("1.30", ["scale", "deployment", "web", "--replicas=4"])).toMatchObject({ code: 0 });
  await waitFor("four web pods", async () => (await pods(viaA)).length === 4, 30_000);
  for (const node of [engineNode, simNode])
    await waitFor(
      `${node}'s lease renewed while the member is down`,
      async () => (await renewTime(viaA, node)) > lost,
      30_000,
    );
  await m0.start();
  expect(await kubectl("1.30", ["delete", "configmap", "during-loss"])).toMatchObject({ code: 0 });
  // Through all this, the restarted a followed: it never took a Lease again.
  expect(log("a").split("successfully acquired lease kube-system/kube-scheduler")).toHaveLength(2);
}, 90_000);

test("the engine agent loses its network: its pods keep running, and it catches up when the network is back", async () => {
  const [a] = servers as [(typeof servers)[0]];
  const client = clientOf(a.kube);
  const h = host(3);
  const before = (await pods(client)).filter((p) => p.spec.nodeName === engineNode);
  const containers = (ps: Pod[]) =>
    ps
      .map(
        (p) =>
          `${p.metadata.name} ${p.status?.containerStatuses?.[0]?.containerID} ${p.status?.containerStatuses?.[0]?.restartCount}`,
      )
      .sort();
  h.run(["ip", "link", "set", "eth0", "down"]);
  let upAt = 0;
  try {
    // The agent reaches no server: its next node Lease renewal (every 10 s) fails, and says so.
    const logged = log(engineNode).length;
    await waitFor(
      "the agent to fail to renew its lease",
      () => /\[kubelet\] lease: /.test(log(engineNode).slice(logged)),
      30_000,
      200,
    );
    expect(await enginePods(engineNode)).toEqual(before.map((p) => p.metadata.uid).sort());
  } finally {
    h.run(["ip", "link", "set", "eth0", "up"]);
    upAt = Date.now();
  }
  await waitFor(
    "the agent's lease renewed once its network is back",
    async () => (await renewTime(client, engineNode)) > upAt,
    30_000,
  );
  const after = (await pods(client)).filter((p) => p.spec.nodeName === engineNode);
  expect(containers(after)).toEqual(containers(before));
  expect(after.every((p) => p.status?.phase === "Running")).toBe(true);
  expect(agents.every((x) => x.proc.exitCode === null)).toBe(true);
}, 90_000);
