// One process owns a data dir: a lock file holding the owner's pid. A second live process is
// refused with a message naming the holder; a lock left by a dead process is taken over.
import { closeSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { processAlive } from "../util/process.ts";
import { LockedError } from "./types.ts";

export function acquireLock(dataDir: string): () => void {
  const path = join(dataDir, "lock");
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, "utf8").trim() === String(process.pid)) unlinkSync(path);
        } catch {}
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = Number(readFileSync(path, "utf8").trim());
      if (holder && holder !== process.pid && processAlive(holder))
        throw new LockedError(`data dir ${dataDir} is in use by another kube process (pid ${holder})`);
      // Stale: the holder is gone. Remove and retry (another starter may race us; the wx open decides).
      try {
        unlinkSync(path);
      } catch {}
    }
  }
  writeFileSync(path, String(process.pid));
  return () => {};
}
