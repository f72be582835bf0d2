// The thin seam between the store and a SQLite library: bun:sqlite under Bun, better-sqlite3
// under Node. Both are synchronous; the store only needs prepare/run/get/all and transactions.
export interface Statement {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: unknown[]): Record<string, unknown> | undefined;
  all(...params: unknown[]): Record<string, unknown>[];
}

export interface Database {
  exec(sql: string): void;
  prepare(sql: string): Statement;
  /** Runs fn in a BEGIN IMMEDIATE transaction: the write lock is taken (waiting out busy_timeout)
   * up front, never by upgrading a read, which SQLite refuses at once when another connection
   * (a snapshot being taken) holds a read snapshot of the WAL. */
  transaction<T>(fn: () => T): () => T;
  close(): void;
}

export async function openDatabase(path: string, opts: { readonly?: boolean } = {}): Promise<Database> {
  if (typeof Bun !== "undefined") {
    const { Database: BunDatabase } = await import("bun:sqlite");
    const db = opts.readonly
      ? new BunDatabase(path, { readonly: true, strict: true })
      : new BunDatabase(path, { create: true, strict: true });
    return {
      exec: (sql) => void db.exec(sql),
      prepare: (sql) => {
        const st = db.prepare(sql);
        // run and all are the statement's own (bound): a forwarding arrow gathered and spread the
        // parameters again on each of the several statements every write runs.
        return {
          run: st.run.bind(st) as Statement["run"],
          get: (...p) => (st.get(...(p as [])) ?? undefined) as Record<string, unknown> | undefined,
          all: st.all.bind(st) as Statement["all"],
        };
      },
      transaction: (fn) => db.transaction(fn).immediate as () => ReturnType<typeof fn>,
      close: () => db.close(),
    };
  }
  const mod = "better-sqlite3";
  const { default: BetterSqlite } = (await import(mod)) as {
    default: new (path: string, opts?: { readonly?: boolean }) => any;
  };
  const db = new BetterSqlite(path, { readonly: !!opts.readonly });
  return {
    exec: (sql) => void db.exec(sql),
    prepare: (sql) => {
      const st = db.prepare(sql);
      return { run: (...p) => st.run(...p), get: (...p) => st.get(...p), all: (...p) => st.all(...p) };
    },
    transaction: (fn) => db.transaction(fn).immediate,
    close: () => db.close(),
  };
}
