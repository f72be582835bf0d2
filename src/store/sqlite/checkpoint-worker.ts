// The WAL checkpointer's thread (checkpointer.ts starts it): a second connection to the store's
// file that copies committed WAL frames into the database when asked. A checkpoint syncs the WAL
// and the database file (fsync), tens of ms each on this machine's disk, so the store's writes stop
// running it themselves (wal_autocheckpoint) and the thread that serves requests never waits on it.
import { Database, type Statement } from "bun:sqlite";
import type { ToCheckpointer, FromCheckpointer } from "./checkpointer.ts";

declare const self: Worker;
const post = (m: FromCheckpointer) => self.postMessage(m);
let db: Database | undefined;
let passive: Statement | undefined;

/**
 * PASSIVE checkpoints until a pass finds the WAL as the last one left it. The writer goes on
 * meanwhile, so a pass copies only the frames there when it began; the WAL starts again from its
 * beginning (and stops growing) only when the writer finds every frame copied, as it always did
 * after SQLite's own checkpoint in the commit.
 */
function catchUp(st: Statement): number {
  let last = -1;
  for (let pass = 0; pass < 16; pass++) {
    const r = st.get() as { busy: number; log: number; checkpointed: number } | undefined;
    if (!r || r.busy !== 0 || r.log === last) return Math.max(0, r?.log ?? 0);
    last = r.log;
  }
  return last;
}

self.onmessage = (e: MessageEvent<ToCheckpointer>) => {
  const m = e.data;
  switch (m.t) {
    case "open":
      try {
        db = new Database(m.path, { strict: true });
        db.exec("PRAGMA busy_timeout = 5000");
        passive = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
        post({ t: "ready" });
      } catch (err) {
        post({ t: "failed", error: (err as Error).message });
      }
      return;
    case "checkpoint": {
      let frames = 0;
      try {
        if (passive) frames = catchUp(passive);
      } catch {}
      post({ t: "done", frames });
      return;
    }
    case "stop":
      // Its statement first: a connection closed with one still open lingers, and keeps its locks.
      try {
        passive?.finalize();
        db?.close(true);
      } catch {}
      passive = undefined;
      db = undefined;
      post({ t: "stopped" });
      return;
  }
};
post({ t: "loaded" });
