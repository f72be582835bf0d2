// The SQLite Store: current state in `kv`, every change in `log`, both in one transaction.
// This process is the only writer (the data dir lock), so the next revision is known in
// memory and a commit can wake watchers synchronously, right after it lands.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { KeyValue, ListOptions, ListResult, Store, WatchEvent, WatchOptions, Watcher } from "../types.ts";
import { CompactedError, ConflictError, KeyExistsError, NotFoundError, StoreError } from "../types.ts";
import { openDatabase, type Database, type Statement } from "./driver.ts";
import { Hub, LiveWatcher, takeLive } from "../hub.ts";
import { ListCache } from "./list-cache.ts";
import { type Checkpointer, startCheckpointer } from "./checkpointer.ts";
import { acquireLock } from "../lock.ts";
import {
  CODE_TYPE,
  MIGRATIONS,
  PRAGMAS,
  SCHEMA,
  SCHEMA_VERSION,
  TYPE_CODE,
  VACUUM_ON_OPEN_MAX_BYTES,
} from "./schema.ts";

export interface SqliteStoreOptions {
  dataDir: string;
  /** Revisions of history kept for watches at least; older log rows are compacted away. Default 10000. */
  compactWindow?: number;
  /**
   * History kept by time as well: no revision written in the last historyMs is compacted (default 5
   * minutes, as kube-apiserver compacts etcd every 5 minutes). A watch that ends (its timeout, or
   * lagging) resumes from its last revision; at hundreds of writes a second, 10,000 revisions were
   * 15-30 s, so resumes met 410 Expired and relisted 100k pods. 0: the revision window alone.
   */
  historyMs?: number;
  /** The clock compaction reads (tests move it); Date.now by default. */
  now?: () => number;
  /** How often compaction runs. Default 30 s. */
  compactIntervalMs?: number;
  /** Events a watcher may have unread before it is ended as lagged. Default 10000. */
  watchBuffer?: number;
}

type Row = Record<string, unknown>;
const toKv = (r: Row): KeyValue => ({
  key: r.key as string,
  value: r.value as string,
  createRevision: Number(r.create_rev),
  modRevision: Number(r.mod_rev),
});

/** The smallest string greater than every string starting with prefix. */
function prefixEnd(prefix: string): string {
  return prefix + "\u{10FFFF}";
}

/** At most this much value text is cached (characters), so 100k large objects do not all stay in memory. */
const CACHE_MAX_CHARS = 32 * 1024 * 1024;

/** Current values of keys read, evicted oldest-first beyond CACHE_MAX_CHARS. */
class ReadCache {
  private readonly map = new Map<string, KeyValue>();
  private chars = 0;
  /**
   * A live iterator over the keys, oldest first: each eviction goes on from where the last one
   * stopped. A fresh iteration per set stepped again over every entry deleted before it (a Map
   * keeps them until it rehashes): once full (about 20k pods), every cached write paid that walk.
   */
  private oldest: MapIterator<string> | undefined;

  get(key: string): KeyValue | undefined {
    return this.map.get(key);
  }

  set(kv: KeyValue): void {
    this.drop(kv.key);
    if (kv.value.length > CACHE_MAX_CHARS / 16) return;
    this.map.set(kv.key, kv);
    this.chars += kv.value.length;
    while (this.chars > CACHE_MAX_CHARS) {
      let next = this.oldest?.next();
      if (!next || next.done) {
        this.oldest = this.map.keys();
        next = this.oldest.next();
      }
      if (next.done) break;
      this.drop(next.value);
    }
  }

  /**
   * A committed change: its new value replaces a cached one, a delete removes it. A key not cached
   * stays out until it is read: caching every write filled the cache with events no one reads
   * (tens of MB under churn, each string living until evicted).
   */
  committed(ev: WatchEvent, readSoon = false): void {
    if (ev.type === "delete") this.drop(ev.kv.key);
    else if (readSoon || this.map.has(ev.kv.key)) this.set(ev.kv);
  }

  get size(): number {
    return this.map.size;
  }

  private drop(key: string): void {
    const old = this.map.get(key);
    if (!old) return;
    this.chars -= old.value.length;
    this.map.delete(key);
  }
}

/** Value text written (characters) after which the checkpointer's thread is started. */
const CHECKPOINT_START_CHARS = 4 * 1024 * 1024;
/**
 * Value text written after which the running checkpointer is asked to copy the WAL and start it
 * over: a WAL of ~1,000 pages (SQLite's own checkpoint threshold). Each commit writes whole 16 KiB
 * pages, so the WAL grows far faster than the text: 4 MiB of it made WALs of ~10,000 pages
 * (bench scale at 1,000 nodes), whose checkpoints took ~600 ms.
 */
const CHECKPOINT_CHARS = 256 * 1024;
/**
 * Written while the checkpointer is still busy, after which commits wait for it: the WAL stays
 * bounded when the disk is slower than the writes (the writer waited then too, blocked in fsync;
 * now the event loop goes on with everything but writes).
 */
const CHECKPOINT_BEHIND_CHARS = 4 * 1024 * 1024;

/** Thrown when the data dir was written by a newer kube than this one. */
export class SchemaVersionError extends Error {}

/** Brings an older data dir up to SCHEMA_VERSION, one step per version, each in a transaction. */
function migrate(db: Database, dataDir: string): void {
  const row = db.prepare("SELECT value FROM meta WHERE name = 'schema_version'").get();
  const fresh = !db.prepare("SELECT 1 FROM log LIMIT 1").get() && !db.prepare("SELECT 1 FROM kv LIMIT 1").get();
  let version = row ? Number(row.value) : fresh ? 0 : 1;
  if (version > SCHEMA_VERSION)
    throw new SchemaVersionError(
      `data dir ${dataDir} was written by a newer kube (data format ${version}); this kube reads up to format ${SCHEMA_VERSION}: upgrade kube`,
    );
  while (version < SCHEMA_VERSION) {
    version++;
    const next = version;
    db.transaction(() => {
      const sql = MIGRATIONS[next];
      if (sql) db.exec(sql);
      db.prepare(
        "INSERT INTO meta(name, value) VALUES ('schema_version', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
      ).run(next);
    })();
  }
}

/** A dir made before auto_vacuum took effect (it was set after the tables) is rebuilt once, if small. */
function enableIncrementalVacuum(db: Database): void {
  const mode = (db.prepare("PRAGMA auto_vacuum").get() as { auto_vacuum: number }).auto_vacuum;
  if (mode === 2) return;
  const { page_count } = db.prepare("PRAGMA page_count").get() as { page_count: number };
  const { page_size } = db.prepare("PRAGMA page_size").get() as { page_size: number };
  if (page_count * page_size > VACUUM_ON_OPEN_MAX_BYTES) return;
  db.exec("PRAGMA auto_vacuum = INCREMENTAL");
  db.exec("VACUUM");
}

export class SqliteStore implements Store {
  private rev = 0;
  private compacted = 0;
  private readonly hub = new Hub();
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;
  private st!: Record<string, Statement>;
  /**
   * Recently read keys' current values. A GET by key would otherwise be a SQLite read (two fcntl
   * locks of the WAL index, ~30 us here): the cache answers it from memory. This process is the
   * only writer, so the cache changes only where a committed transaction does (flush).
   */
  private readonly cache = new ReadCache();
  /** Small whole-prefix lists (admission's per-create lists), exact until a write under their kind. */
  private readonly lists = new ListCache();
  /** Keys written by the transaction being built: the read cache does not know their new values yet. */
  private readonly batchKeys = new Set<string>();

  /** How many keys the read cache holds (tests and diagnostics). */
  get cachedKeys(): number {
    return this.cache.size;
  }

  private constructor(
    private readonly db: Database,
    private readonly releaseLock: () => void,
    private readonly opts: Required<Omit<SqliteStoreOptions, "dataDir">>,
  ) {}

  /** (time, revision) noted at most once a second as writes commit: which revisions are older than historyMs. */
  private marks: { at: number; rev: number }[] = [];

  private mark(): void {
    const at = this.opts.now();
    const last = this.marks[this.marks.length - 1];
    if (last && at - last.at < 1000) return;
    this.marks.push({ at, rev: this.rev });
    // Only the newest mark older than historyMs is needed (it bounds compaction); older ones go.
    let old = 0;
    while (old + 1 < this.marks.length && at - this.marks[old + 1]!.at >= this.opts.historyMs) old++;
    if (old) this.marks.splice(0, old);
  }

  /** The newest revision compaction may remove up to: outside both the revision window and historyMs. */
  private compactTarget(): number {
    const byWindow = this.rev - this.opts.compactWindow;
    if (!this.opts.historyMs) return byWindow;
    const oldest = this.marks[0];
    // Revisions up to a mark older than historyMs were all written before it.
    const byTime = oldest && this.opts.now() - oldest.at >= this.opts.historyMs ? oldest.rev : 0;
    return Math.min(byWindow, byTime);
  }

  static async open(options: SqliteStoreOptions): Promise<SqliteStore> {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    const release = acquireLock(options.dataDir);
    let db: Database | undefined;
    const path = join(options.dataDir, "kube.db");
    try {
      db = await openDatabase(path);
      db.exec(PRAGMAS);
      db.exec(SCHEMA);
      migrate(db, options.dataDir);
      enableIncrementalVacuum(db);
    } catch (err) {
      db?.close();
      release();
      throw err;
    }
    const store = new SqliteStore(db, release, {
      compactWindow: options.compactWindow ?? 10_000,
      historyMs: options.historyMs ?? 300_000,
      now: options.now ?? Date.now,
      compactIntervalMs: options.compactIntervalMs ?? 30_000,
      watchBuffer: options.watchBuffer ?? 10_000,
    });
    store.path = path;
    store.mark();
    store.prepare();
    store.timer = setInterval(() => store.autoCompact(), store.opts.compactIntervalMs);
    (store.timer as { unref?: () => void }).unref?.();
    // A log left long by a crash is trimmed soon after start, not a whole interval later.
    const first = setTimeout(() => store.autoCompact(), Math.min(2000, store.opts.compactIntervalMs));
    (first as { unref?: () => void }).unref?.();
    return store;
  }

  private prepare(): void {
    const p = (sql: string) => this.db.prepare(sql);
    this.st = {
      get: p("SELECT key, value, create_rev, mod_rev FROM kv WHERE key = ?"),
      insertKv: p("INSERT INTO kv(key, value, create_rev, mod_rev) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO NOTHING"),
      updateKv: p("UPDATE kv SET value = ?, mod_rev = ? WHERE key = ?"),
      deleteKv: p("DELETE FROM kv WHERE key = ?"),
      insertLog: p(
        "INSERT INTO log(id, key, type, value, create_rev, prev_value, prev_mod_rev) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ),
      listFrom: p("SELECT key, value, create_rev, mod_rev FROM kv WHERE key >= ? AND key < ? ORDER BY key LIMIT ?"),
      listAfter: p("SELECT key, value, create_rev, mod_rev FROM kv WHERE key > ? AND key < ? ORDER BY key LIMIT ?"),
      countAfter: p("SELECT COUNT(*) AS n FROM kv WHERE key > ? AND key < ?"),
      // Keys by suffix: the key-only index is scanned and only the rows that match are read, so a name
      // selector over 100k ConfigMaps does not read 100k values.
      listSuffixFrom: p(
        "SELECT key, value, create_rev, mod_rev FROM kv WHERE key IN (SELECT key FROM kv INDEXED BY kv_keys WHERE key >= ? AND key < ? AND substr(key, -?) = ? ORDER BY key LIMIT ?) ORDER BY key",
      ),
      listSuffixAfter: p(
        "SELECT key, value, create_rev, mod_rev FROM kv WHERE key IN (SELECT key FROM kv INDEXED BY kv_keys WHERE key > ? AND key < ? AND substr(key, -?) = ? ORDER BY key LIMIT ?) ORDER BY key",
      ),
      countSuffixAfter: p(
        "SELECT COUNT(*) AS n FROM kv INDEXED BY kv_keys WHERE key > ? AND key < ? AND substr(key, -?) = ?",
      ),
      logRange: p(
        "SELECT id, key, type, value, create_rev, prev_value, prev_mod_rev FROM log WHERE id > ? AND id <= ? ORDER BY id LIMIT ?",
      ),
      compactLog: p("DELETE FROM log WHERE id IN (SELECT id FROM log WHERE id <= ? ORDER BY id LIMIT ?)"),
      logValue: p("SELECT value FROM log WHERE id = ?"),
      setCompacted: p("UPDATE meta SET value = ? WHERE name = 'compacted'"),
    };
    // Every revision is a log id, and sqlite_sequence keeps the highest even after compaction;
    // scanning kv for MAX(mod_rev) (no index) is only for a file that lacks the sequence row.
    const seq = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'log'").get();
    this.rev = seq ? Number(seq.seq) : Number(this.db.prepare("SELECT MAX(mod_rev) AS m FROM kv").get()?.m ?? 0);
    this.compacted = Number(this.db.prepare("SELECT value FROM meta WHERE name = 'compacted'").get()?.value ?? 0);
  }

  async currentRevision(): Promise<number> {
    return this.rev;
  }

  async get(key: string): Promise<{ revision: number; kv: KeyValue | null }> {
    return this.getNow(key);
  }

  getNow(key: string): { revision: number; kv: KeyValue | null } {
    let kv = this.cache.get(key);
    if (!kv) {
      const r = this.st.get!.get(key);
      if (!r) return { revision: this.rev, kv: null };
      kv = toKv(r);
      this.cache.set(kv);
    }
    return { revision: this.rev, kv };
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const end = prefixEnd(prefix);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : -1;
    const after = opts.startAfter && opts.startAfter >= prefix ? opts.startAfter : undefined;
    const max = limit === -1 ? -1 : limit + 1;
    const suffix = opts.keySuffix;
    const whole = limit === -1 && !after && !suffix;
    const kept = whole ? this.lists.get(prefix) : undefined;
    if (kept)
      return { revision: this.rev, kvs: kept, more: false, remaining: opts.countRemaining !== false ? 0 : undefined };
    const rows = suffix
      ? after
        ? this.st.listSuffixAfter!.all(after, end, suffix.length, suffix, max)
        : this.st.listSuffixFrom!.all(prefix, end, suffix.length, suffix, max)
      : after
        ? this.st.listAfter!.all(after, end, max)
        : this.st.listFrom!.all(prefix, end, max);
    const more = limit !== -1 && rows.length > limit;
    const kvs = (more ? rows.slice(0, limit) : rows).map(toKv);
    if (whole) this.lists.set(prefix, kvs);
    const counted = opts.countRemaining !== false;
    const lastKey = kvs[kvs.length - 1]?.key;
    const remaining = !counted
      ? undefined
      : !more
        ? 0
        : suffix
          ? Number(this.st.countSuffixAfter!.get(lastKey!, end, suffix.length, suffix)?.n ?? 0)
          : Number(this.st.countAfter!.get(lastKey!, end)?.n ?? 0);
    return { revision: this.rev, kvs, more, remaining };
  }

  private commit(
    type: WatchEvent["type"],
    key: string,
    value: string,
    createRev: number,
    prev: KeyValue | undefined,
  ): WatchEvent {
    const rev = this.rev + 1;
    this.lists.written(key);
    this.batchKeys.add(key);
    // The previous value is not stored again: it is the log row at prev_mod_rev (or the live
    // prevKv handed to watchers in memory), which halves what an update writes.
    this.st.insertLog!.run(rev, key, TYPE_CODE[type], value, createRev || rev, null, prev?.modRevision ?? null);
    this.rev = rev;
    this.written += value.length;
    return {
      type,
      revision: rev,
      kv: { key, value, createRevision: createRev || rev, modRevision: rev },
      prevKv: prev,
    };
  }

  private pending: {
    fn: () => WatchEvent;
    resolve: (ev: WatchEvent) => void;
    reject: (err: unknown) => void;
    /** Cache the written value once committed (Store.create's readSoon). */
    readSoon?: boolean;
  }[] = [];
  private flushScheduled = false;

  /**
   * Group commit: writes issued in the same turn of the event loop share one transaction (one
   * WAL commit), each still checked and applied in order; a write is acknowledged only after
   * its transaction committed. A failed precondition fails only its own write.
   */
  private write(fn: () => WatchEvent, readSoon?: boolean): Promise<WatchEvent> {
    if (this.closed) return Promise.reject(new Error("store is closed"));
    return new Promise((resolve, reject) => {
      this.pending.push({ fn, resolve, reject, readSoon });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(closing = false): void {
    if (this.pending.length === 0) {
      this.flushScheduled = false;
      return;
    }
    const c = closing ? undefined : this.liveCheckpointer();
    // The checkpointer is behind, or is starting the WAL over (its write lock): still scheduled,
    // and writes issued meanwhile join this batch.
    if (c && ((c.busy && this.written >= CHECKPOINT_BEHIND_CHARS) || !c.beginWrite())) {
      c.whenIdle(() => this.flush());
      return;
    }
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    const before = this.rev;
    const results: ({ ev: WatchEvent } | { err: unknown })[] = [];
    this.batchKeys.clear();
    try {
      this.db.transaction(() => {
        for (const op of batch) {
          try {
            results.push({ ev: op.fn() });
          } catch (err) {
            // Preconditions throw before a write touches the database; anything else aborts the batch.
            if (!(err instanceof StoreError)) throw err;
            results.push({ err });
          }
        }
      })();
    } catch (err) {
      this.rev = before;
      this.batchKeys.clear();
      for (const op of batch) op.reject(err);
      return;
    } finally {
      c?.endWrite();
    }
    this.batchKeys.clear();
    // In commit order, so a later write of the same key in this batch wins over a cached create.
    results.forEach((r, i) => {
      if ("ev" in r) this.cache.committed(r.ev, batch[i]!.readSoon);
    });
    batch.forEach((op, i) => {
      const r = results[i]!;
      if ("ev" in r) {
        this.hub.publish(r.ev);
        op.resolve(r.ev);
      } else op.reject(r.err);
    });
    this.mark();
    if (this.written >= (this.checkpointer ? CHECKPOINT_CHARS : CHECKPOINT_START_CHARS)) this.checkpointSoon();
    // The log is bounded by the window, not only by the timer: at a thousand writes a second, 30 s
    // between passes let it hold four times the window and the data file kept growing for minutes.
    if (
      this.rev - this.compacted >= 2 * this.opts.compactWindow &&
      this.compactTarget() - this.compacted >= this.opts.compactWindow
    )
      this.autoCompact();
  }

  /** Value text written since a checkpoint was last asked for. */
  private written = 0;
  private checkpointer: Checkpointer | undefined;
  /** The checkpointer's start, once asked for (close waits for it). */
  private checkpointerStarting: Promise<void> | undefined;
  /** The database file, for the checkpointer's connection. */
  private path = "";

  /**
   * The WAL is copied into the database by the checkpointer's thread, started the first time this
   * store has written enough to need it (most stores, tests', never do); until it runs, and where
   * it cannot, SQLite's automatic checkpoint goes on in the commits.
   */
  private checkpointSoon(): void {
    const c = this.liveCheckpointer();
    if (c) {
      if (!c.busy) {
        this.written = 0;
        c.checkpoint();
      }
      return;
    }
    this.written = 0;
    if (this.checkpointerStarting || !this.path) return;
    this.checkpointerStarting = startCheckpointer(this.path).then((started) => {
      if (!started) return;
      if (this.closed) return started.stop();
      this.db.exec("PRAGMA wal_autocheckpoint = 0");
      this.checkpointer = started;
    });
  }

  /** The checkpointer, unless its thread ended (then SQLite's automatic checkpoint is back). */
  private liveCheckpointer(): Checkpointer | undefined {
    const c = this.checkpointer;
    if (!c?.ended) return c;
    this.checkpointer = undefined;
    this.db.exec("PRAGMA wal_autocheckpoint = 1000");
    return undefined;
  }

  async create(key: string, value: string, opts?: { readSoon?: boolean }): Promise<KeyValue> {
    const ev = await this.write(() => {
      if (!this.batchKeys.has(key) && this.cache.get(key)) throw new KeyExistsError(key);
      // The insert is the existence check (no SELECT first: a read per create was ~5% of a
      // create-heavy run); a key already there leaves the database as it was.
      const rev = this.rev + 1;
      if (this.st.insertKv!.run(key, value, rev, rev).changes === 0) throw new KeyExistsError(key);
      return this.commit("create", key, value, 0, undefined);
    }, opts?.readSoon);
    return ev.kv;
  }

  private current(key: string, expectedRevision: number): KeyValue {
    // The read cache holds committed values; a key this transaction already wrote is read from the database.
    let kv = this.batchKeys.has(key) ? undefined : this.cache.get(key);
    if (!kv) {
      const r = this.st.get!.get(key);
      if (!r) throw new NotFoundError(key);
      kv = toKv(r);
    }
    if (expectedRevision !== 0 && kv.modRevision !== expectedRevision) throw new ConflictError(key, kv);
    return kv;
  }

  async update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    const ev = await this.write(() => {
      const prev = this.current(key, expectedRevision);
      const ev = this.commit("update", key, value, prev.createRevision, prev);
      this.st.updateKv!.run(value, ev.revision, key);
      return ev;
    });
    return ev.kv;
  }

  async delete(key: string, expectedRevision: number): Promise<KeyValue> {
    const ev = await this.write(() => {
      const prev = this.current(key, expectedRevision);
      const ev = this.commit("delete", key, prev.value, prev.createRevision, prev);
      this.st.deleteKv!.run(key);
      return ev;
    });
    return ev.kv;
  }

  watch(prefix: string, opts: WatchOptions = {}): Watcher {
    const live = new LiveWatcher(prefix, this.opts.watchBuffer);
    // Registering and reading the revision happen in the same tick as any commit's publish
    // would, so events after `registeredAt` are live and the rest come from the log: no gap.
    const registeredAt = this.rev;
    const start = opts.afterRevision && opts.afterRevision > 0 ? opts.afterRevision : registeredAt;
    const compactedError = start < this.compacted ? new CompactedError(start, this.compacted) : undefined;
    if (!compactedError && !this.closed) this.hub.add(live);
    else live.close();
    const close = () => {
      live.close();
      this.hub.remove(live);
    };
    opts.signal?.addEventListener("abort", close, { once: true });
    const store = this;
    let last = start;
    let reading = false;
    async function* iterate(): AsyncGenerator<WatchEvent> {
      try {
        if (compactedError) throw compactedError;
        let from = start;
        while (from < registeredAt && !live.closed) {
          if (from < store.compacted) throw new CompactedError(from, store.compacted);
          const rows = store.st.logRange!.all(from, registeredAt, 1000);
          if (rows.length === 0) break;
          for (const r of rows) {
            from = Number(r.id);
            if (!(r.key as string).startsWith(prefix)) continue;
            last = from;
            yield store.fromLog(r);
          }
        }
        reading = true;
        for (;;) {
          const ev = await live.next(() => last);
          if (!ev) return;
          last = ev.revision;
          yield ev;
        }
      } finally {
        close();
      }
    }
    const gen = iterate();
    const takeReady = (max: number) => takeLive(reading ? live : undefined, max, (r) => (last = r));
    // A commit publishes to every watcher in the same synchronous flush that moves this.rev: a live
    // watcher with an empty buffer has been handed everything up to this.rev.
    const caughtUp = () => (reading && live.idle ? this.rev : undefined);
    return { [Symbol.asyncIterator]: () => gen, close, takeReady, caughtUp };
  }

  private fromLog(r: Row): WatchEvent {
    const type = CODE_TYPE[Number(r.type)]!;
    const rev = Number(r.id);
    let prevKv: KeyValue | undefined;
    if (r.prev_mod_rev != null) {
      // An older row may be compacted away; then the event has no previous value.
      const prev = type === "delete" ? { value: r.value } : this.st.logValue!.get(Number(r.prev_mod_rev));
      if (prev)
        prevKv = {
          key: r.key as string,
          value: prev.value as string,
          createRevision: Number(r.create_rev),
          modRevision: Number(r.prev_mod_rev),
        };
    }
    return {
      type,
      revision: rev,
      kv: { key: r.key as string, value: r.value as string, createRevision: Number(r.create_rev), modRevision: rev },
      prevKv,
    };
  }

  async compact(revision: number): Promise<void> {
    const target = Math.min(revision, this.rev);
    if (target <= this.compacted) return;
    for (;;) {
      const { changes } = await this.outsideRestart(() =>
        this.db.transaction(() => this.st.compactLog!.run(target, 5000))(),
      );
      if (changes < 5000) break;
      await new Promise((r) => setTimeout(r, 0)); // let writers in between batches
    }
    await this.outsideRestart(() => {
      this.st.setCompacted!.run(target);
      this.compacted = target;
      this.returnFreePages();
    });
  }

  /** Runs a write of this connection (not a flush) while the checkpointer is not starting the WAL over (flush's lock). */
  private async outsideRestart<T>(write: () => T): Promise<T> {
    for (;;) {
      const c = this.liveCheckpointer();
      if (!c) return write();
      if (c.beginWrite())
        try {
          return write();
        } finally {
          c.endWrite();
        }
      await new Promise<void>((resolve) => c.whenIdle(resolve));
    }
  }

  /**
   * Free pages beyond a quarter of the file go back to the file system (at most 2000 a pass, so a
   * pass stays short); fewer are kept, since steady churn reuses them within seconds, and
   * returning them only to grow the file again moves pages around for nothing.
   */
  private returnFreePages(): void {
    const pages = Number(this.db.prepare("PRAGMA page_count").get()?.page_count ?? 0);
    const free = Number(this.db.prepare("PRAGMA freelist_count").get()?.freelist_count ?? 0);
    const keep = Math.floor(pages / 4);
    if (free > keep) this.db.exec(`PRAGMA incremental_vacuum(${Math.min(2000, free - keep)})`);
  }

  async compactedRevision(): Promise<number> {
    return this.compacted;
  }

  private compacting = false;
  private autoCompact(): void {
    if (this.compacting || this.closed) return;
    const target = this.compactTarget();
    if (target <= this.compacted) return;
    this.compacting = true;
    // The pages compaction freed and moved go to the database like any other write's (a running
    // checkpointer copies them now; without one, SQLite's own checkpoint does): a TRUNCATE here
    // stopped every write (and the event loop, in busy_timeout) while a reader held a snapshot.
    // No thread is started for it: a small store's compaction does not need one.
    this.compact(target)
      .then(() => {
        const c = this.liveCheckpointer();
        if (c && !c.busy) c.checkpoint();
      })
      .catch(() => {})
      .finally(() => (this.compacting = false));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush(true);
    this.closed = true;
    clearInterval(this.timer);
    this.hub.closeAll();
    await this.checkpointerStarting;
    const c = this.checkpointer;
    this.checkpointer = undefined;
    await c?.stop();
    try {
      this.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch {}
    this.db.close();
    this.releaseLock();
  }
}
