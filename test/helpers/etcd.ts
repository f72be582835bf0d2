// A real etcd (Debian's etcd-server) for a test file: one member on 127.0.0.1 with free ports
// and a temp data dir, started by the test and killed at its end.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "./wait.ts";

export interface TestEtcd {
  endpoint: string;
  stop(): Promise<void>;
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

export async function startEtcd(): Promise<TestEtcd> {
  // On tmpfs when there is one: etcd fsyncs every write, which a test need not pay for.
  const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "kube-etcd-"));
  const [client, peer] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  const proc = Bun.spawn(
    [
      "etcd",
      "--name=test",
      `--data-dir=${join(dir, "data")}`,
      `--listen-client-urls=${endpoint}`,
      `--advertise-client-urls=${endpoint}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=test=${peerUrl}`,
      "--log-level=error",
    ],
    { stdout: "ignore", stderr: "pipe" },
  );
  await waitFor(
    "etcd to answer /health",
    async () => {
      if (proc.exitCode !== null) throw new Error(`etcd exited: ${await new Response(proc.stderr).text()}`);
      const res = await fetch(`${endpoint}/health`).catch(() => undefined);
      return res?.ok && ((await res.json()) as { health?: string }).health === "true";
    },
    20_000,
  );
  return {
    endpoint,
    async stop() {
      proc.kill("SIGKILL");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
