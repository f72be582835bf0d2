// A real etcd (Debian's etcd-server) for a test file: one member, or a cluster of several, on
// 127.0.0.1 with free ports and temp data dirs, started by the test and killed at its end.
// Members of a cluster can be killed and started again on the same data dir and ports.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { waitFor } from "./wait.ts";

export interface TestEtcd {
  /** The first member's client URL. */
  endpoint: string;
  stop(): Promise<void>;
}

export interface EtcdMember {
  name: string;
  endpoint: string;
  /** SIGKILL, as a crashed machine. */
  kill(): Promise<void>;
  /** Starts it again on its data dir; resolves when it serves /health (which needs a quorum). */
  start(): Promise<void>;
}

export interface TestEtcdCluster extends TestEtcd {
  members: EtcdMember[];
  /** All members' client URLs, comma-separated without scheme: the form `--store etcd://` takes. */
  storeUrl: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** PEM files for a member serving https that asks its clients for a certificate signed by `ca`. */
export interface EtcdTls {
  ca: string;
  cert: string;
  key: string;
  /** A client certificate and key (signed by `ca`) for the helper's own /health probes. */
  clientCert: string;
  clientKey: string;
}

async function healthy(
  endpoint: string,
  proc: Subprocess<"ignore", "ignore", "pipe">,
  tls?: EtcdTls,
): Promise<boolean> {
  if (proc.exitCode !== null) throw new Error(`etcd exited: ${await new Response(proc.stderr).text()}`);
  const init = tls
    ? ({
        tls: { ca: readFileSync(tls.ca), cert: readFileSync(tls.clientCert), key: readFileSync(tls.clientKey) },
      } as RequestInit)
    : {};
  const res = await fetch(`${endpoint}/health`, init).catch(() => undefined);
  return !!res?.ok && ((await res.json()) as { health?: string }).health === "true";
}

/** A host for a member: its address and the command prefix that runs a process there (test/helpers/netns.ts). */
export interface EtcdHost {
  ip: string;
  prefix: string[];
}

/**
 * `hosts`: one per member, each member then runs in its host (a network namespace) on the host's
 * address with etcd's own ports (2379, 2380); else all run on 127.0.0.1 with free ports.
 * `tls`: client URLs are https with client-certificate auth (peers stay plain http).
 */
export async function startEtcdCluster(size: number, hosts?: EtcdHost[], tls?: EtcdTls): Promise<TestEtcdCluster> {
  const scheme = tls ? "https" : "http";
  // On tmpfs when there is one: etcd fsyncs every write, which a test need not pay for.
  const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "kube-etcd-"));
  const specs: { name: string; endpoint: string; peerUrl: string; prefix: string[] }[] = [];
  for (let i = 0; i < size; i++) {
    const host = hosts?.[i];
    const [ip, client, peer] = host ? [host.ip, 2379, 2380] : ["127.0.0.1", await freePort(), await freePort()];
    specs.push({
      name: `m${i}`,
      endpoint: `${scheme}://${ip}:${client}`,
      peerUrl: `http://${ip}:${peer}`,
      prefix: host?.prefix ?? [],
    });
  }
  const initialCluster = specs.map((s) => `${s.name}=${s.peerUrl}`).join(",");
  const procs = new Map<string, Subprocess<"ignore", "ignore", "pipe">>();
  const spawn = (s: (typeof specs)[number]) => {
    const proc = Bun.spawn(
      [
        ...s.prefix,
        "etcd",
        `--name=${s.name}`,
        `--data-dir=${join(dir, s.name)}`,
        `--listen-client-urls=${s.endpoint}`,
        `--advertise-client-urls=${s.endpoint}`,
        `--listen-peer-urls=${s.peerUrl}`,
        `--initial-advertise-peer-urls=${s.peerUrl}`,
        `--initial-cluster=${initialCluster}`,
        "--log-level=error",
        ...(tls
          ? [`--cert-file=${tls.cert}`, `--key-file=${tls.key}`, `--trusted-ca-file=${tls.ca}`, "--client-cert-auth"]
          : []),
      ],
      { stdout: "ignore", stderr: "pipe" },
    );
    procs.set(s.name, proc);
    return proc;
  };
  const members: EtcdMember[] = specs.map((s) => ({
    name: s.name,
    endpoint: s.endpoint,
    async kill() {
      const proc = procs.get(s.name);
      proc?.kill("SIGKILL");
      await proc?.exited;
      procs.delete(s.name);
    },
    async start() {
      const proc = spawn(s);
      await waitFor(`etcd ${s.name} to answer /health`, () => healthy(s.endpoint, proc, tls), 20_000);
    },
  }));
  // Members of a new cluster wait for each other: start all, then wait for each.
  for (const s of specs) spawn(s);
  for (const s of specs) {
    const proc = procs.get(s.name)!;
    await waitFor(`etcd ${s.name} to answer /health`, () => healthy(s.endpoint, proc, tls), 20_000);
  }
  return {
    endpoint: specs[0]!.endpoint,
    members,
    storeUrl: specs.map((s) => s.endpoint.replace(`${scheme}://`, "")).join(","),
    async stop() {
      for (const m of members) await m.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const startEtcd = (tls?: EtcdTls): Promise<TestEtcdCluster> => startEtcdCluster(1, undefined, tls);
