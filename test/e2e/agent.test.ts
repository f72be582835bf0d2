// `kube token create` and `kube agent` as separate processes on loopback: a `kube up --server-only`
// (SQLite) and an agent (real containers through Podman, beside any other cluster's: containers
// carry their node's name) that joins with a join token, becomes Ready and runs a scheduled pod
// with only its own node credential; wrong CA hashes and wrong or expired tokens are refused with one line on each side; the agent rides
// out a server restart. Then two servers on one etcd: an agent (sim runtime, a hollow node: the
// failover is the API side's) fails over when one dies.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startKube, testServiceCidr, type RunningKube } from "../../bench/lib/kube-up.ts";
import { createClient, httpTransport, isNotFound, type Client } from "../../src/client/index.ts";
import type { KubeObject } from "../../src/api/types.ts";
import { startEtcd, type TestEtcd } from "../helpers/etcd.ts";
import { ensureEngine } from "../helpers/engine.ts";
import { waitFor } from "../helpers/wait.ts";

const MAIN = join(import.meta.dir, "../../src/main.ts");
const work = mkdtempSync(join(tmpdir(), "kube-agent-e2e-"));
const serviceCidr = testServiceCidr();
const procs: Bun.Subprocess[] = [];
const servers: RunningKube[] = [];
afterAll(async () => {
  for (const p of procs) if (p.exitCode === null) p.kill("SIGTERM");
  await Promise.all(procs.map((p) => p.exited));
  for (const k of servers) await k.stop().catch(() => {});
  rmSync(work, { recursive: true, force: true });
});

const log = (name: string) =>
  existsSync(join(work, `${name}.log`)) ? readFileSync(join(work, `${name}.log`), "utf8") : "";
const server = async (name: string, args: string[], port?: number, dataDir?: string) => {
  const k = await startKube(["--server-only", "--service-cidr", serviceCidr, ...args], {
    stdoutFile: join(work, `${name}.log`),
    keepDataDir: true,
    ...(port ? { port } : {}),
    ...(dataDir ? { dataDir } : {}),
  });
  servers.push(k);
  return k;
};
const clientOf = (k: RunningKube) => createClient(httpTransport(k.url, k.token, { ca: k.ca }));

async function kube(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const p = Bun.spawn([process.execPath, MAIN, ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out: out.trim(), err: err.trim() };
}

/** A `kube agent` expected to give up at once (a refused join). */
const joinOnce = (url: string, token: string, name: string) =>
  kube([
    "agent",
    "--server",
    url,
    "--token",
    token,
    "--node-name",
    `refused-${process.pid}`,
    "--data-dir",
    join(work, name),
    "--runtime",
    "sim",
  ]);

/** A `kube agent` left running; its log in WORK/<name>.log. */
function agent(
  name: string,
  servers: string[],
  token: string,
  node: string,
  runtime: "engine" | "sim" = "sim",
): Bun.Subprocess {
  const p = Bun.spawn(
    [
      process.execPath,
      MAIN,
      "agent",
      "--server",
      servers.join(","),
      "--token",
      token,
      "--node-name",
      node,
      "--data-dir",
      join(work, name),
      "--runtime",
      runtime,
      "--clean-on-exit",
      "--proxy-mode",
      "userspace",
      "--service-cidr",
      serviceCidr,
    ],
    { stdout: Bun.file(join(work, `${name}.log`)), stderr: "pipe" },
  );
  procs.push(p);
  return p;
}

const pod = (name: string, nodeName?: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name },
  spec: {
    ...(nodeName ? { nodeName } : {}),
    containers: [{ name: "c", image: "localhost/busybox:latest", command: ["sleep", "3600"] }],
  },
});
type PodLike = KubeObject & { spec?: { nodeName?: string }; status?: { phase?: string } };
const running = (client: Client, name: string, ms = 30_000) =>
  waitFor(
    `pod ${name} running`,
    async () => {
      const p = (await client.resource<PodLike>("pods", "default").get(name)) as PodLike;
      return p.status?.phase === "Running" && p;
    },
    ms,
  );
const nodeReady = (client: Client, node: string, ms = 30_000) =>
  waitFor(
    `node ${node} Ready`,
    async () => {
      const n = (await client.resource("nodes").get(node)) as {
        status?: { conditions?: { type: string; status: string }[] };
      };
      return n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    },
    ms,
  );
const renewTime = async (client: Client, node: string) =>
  Date.parse(
    (
      (await client.resource("leases.coordination.k8s.io", "kube-node-lease").get(node)) as {
        spec: { renewTime: string };
      }
    ).spec.renewTime,
  );

describe("one server (SQLite) and one agent", () => {
  let k: RunningKube;
  let token = "";
  const node = `agent-${process.pid}`;
  beforeAll(async () => {
    await ensureEngine();
    k = await server("server", []);
  });

  test("token create stores a bootstrap token Secret and prints K10<sha256 of the CA>::<id>.<secret>", async () => {
    const created = await kube(["token", "create", "--kubeconfig", join(k.dataDir, "kubeconfig"), "--ttl", "2h"]);
    expect(created).toMatchObject({ code: 0, err: "" });
    token = created.out;
    const m = /^K10([0-9a-f]{64})::([a-z0-9]{6})\.([a-z0-9]{16})$/.exec(token)!;
    expect(m).not.toBeNull();
    expect(m[1]).toBe(
      createHash("sha256")
        .update(readFileSync(join(k.dataDir, "pki", "ca.crt")))
        .digest("hex"),
    );
    const secret = (await clientOf(k).resource("secrets", "kube-system").get(`bootstrap-token-${m[2]}`)) as {
      type: string;
      data: Record<string, string>;
    };
    const data = Object.fromEntries(
      Object.entries(secret.data).map(([key, v]) => [key, Buffer.from(v, "base64").toString()]),
    );
    expect(secret.type).toBe("bootstrap.kubernetes.io/token");
    expect(data).toMatchObject({ "token-id": m[2], "token-secret": m[3], "usage-bootstrap-authentication": "true" });
    const ttl = Date.parse(data.expiration!) - Date.now();
    expect(ttl).toBeGreaterThan(7_000_000);
    expect(ttl).toBeLessThanOrEqual(7_200_000);
    const listed = await kube(["token", "list", "--kubeconfig", join(k.dataDir, "kubeconfig")]);
    expect(listed.out).toContain(m[2]!);
    expect(listed.out).not.toContain(m[3]!);
  });

  test("a wrong CA hash, a wrong secret and an expired token are refused, with one line on each side", async () => {
    const [, hash, id] = /^K10(\w{64})::(\w{6})\.(\w{16})$/.exec(token)!;
    const wrongHash = token.replace(hash!, "0".repeat(64));
    const before = log("server");
    const refusedHash = await joinOnce(k.url, wrongHash, "bad-hash");
    expect(refusedHash.code).toBe(1);
    expect(refusedHash.err).toBe(
      `error: the CA of ${k.url} has sha256 ${hash}, not the join token's ${"0".repeat(64)}: refusing to send the token to it`,
    );
    // The token was never sent: the server has nothing to say about it.
    expect(log("server").slice(before.length)).not.toContain(id!);

    const wrongSecret = `${token.slice(0, -16)}${"a".repeat(16)}`;
    const bad = await joinOnce(k.url, wrongSecret, "bad-secret");
    expect(bad.code).toBe(1);
    expect(bad.err).toBe(`error: ${k.url} refused the join token (401 Unauthorized): it is wrong, expired or deleted`);
    await waitFor("the server's line", () =>
      log("server").includes(
        `Bootstrap secret kube-system/bootstrap-token-${id} matching bearer token has invalid value for key token-secret.`,
      ),
    );

    // An expired token (its Secret made by hand, as kubeadm's would be).
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    await clientOf(k)
      .resource("secrets", "kube-system")
      .create({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "bootstrap-token-oldtok", namespace: "kube-system" },
        type: "bootstrap.kubernetes.io/token",
        data: {
          "token-id": b64("oldtok"),
          "token-secret": b64("0123456789abcdef"),
          "usage-bootstrap-authentication": b64("true"),
          expiration: b64(new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, "Z")),
        },
      });
    // The token cleaner deletes it (upstream's tokencleaner); until it has, the authenticator refuses it as expired.
    await waitFor("the token cleaner to delete the expired token", () =>
      clientOf(k)
        .resource("secrets", "kube-system")
        .get("bootstrap-token-oldtok")
        .then(
          () => false,
          (e) => isNotFound(e),
        ),
    );
    const expired = await joinOnce(k.url, `K10${hash}::oldtok.0123456789abcdef`, "expired");
    expect(expired.code).toBe(1);
    expect(expired.err).toBe(
      `error: ${k.url} refused the join token (401 Unauthorized): it is wrong, expired or deleted`,
    );
    await waitFor("the server's line", () =>
      log("server").includes("No secret of name bootstrap-token-oldtok to match bootstrap bearer token"),
    );
    expect(existsSync(join(work, "expired", "node-credential.json"))).toBe(false);
  });

  test("the agent joins, its node is Ready, a scheduled pod runs, and its credential is its node's only", async () => {
    const a = agent("agent", [k.url], token, node, "engine");
    const client = clientOf(k);
    await nodeReady(client, node);
    expect(a.exitCode).toBeNull();
    const saved = join(work, "agent", "node-credential.json");
    expect(statSync(saved).mode & 0o777).toBe(0o600);
    await client.resource("pods", "default").create(pod("first"));
    expect((await running(client, "first")).spec?.nodeName).toBe(node);

    const cred = JSON.parse(readFileSync(saved, "utf8")) as { token: string };
    const asNode = createClient(httpTransport(k.url, cred.token, { ca: k.ca }));
    await client.resource("nodes").create({ apiVersion: "v1", kind: "Node", metadata: { name: `${node}-other` } });
    const res = await asNode.request("PATCH", `/api/v1/nodes/${node}-other`, {
      body: { metadata: { labels: { taken: "yes" } } },
      contentType: "application/merge-patch+json",
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toContain(
      `node '${node}' cannot modify node '${node}-other'`,
    );
    // Secrets no pod of the node uses are not its to read (Node authorizer).
    expect((await asNode.request("GET", "/api/v1/namespaces/kube-system/secrets/bootstrap-token-oldtok")).status).toBe(
      403,
    );
    // Its own Node is.
    expect((await asNode.request("GET", `/api/v1/nodes/${node}`)).status).toBe(200);
    // The API server reaches the agent's kubelet, which proves itself with the key derived for its node.
    const summary = await client.request("GET", `/api/v1/nodes/${node}/proxy/stats/summary`);
    expect(summary.status).toBe(200);
    expect(((await summary.json()) as { node: { nodeName: string } }).node.nodeName).toBe(node);
    const logs = await client.request("GET", "/api/v1/namespaces/default/pods/first/log");
    expect(logs.status).toBe(200);
  });

  test("the server restarts: the agent reconnects, the node stays Ready and takes new pods", async () => {
    const client = clientOf(k);
    const port = Number(new URL(k.url).port);
    await k.stop();
    servers.splice(servers.indexOf(k), 1);
    k = await server("server", [], port, k.dataDir);
    const restarted = Date.now();
    await waitFor(
      "the node's lease renewed after the restart",
      async () => (await renewTime(client, node)) > restarted - 1000,
      30_000,
    );
    await nodeReady(client, node);
    expect(procs.find((p) => p.exitCode !== null && p.exitCode !== 1)).toBeUndefined();
    await client.resource("pods", "default").create(pod("second"));
    expect((await running(client, "second")).spec?.nodeName).toBe(node);
    expect((await client.resource<PodLike>("pods", "default").get("first")).status?.phase).toBe("Running");
    expect(log("agent")).toContain(`joined as node ${node}`);
  });
});

describe("two servers on one etcd", () => {
  let etcd: TestEtcd;
  beforeAll(async () => {
    etcd = await startEtcd();
  });
  afterAll(async () => {
    await etcd?.stop();
  });

  test("they share the CA, and the agent fails over to the other when one dies", async () => {
    const store = ["--store", `etcd://${etcd.endpoint.replace("http://", "")}`, "--etcd-prefix", "/agent"];
    const a = await server("etcd-a", store);
    const b = await server("etcd-b", store);
    expect(readFileSync(join(b.dataDir, "pki", "ca.crt"), "utf8")).toBe(a.ca);
    const created = await kube(["token", "create", "--kubeconfig", join(a.dataDir, "kubeconfig")]);
    expect(created.code).toBe(0);
    const node = `agent-etcd-${process.pid}`;
    agent("etcd-agent", [a.url, b.url], created.out, node);
    const viaB = clientOf(b);
    await nodeReady(viaB, node);
    await viaB.resource("pods", "default").create(pod("before", node));
    await running(viaB, "before");
    const killed = Date.now();
    process.kill(a.pid, "SIGKILL");
    await a.exited;
    await waitFor("the node's lease renewed through b", async () => (await renewTime(viaB, node)) > killed, 30_000);
    await viaB.resource("pods", "default").create(pod("after", node));
    await running(viaB, "after");
    expect((await viaB.resource<PodLike>("pods", "default").get("before")).status?.phase).toBe("Running");
  }, 150_000);
});
