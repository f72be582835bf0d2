// `kube down`: stops a running `kube up` on the data dir (SIGTERM to the lock holder) and
// removes the cluster's containers; --purge also deletes the data dir.
import type { CAC } from "cac";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { holdsCluster, recordedEtcd, storedNodeNames } from "../components/apiserver/data-dir.ts";
import { connectEngine, LABELS } from "../components/kubelet/runtime/index.ts";
import { action, CliError } from "./fail.ts";
import { defaultDataDir } from "./paths.ts";

interface DownOptions {
  dataDir?: string;
  containerSocket?: string;
  purge?: boolean;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function registerDown(cli: CAC): void {
  cli
    .command("down", "Stop the cluster of a data dir and remove its containers")
    .option("--data-dir <dir>", "The cluster's data dir", { default: defaultDataDir() })
    .option("--container-socket <path>", "Docker Engine API socket (Podman or Docker)")
    .option("--purge", "Also delete the data dir (all objects, the token and the CA)")
    .action(
      action(async (opts: DownOptions) => {
        const dir = opts.dataDir ?? defaultDataDir();
        if (!holdsCluster(dir)) throw new CliError(`no cluster in ${dir}`);
        const lock = join(dir, "lock");
        const pid = existsSync(lock) ? Number(readFileSync(lock, "utf8").trim()) : 0;
        if (pid && alive(pid)) {
          process.kill(pid, "SIGTERM");
          const deadline = Date.now() + 30_000;
          while (alive(pid)) {
            if (Date.now() > deadline) throw new CliError(`kube up (pid ${pid}) did not stop within 30 s`);
            await Bun.sleep(50);
          }
          console.log(`stopped kube up (pid ${pid})`);
        }
        // The node names this cluster's kubelet used are in the store (on etcd: while etcd answers).
        const etcd = recordedEtcd(dir);
        const nodes = await storedNodeNames(dir).catch((err: Error) => {
          if (!etcd) throw err;
          console.error(
            `note: containers not removed: etcd ${etcd.endpoints.join(",")}: ${err.message.split("\n")[0]}`,
          );
          return [];
        });
        let removed = 0;
        try {
          const engine = await connectEngine({ flag: opts.containerSocket, env: process.env });
          for (const node of nodes) {
            const containers = await engine.listContainers({ [LABELS.node]: node });
            for (const c of containers.filter((c) => c.labels[LABELS.kind] !== "infra"))
              await engine.removeContainer(c.id).catch(() => {});
            for (const c of containers.filter((c) => c.labels[LABELS.kind] === "infra"))
              await engine.removeContainer(c.id).catch(() => {});
            removed += containers.length;
          }
        } catch (err) {
          if (nodes.length && !/sim/.test(String(err)))
            console.error(`note: containers not removed: ${(err as Error).message.split("\n")[0]}`);
        }
        console.log(`removed ${removed} containers`);
        if (opts.purge) {
          rmSync(dir, { recursive: true, force: true });
          // The objects are etcd's: other servers of the cluster may still use them.
          console.log(
            etcd ? `deleted ${dir} (the cluster's objects stay in etcd ${etcd.endpoints.join(",")})` : `deleted ${dir}`,
          );
        }
      }),
    );
}
