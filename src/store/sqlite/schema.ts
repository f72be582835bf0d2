// Two tables written in one transaction: `kv` holds the current objects (lists and gets read
// it), `log` holds every change (watches read it); the log's autoincrement id is the revision.
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS kv (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  create_rev INTEGER NOT NULL,
  mod_rev INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL,
  type INTEGER NOT NULL,
  value TEXT NOT NULL,
  create_rev INTEGER NOT NULL,
  prev_value TEXT,
  prev_mod_rev INTEGER
);
CREATE TABLE IF NOT EXISTS meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
INSERT OR IGNORE INTO meta(name, value) VALUES ('compacted', 0);
`;

/**
 * The data dir's layout version, kept in meta.schema_version. A newer kube migrates an older
 * dir on open; an older kube refuses a newer dir rather than misreading it.
 * 1: kv, log, meta. 2: kv_keys, a key-only index so counting a range does not read values.
 */
export const SCHEMA_VERSION = 2;

export const MIGRATIONS: Record<number, string> = {
  2: "CREATE INDEX IF NOT EXISTS kv_keys ON kv(key);",
};

// page_size and auto_vacuum first: they only take on a file with no page written yet, and switching
// to WAL writes one. 16 KiB pages: a pod (1.5-2 KB of JSON) in kv's WITHOUT ROWID leaves took two to a
// 4 KiB page, so a batch of creates dirtied a page per pod and checkpoints copied most of them again;
// with 16 KiB pages SQLite's CPU for 10k pods (create, bind, Event) fell from ~1.2 s to ~0.5 s.
// Scattered small updates (leases) cost ~5% more. An existing data dir keeps its page size (WAL mode
// cannot change it).
// journal_size_limit: the writer cuts the WAL file back to this when it starts it over (every frame
// checkpointed), so a burst (a compaction) does not leave a file of its size behind; no checkpoint
// has to hold the write lock to truncate it.
/** Bytes of WAL file kept when the log starts over: about one checkpoint's worth (1,000 pages is 16 MiB). */
export const WAL_SIZE_LIMIT = 16 * 1024 * 1024;
export const PRAGMAS = `
PRAGMA page_size = 16384;
PRAGMA auto_vacuum = INCREMENTAL;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA busy_timeout = 5000;
PRAGMA journal_size_limit = ${WAL_SIZE_LIMIT};
`;

/** A dir made before auto_vacuum took is rebuilt once (VACUUM) when it is at most this big; a bigger one
 * keeps reusing its free pages, as before, rather than stall a start for seconds. */
export const VACUUM_ON_OPEN_MAX_BYTES = 64 * 1024 * 1024;

/** Event types as stored in log.type. */
export const TYPE_CODE = { create: 0, update: 1, delete: 2 } as const;
export const CODE_TYPE = ["create", "update", "delete"] as const;
