// `kube snapshot save FILE` (online: a consistent copy while the cluster serves), `kube snapshot
// restore FILE` (into a stopped cluster's data dir) and `kube snapshot ls`; `kube up
// --snapshot-interval` takes them on a schedule in a child process, so the server never stalls.
import type { CAC } from "cac";
import { join } from "node:path";
import {
  listSnapshots,
  restoreSnapshot,
  saveSnapshot,
  scheduledSnapshot,
  SnapshotError,
} from "../components/apiserver/snapshot.ts";
import { recordedEtcd } from "../components/apiserver/data-dir.ts";
import { action, CliError } from "./fail.ts";
import { defaultDataDir } from "./paths.ts";

interface SnapshotOptions {
  dataDir?: string;
  dir?: string;
  retain?: string | number;
}

const wrap = async <T>(fn: () => Promise<T>): Promise<T> => {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SnapshotError) throw new CliError(err.message);
    throw err;
  }
};

export const snapshotDir = (dataDir: string) => join(dataDir, "snapshots");

export function registerSnapshot(cli: CAC): void {
  cli
    .command("snapshot <action> [file]", "Snapshots of the cluster's store: save FILE, restore FILE, ls")
    .option("--data-dir <dir>", "The cluster's data dir", { default: defaultDataDir() })
    .option("--dir <dir>", "With save and no FILE: where scheduled snapshots go (default DATA/snapshots)")
    .option("--retain <n>", "With save and no FILE: how many snapshots to keep in --dir")
    .example("kube snapshot save /tmp/kube.db")
    .example("kube snapshot restore /tmp/kube.db --data-dir ~/.local/share/kube")
    .action(
      action(async (what: string, file: string | undefined, opts: SnapshotOptions) => {
        const dataDir = opts.dataDir ?? defaultDataDir();
        const etcd = (what === "save" || what === "restore") && recordedEtcd(dataDir);
        // etcd has its own snapshots (and restoring one rebuilds the members' data dirs): kube does not copy them.
        if (etcd) {
          const members = etcd.endpoints.join(",");
          const own =
            what === "save"
              ? `etcdctl --endpoints ${members} snapshot save FILE`
              : "etcdctl snapshot restore FILE --data-dir MEMBER_DIR, for each member of the stopped etcd";
          throw new CliError(
            `the cluster of ${dataDir} keeps its objects in etcd (${members}): kube snapshot copies only the SQLite store; use etcd's own snapshots: ${own}`,
          );
        }
        if (what === "save") {
          if (file) {
            const r = await wrap(() => saveSnapshot(dataDir, file));
            console.log(`snapshot ${file} saved (revision ${r.revision}, ${r.bytes} bytes)`);
            return;
          }
          const retain = Number(opts.retain ?? 5);
          if (!Number.isInteger(retain) || retain < 1)
            throw new CliError(`--retain must be a whole number of at least 1, got "${opts.retain}"`);
          console.log(
            `snapshot ${await wrap(() => scheduledSnapshot(dataDir, opts.dir ?? snapshotDir(dataDir), retain))} saved`,
          );
        } else if (what === "restore") {
          if (!file) throw new CliError("kube snapshot restore needs the snapshot file");
          const r = await wrap(() => restoreSnapshot(file, dataDir));
          console.log(
            `restored ${file} into ${dataDir} (revision ${r.revision}); start it with kube up --data-dir ${dataDir}`,
          );
        } else if (what === "ls") {
          for (const f of listSnapshots(opts.dir ?? snapshotDir(dataDir))) console.log(f);
        } else throw new CliError(`unknown snapshot action "${what}": use save, restore or ls`);
      }),
    );
}

/** This binary, as a command line that runs `kube ARGS` (compiled, or bun with the script). */
export function selfCommand(args: string[]): string[] {
  const script = process.argv[1];
  const compiled = !script || script.startsWith("/$bunfs/") || script === process.execPath;
  return compiled ? [process.execPath, ...args] : [process.execPath, script, ...args];
}

/** Runs `kube snapshot save` every intervalMs in a child process; returns a stop function. */
export function scheduleSnapshots(
  dataDir: string,
  intervalMs: number,
  retain: number,
  log: (m: string) => void,
): () => void {
  let running = false;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      const child = Bun.spawn(selfCommand(["snapshot", "save", "--data-dir", dataDir, "--retain", String(retain)]), {
        stdout: "pipe",
        stderr: "pipe",
      });
      const [out, err, code] = await Promise.all([
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
        child.exited,
      ]);
      log(code === 0 ? out.trim() : `snapshot failed: ${err.trim()}`);
    } finally {
      running = false;
    }
  }, intervalMs);
  return () => clearInterval(timer);
}
