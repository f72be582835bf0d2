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

// auto_vacuum first: it only takes on a file with no page written yet, and switching to WAL writes one.
export const PRAGMAS = `
PRAGMA auto_vacuum = INCREMENTAL;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA busy_timeout = 5000;
`;

/** A dir made before auto_vacuum took is rebuilt once (VACUUM) when it is at most this big; a bigger one
 * keeps reusing its free pages, as before, rather than stall a start for seconds. */
export const VACUUM_ON_OPEN_MAX_BYTES = 64 * 1024 * 1024;

/** Event types as stored in log.type. */
export const TYPE_CODE = { create: 0, update: 1, delete: 2 } as const;
export const CODE_TYPE = ["create", "update", "delete"] as const;
