// Pods on different machines, with network namespaces standing for the machines
// (test/helpers/netns.ts, one L2 segment): a `kube up --server-only --cluster-cidr` in one and two
// `kube agent`s in the others, each agent with its own Podman service in its namespace (real
// containers on both). Node IPAM gives each node a block of the cluster range, each agent's pods
// get addresses of its block, and each agent routes the other's block via its address (host-gw):
// a pod on one agent reaches a pod on the other at its IP, through a Service by its DNS name
// (each agent answers its pods' DNS itself: no DNS runs on the server), and the API server
// reaches the agents' kubelets at their addresses for exec and logs.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startKube, testServiceCidr, type RunningKube } from "../../bench/lib/kube-up.ts";
import { createClient, httpTransport, type Client } from "../../src/client/index.ts";
import type { KubeObject } from "../../src/api/types.ts";
import { ensureEngine } from "../helpers/engine.ts";
import { kubectlRunner } from "../helpers/kubectl.ts";
import { createNetLab, freeClusterCidr, startEngine, type HostEngine, type NetLab } from "../helpers/netns.ts";
import { waitFor } from "../helpers/wait.ts";

const MAIN = join(import.meta.dir, "../../src/main.ts");
const work = mkdtempSync(join(tmpdir(), "kube-cross-node-"));
const serviceCidr = testServiceCidr();
const clusterCidr = freeClusterCidr();
const nodes = [`xa-${process.pid}`, `xb-${process.pid}`];
let lab: NetLab;
let server: RunningKube | undefined;
const engines: HostEngine[] = [];
const agents: Bun.Subprocess[] = [];
let client: Client;
let kubectl: ReturnType<typeof kubectlRunner>;

beforeAll(async () => {
  await ensureEngine();
  lab = await createNetLab(3);
  const [h0, h1, h2] = lab.hosts as [NetLab["hosts"][0], NetLab["hosts"][0], NetLab["hosts"][0]];
  engines.push(await startEngine(h1!), await startEngine(h2!));
  server = await startKube(
    ["--server-only", "--service-cidr", serviceCidr, "--cluster-cidr", clusterCidr, "--runtime", "engine"],
    { prefix: h0!.prefix, host: h0!.ip, stdoutFile: join(work, "server.log") },
  );
  client = createClient(httpTransport(server.url, server.token, { ca: server.ca }));
  kubectl = kubectlRunner(join(server.dataDir, "kubeconfig"), work);
  const token = Bun.spawnSync(
    [process.execPath, MAIN, "token", "create", "--kubeconfig", join(server.dataDir, "kubeconfig")],
    { stdout: "pipe", stderr: "pipe" },
  );
  expect(token.exitCode).toBe(0);
  for (const [i, host] of [h1!, h2!].entries())
    agents.push(
      host.spawn(
        [
          process.execPath,
          MAIN,
          "agent",
          "--server",
          server.url,
          "--token",
          token.stdout.toString().trim(),
          "--node-name",
          nodes[i]!,
          "--data-dir",
          join(work, nodes[i]!),
          "--container-socket",
          engines[i]!.socket,
          "--clean-on-exit",
          // Names outside the cluster go nowhere (a loopback port where nothing answers).
          "--dns-upstream",
          "127.0.0.1:9",
        ],
        { stdout: Bun.file(join(work, `${nodes[i]}.log`)), stderr: "pipe" },
      ),
    );
}, 120_000);

afterAll(async () => {
  try {
    for (const a of agents) if (a.exitCode === null) a.kill("SIGTERM");
    // An agent that does not stop in time (a loaded machine) is killed; its leftovers go below.
    const kill = setTimeout(() => {
      for (const a of agents) if (a.exitCode === null) a.kill("SIGKILL");
    }, 60_000);
    await Promise.all(agents.map((a) => a.exited));
    clearTimeout(kill);
    await server?.stop().catch(() => {});
    for (const e of engines) await e.stop();
  } finally {
    // Only what this test's nodes made: their containers (labelled with the node) and pod networks.
    for (const n of nodes) {
      const ids = Bun.spawnSync(["podman", "ps", "-aq", "--filter", `label=io.kube.node=${n}`], { stdout: "pipe" })
        .stdout.toString()
        .split("\n")
        .filter(Boolean);
      if (ids.length) Bun.spawnSync(["podman", "rm", "-f", ...ids], { stdout: "ignore", stderr: "ignore" });
      Bun.spawnSync(["podman", "network", "rm", "-f", `kube-pods-${n}`], { stdout: "ignore", stderr: "ignore" });
    }
    await lab?.cleanup();
    rmSync(work, { recursive: true, force: true });
  }
}, 150_000);

const agentLog = (i: number) => readFileSync(join(work, `${nodes[i]}.log`), "utf8");

/** busybox httpd answering its pod's name (and logging each client's address), on node `node`. */
const webPod = (name: string, node: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, labels: { app: name } },
  spec: {
    nodeName: node,
    containers: [
      {
        name: "web",
        image: "localhost/busybox:latest",
        command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -v -p 8080 -h /www"],
      },
    ],
  },
});
const service = (name: string) => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name },
  spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
});

const inCidr = (ip: string, cidr: string) => {
  const [base, bits] = cidr.split("/");
  const n = (a: string) => a.split(".").reduce((x, o) => x * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(bits));
  return Math.floor(n(ip) / size) === Math.floor(n(base!) / size);
};

describe("pods on two machines", () => {
  let cidrs: string[] = [];
  let podIps: string[] = [];

  test("each node gets its own block of the cluster range, its address, and Ready", async () => {
    const ready = await waitFor(
      "both agents Ready with a podCIDR",
      async () => {
        const got = await Promise.all(nodes.map((n) => client.resource("nodes").get(n)));
        const ok = got.every(
          (n) =>
            (n.spec as { podCIDR?: string }).podCIDR &&
            (n.status as { conditions?: { type: string; status: string }[] }).conditions?.some(
              (c) => c.type === "Ready" && c.status === "True",
            ),
        );
        return ok && got;
      },
      90_000,
      250,
    ).catch((e) => {
      throw new Error(`${e.message}\nagent 0:\n${agentLog(0)}\nagent 1:\n${agentLog(1)}`);
    });
    cidrs = ready.map((n) => (n.spec as { podCIDR: string }).podCIDR);
    expect(new Set(cidrs).size).toBe(2);
    for (const c of cidrs) {
      expect(c).toEndWith("/24");
      expect(inCidr(c.split("/")[0]!, clusterCidr)).toBe(true);
    }
    for (const [i, n] of ready.entries()) {
      expect((n.spec as { podCIDRs?: string[] }).podCIDRs).toEqual([cidrs[i]!]);
      const internal = (n.status as { addresses: { type: string; address: string }[] }).addresses.find(
        (a) => a.type === "InternalIP",
      );
      expect(internal?.address).toBe(lab.hosts[i + 1]!.ip);
    }
    // Each agent routes the other's block via the other's address.
    const routed = (from: number, to: number) =>
      lab.hosts[from + 1]!.run(["ip", "-4", "route", "show", cidrs[to]!]).includes(`via ${lab.hosts[to + 1]!.ip}`);
    await waitFor("each agent routing the other's block", () => routed(0, 1) && routed(1, 0), 20_000, 100);
  }, 120_000);

  test("pods get addresses of their node's block", async () => {
    for (const [i, n] of nodes.entries()) {
      await client.resource("pods", "default").create(webPod(`web-${i}`, n));
      await client.resource("services", "default").create(service(`web-${i}`));
    }
    const pods = await waitFor(
      "both web pods Running with an IP",
      async () => {
        const got = await Promise.all(nodes.map((_, i) => client.resource("pods", "default").get(`web-${i}`)));
        const ok = got.every(
          (p) => (p.status as { phase?: string }).phase === "Running" && (p.status as { podIP?: string }).podIP,
        );
        return ok && got;
      },
      90_000,
      250,
    );
    podIps = pods.map((p: KubeObject) => (p.status as { podIP: string }).podIP);
    for (const [i, ip] of podIps.entries()) expect(inCidr(ip, cidrs[i]!)).toBe(true);
  }, 120_000);

  const execIn = (pod: string, cmd: string[]) => kubectl("1.33", ["exec", pod, "--", ...cmd]);

  test("a pod reaches the pod on the other machine by IP, and through the API server's exec", async () => {
    // exec goes API server -> the agent's kubelet at its node address.
    const a = await execIn("web-0", ["timeout", "10", "wget", "-qO-", `http://${podIps[1]}:8080/`]);
    expect(a.err).toBe("");
    expect(a.out.trim()).toBe("web-1");
    const b = await execIn("web-1", ["timeout", "10", "wget", "-qO-", `http://${podIps[0]}:8080/`]);
    expect(b.out.trim()).toBe("web-0");
    // No NAT between pods: web-1's httpd (-v logs each client) saw web-0's own address; the logs
    // come from the agent's kubelet through the API server.
    const logs = await kubectl("1.33", ["logs", "web-1"]);
    expect(logs.code).toBe(0);
    expect(logs.out).toMatch(new RegExp(`(^|[^\\d.])${podIps[0]!.replaceAll(".", "\\.")}\\]?:\\d+: response:200`));
  }, 60_000);

  test("a pod reaches a Service on the other machine by its DNS name, answered by its own node", async () => {
    const full = await waitFor(
      "web-1's Service by full name from web-0",
      async () =>
        (await execIn("web-0", ["timeout", "10", "wget", "-qO-", "http://web-1.default.svc.cluster.local/"])).out,
      30_000,
      500,
    );
    expect(full.trim()).toBe("web-1");
    // The search path of the pod's namespace, from the other side.
    const short = await execIn("web-1", ["timeout", "10", "wget", "-qO-", "http://web-0/"]);
    expect(short.out.trim()).toBe("web-0");
    const lookup = await execIn("web-0", ["nslookup", "web-1.default.svc.cluster.local"]);
    const svc = await client.resource("services", "default").get("web-1");
    expect(lookup.out).toContain((svc.spec as { clusterIP: string }).clusterIP);
    // No DNS runs on the server: the kube-dns Service is there, answered by each agent.
    const dns = await client.resource("services", "kube-system").get("kube-dns");
    expect((dns.spec as { clusterIP?: string }).clusterIP).toBeTruthy();
    expect(readFileSync(join(work, "server.log"), "utf8")).not.toContain("[dns] serving");
    for (const i of [0, 1]) expect(agentLog(i)).toContain("serving cluster.local on 127.0.0.1:");
  }, 60_000);

  test("a pod on an agent reaches the API server through the kubernetes Service", async () => {
    // The Service's endpoint is the server's own address (--host), routed on the hosts' segment.
    const eps = await client.resource("endpoints", "default").get("kubernetes");
    expect(JSON.stringify(eps.subsets)).toContain(lab.hosts[0]!.ip);
    for (const pod of ["web-0", "web-1"]) {
      const r = await execIn(pod, [
        "sh",
        "-c",
        "echo | nc -w 5 kubernetes.default.svc.cluster.local 443 && echo connected",
      ]);
      expect(r.out.trim()).toBe("connected");
    }
  }, 60_000);
});
