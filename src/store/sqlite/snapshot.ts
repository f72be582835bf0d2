// Snapshots of a data dir's store, like k3s's etcd snapshots: `VACUUM INTO` from a read-only
// connection is one read transaction, so a snapshot taken while kube serves is consistent (WAL
// readers see one commit) and never blocks the writer. Restore puts a snapshot back as kube.db
// of a stopped cluster's data dir.
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { processAlive } from "../../util/process.ts";
import { openDatabase } from "./driver.ts";
import { SCHEMA_VERSION } from "./schema.ts";

export class SnapshotError extends Error {}

const DB = "kube.db";

/** The pid of a live `kube up` holding the data dir, if any. */
export function lockHolder(dataDir: string): number | undefined {
  const lock = join(dataDir, "lock");
  if (!existsSync(lock)) return undefined;
  const pid = Number(readFileSync(lock, "utf8").trim());
  return pid && processAlive(pid) ? pid : undefined;
}

/**
 * Writes a consistent copy of the data dir's store to `file` (mode 0600); safe while kube runs.
 * `beforeRename` runs once the copy is whole and checked, just before it appears under its name.
 */
export async function saveSnapshot(
  dataDir: string,
  file: string,
  beforeRename?: () => void,
): Promise<{ bytes: number; revision: number }> {
  const source = join(dataDir, DB);
  if (!existsSync(source)) throw new SnapshotError(`no cluster in ${dataDir} (no ${DB})`);
  if (existsSync(file)) throw new SnapshotError(`${file} already exists`);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // Written beside the target and renamed, so a failed snapshot never leaves a half file.
  const partial = join(dirname(file), `.${basename(file)}.partial`);
  rmSync(partial, { force: true });
  // Read-only: the copy must never hold a lock that could make the server's writes wait.
  const db = await openDatabase(source, { readonly: true });
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    db.prepare("VACUUM INTO ?").run(partial);
  } finally {
    db.close();
  }
  chmodSync(partial, 0o600);
  const revision = await snapshotRevision(partial);
  beforeRename?.();
  renameSync(partial, file);
  return { bytes: statSync(file).size, revision };
}

/** Checks that `file` is a kube snapshot this kube can read, and returns its revision. */
async function snapshotRevision(file: string): Promise<number> {
  let db;
  try {
    db = await openDatabase(file, { readonly: true });
    const version = Number(db.prepare("SELECT value FROM meta WHERE name = 'schema_version'").get()?.value ?? 1);
    if (version > SCHEMA_VERSION)
      throw new SnapshotError(
        `${file} was written by a newer kube (data format ${version}); this kube reads up to format ${SCHEMA_VERSION}`,
      );
    db.prepare("SELECT 1 FROM kv LIMIT 1").get();
    return Number(db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'log'").get()?.seq ?? 0);
  } catch (err) {
    if (err instanceof SnapshotError) throw err;
    throw new SnapshotError(`${file} is not a kube snapshot (${(err as Error).message})`);
  } finally {
    db?.close();
  }
}

/** Replaces a stopped cluster's store with a snapshot; the replaced store is kept as kube.db.before-restore. */
export async function restoreSnapshot(file: string, dataDir: string): Promise<{ revision: number }> {
  if (!existsSync(file)) throw new SnapshotError(`${file} does not exist`);
  const holder = lockHolder(dataDir);
  if (holder)
    throw new SnapshotError(
      `data dir ${dataDir} is in use by a running kube (pid ${holder}); stop it first (kube down)`,
    );
  const revision = await snapshotRevision(file);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const target = join(dataDir, DB);
  const staged = join(dataDir, `.${DB}.restoring`);
  copyFileSync(file, staged);
  chmodSync(staged, 0o600);
  if (existsSync(target)) renameSync(target, `${target}.before-restore`);
  for (const side of ["-wal", "-shm"]) rmSync(`${target}${side}`, { force: true });
  renameSync(staged, target);
  return { revision };
}

/** Snapshots named by time in `dir`, newest first. */
export function listSnapshots(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^kube-snapshot-\d{8}T\d{6}(-\d+)?Z\.db$/.test(f))
    .sort()
    .reverse()
    .map((f) => join(dir, f));
}

/**
 * Takes a snapshot into `dir` named by the time and keeps only the newest `retain`: the oldest go
 * once the new one is whole and before it is renamed into place, so the dir never holds more than
 * `retain` snapshots and a failed snapshot removes nothing.
 */
export async function scheduledSnapshot(
  dataDir: string,
  dir: string,
  retain: number,
  at = new Date(),
): Promise<string> {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}Z$/, "Z");
  let file = join(dir, `kube-snapshot-${stamp}.db`);
  for (let i = 1; existsSync(file); i++) file = join(dir, `kube-snapshot-${stamp.slice(0, -1)}-${i}Z.db`);
  await saveSnapshot(dataDir, file, () => {
    for (const old of listSnapshots(dir).slice(retain - 1)) rmSync(old, { force: true });
  });
  return file;
}
