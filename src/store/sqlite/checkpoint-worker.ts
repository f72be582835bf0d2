// The WAL checkpointer's thread (checkpointer.ts starts it): a second connection to the store's
// file that copies committed WAL frames into the database when asked. A checkpoint syncs the WAL
// and the database file (fsync), tens of ms each on this machine's disk, so the store's writes stop
// running it themselves (wal_autocheckpoint) and the thread that serves requests never waits on it.
//
// It also starts the WAL over once every frame is copied. SQLite does that in the first write
// transaction that begins with the whole WAL copied, and that write then syncs the new WAL header
// and cuts the file back to journal_size_limit: done by the store's writer, that stopped the event
// loop for 1-65 ms each time (strace, bench scheduler). Here it is a one-row write of this
// connection's own, made while the store's writer keeps out (the shared write lock in checkpointer.ts).
import { Database, type Statement } from "bun:sqlite";
import { type FromCheckpointer, type ToCheckpointer, WriteLock } from "./checkpointer.ts";
import { WAL_SIZE_LIMIT } from "./schema.ts";

declare const self: Worker;
const post = (m: FromCheckpointer) => self.postMessage(m);
let db: Database | undefined;
let passive: Statement | undefined;
let restart: Statement | undefined;
let lock: Int32Array | undefined;

type Pass = { busy: number; log: number; checkpointed: number };

/**
 * PASSIVE checkpoints until a pass finds the WAL as the last one left it. The writer goes on
 * meanwhile, so a pass copies only the frames there when it began.
 */
function catchUp(st: Statement): void {
  let last = -1;
  for (let pass = 0; pass < 16; pass++) {
    const r = st.get() as Pass | undefined;
    if (!r || r.busy !== 0 || r.log === last) return;
    last = r.log;
  }
}

/**
 * Takes the write lock from the store's writer, whose transactions are synchronous and short. After
 * ~1 s without it the cycle ends without a restart: the next one tries again, and meanwhile the
 * writer's first write that finds every frame copied starts the WAL over, as SQLite does.
 */
function acquire(l: Int32Array): boolean {
  for (let i = 0; i < 200; i++) {
    const was = Atomics.compareExchange(l, 0, WriteLock.free, WriteLock.checkpointer);
    if (was === WriteLock.free) return true;
    Atomics.wait(l, 0, was, 5);
  }
  return false;
}

/** Copies the WAL, then starts it over with the store's writer kept out. */
function cycle(): void {
  catchUp(passive!);
  if (!lock || !restart || !acquire(lock)) return;
  try {
    // What the writer committed since the last pass (usually a few frames), then the restart.
    const r = passive!.get() as Pass | undefined;
    if (r && r.busy === 0 && r.log > 0 && r.checkpointed === r.log) restart.run();
  } finally {
    Atomics.store(lock, 0, WriteLock.free);
  }
}

self.onmessage = (e: MessageEvent<ToCheckpointer>) => {
  const m = e.data;
  switch (m.t) {
    case "open":
      try {
        db = new Database(m.path, { strict: true });
        db.exec(
          `PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = ${WAL_SIZE_LIMIT}`,
        );
        passive = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
        lock = new Int32Array(m.lock);
        try {
          restart = db.prepare(
            "INSERT INTO meta(name, value) VALUES ('wal_restarts', 1) ON CONFLICT(name) DO UPDATE SET value = value + 1",
          );
        } catch {
          // A file without the store's schema: the writer starts the WAL over itself, as SQLite does.
        }
        post({ t: "ready" });
      } catch (err) {
        post({ t: "failed", error: (err as Error).message });
      }
      return;
    case "checkpoint":
      try {
        if (passive) cycle();
      } catch {}
      post({ t: "done" });
      return;
    case "stop":
      // Its statements first: a connection closed with one still open lingers, and keeps its locks.
      try {
        passive?.finalize();
        restart?.finalize();
        db?.close(true);
      } catch {}
      passive = undefined;
      restart = undefined;
      db = undefined;
      post({ t: "stopped" });
      return;
  }
};
post({ t: "loaded" });
