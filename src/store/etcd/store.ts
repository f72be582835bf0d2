// The etcd v3 Store: the same contract as the SQLite store, on etcd's own revisions (a key's
// mod_revision is its resourceVersion). Writes are transactions guarded by create_revision == 0
// (create) or mod_revision == expected (update, delete); watches are etcd watches from a start
// revision with prev_kv; compaction is etcd's, recorded in `compact_rev_key` as kube-apiserver does.
import { LiveWatcher, streamedWatcher } from "../hub.ts";
import { acquireLock } from "../lock.ts";
import type { KeyValue, ListOptions, ListResult, Store, WatchEvent, WatchOptions, Watcher } from "../types.ts";
import { CompactedError, ConflictError, KeyExistsError, NotFoundError, StoreError } from "../types.ts";
import { type FeedSource, ResourceFeed, resourcePrefix } from "./watch-cache.ts";
import { b64, EtcdError, type EtcdTlsFiles, Gateway, type Header, prefixEnd, type RawKv, unb64 } from "./gateway.ts";

export interface EtcdStoreOptions extends EtcdTlsFiles {
  /** Client URLs of the etcd members (http://host:2379 or https://...). */
  endpoints: string[];
  /** Prepended to every key (the apiserver's keys already start with /registry/). Default "". */
  prefix?: string;
  /** Revisions of history kept for watches; older ones are compacted. Default 10000. */
  compactWindow?: number;
  /** How often compaction runs. Default 30 s. */
  compactIntervalMs?: number;
  /** Events a watcher may have unread before it is ended as lagged. Default 10000. */
  watchBuffer?: number;
  /**
   * The data dir of the kube process using the store: locked while it is open, as the SQLite store
   * locks its own, so one process owns a data dir (its pki, its port) and `kube down` finds it.
   */
  dataDir?: string;
}

/** kube-apiserver's key for the last compaction (outside any prefix: compaction is etcd-wide). */
const COMPACT_KEY = "compact_rev_key";
const COMPACTED = /required revision has been compacted/;

const num = (s: string | undefined): number => Number(s ?? 0);

interface TxnResponse {
  header?: Header;
  succeeded?: boolean;
  responses?: {
    response_put?: { prev_kv?: RawKv };
    response_delete_range?: { prev_kvs?: RawKv[] };
    response_range?: { kvs?: RawKv[] };
  }[];
}
interface RawEvent {
  type?: "PUT" | "DELETE";
  kv?: RawKv;
  prev_kv?: RawKv;
}
interface WatchResult {
  result?: {
    header?: Header;
    created?: boolean;
    canceled?: boolean;
    compact_revision?: string;
    cancel_reason?: string;
    events?: RawEvent[];
  };
  error?: { message?: string };
}

export class EtcdStore implements Store, FeedSource {
  private readonly prefix: string;
  private readonly gw: Gateway;
  /** The newest revision this process has seen: "from now" for a watch means after it. */
  private seen = 0;
  private closed = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly watchers = new Set<() => void>();
  private readonly feeds = new Map<string, ResourceFeed>();
  private releaseLock = () => {};

  private constructor(private readonly opts: EtcdStoreOptions) {
    this.prefix = opts.prefix ?? "";
    this.gw = new Gateway(opts.endpoints, opts);
  }

  static async open(opts: EtcdStoreOptions): Promise<EtcdStore> {
    const store = new EtcdStore(opts);
    if (opts.dataDir) store.releaseLock = acquireLock(opts.dataDir);
    try {
      await store.currentRevision();
    } catch (err) {
      store.releaseLock();
      throw err;
    }
    store.timer = setInterval(() => store.autoCompact(), opts.compactIntervalMs ?? 30_000);
    (store.timer as { unref?: () => void }).unref?.();
    return store;
  }

  private note(h: Header | undefined): number {
    const rev = num(h?.revision);
    if (rev > this.seen) this.seen = rev;
    return rev;
  }

  private toKv(raw: RawKv): KeyValue {
    return {
      key: unb64(raw.key).slice(this.prefix.length),
      value: unb64(raw.value),
      createRevision: num(raw.create_revision),
      modRevision: num(raw.mod_revision),
    };
  }

  async currentRevision(): Promise<number> {
    const r = await this.gw.call<object>("/kv/range", { key: b64(`${this.prefix}/`), count_only: true });
    return this.note(r.header);
  }

  async get(key: string): Promise<{ revision: number; kv: KeyValue | null }> {
    const r = await this.gw.call<{ kvs?: RawKv[] }>("/kv/range", { key: b64(this.prefix + key) });
    const revision = this.note(r.header);
    return { revision, kv: r.kvs?.[0] ? this.toKv(r.kvs[0]) : null };
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const full = this.prefix + prefix;
    const after = opts.startAfter && opts.startAfter >= prefix ? this.prefix + opts.startAfter : undefined;
    const r = await this.gw.call<{ kvs?: RawKv[]; more?: boolean; count?: string }>("/kv/range", {
      // The key right after startAfter is startAfter + "\0".
      key: after ? b64(`${after}\0`) : b64(full),
      range_end: prefixEnd(full),
      limit: opts.limit && opts.limit > 0 ? opts.limit : 0,
    });
    const revision = this.note(r.header);
    const kvs = (r.kvs ?? []).map((kv) => this.toKv(kv));
    const more = !!r.more;
    // etcd counts the whole range [key, range_end), this page included.
    const remaining = opts.countRemaining === false ? undefined : more ? num(r.count) - kvs.length : 0;
    return { revision, kvs, more, remaining };
  }

  private txn(body: object): Promise<TxnResponse> {
    if (this.closed) return Promise.reject(new StoreError("store is closed"));
    return this.gw.call<TxnResponse>("/kv/txn", body);
  }

  async create(key: string, value: string): Promise<KeyValue> {
    const k = b64(this.prefix + key);
    const r = await this.txn({
      compare: [{ key: k, target: "CREATE", result: "EQUAL", create_revision: "0" }],
      success: [{ request_put: { key: k, value: b64(value) } }],
    });
    const rev = this.note(r.header);
    if (!r.succeeded) throw new KeyExistsError(key);
    return { key, value, createRevision: rev, modRevision: rev };
  }

  /**
   * One guarded write: `op` runs if the key exists (and has expectedRevision, unless 0); otherwise
   * the current value comes back to tell NotFound from Conflict.
   */
  private async guarded(key: string, expectedRevision: number, op: object): Promise<TxnResponse & { rev: number }> {
    const k = b64(this.prefix + key);
    const compare =
      expectedRevision !== 0
        ? { key: k, target: "MOD", result: "EQUAL", mod_revision: String(expectedRevision) }
        : { key: k, target: "CREATE", result: "GREATER", create_revision: "0" };
    const r = await this.txn({ compare: [compare], success: [op], failure: [{ request_range: { key: k } }] });
    const rev = this.note(r.header);
    if (!r.succeeded) {
      const cur = r.responses?.[0]?.response_range?.kvs?.[0];
      if (!cur) throw new NotFoundError(key);
      throw new ConflictError(key, this.toKv(cur));
    }
    return { ...r, rev };
  }

  async update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    const k = b64(this.prefix + key);
    const r = await this.guarded(key, expectedRevision, { request_put: { key: k, value: b64(value), prev_kv: true } });
    const prev = r.responses?.[0]?.response_put?.prev_kv;
    return { key, value, createRevision: num(prev?.create_revision), modRevision: r.rev };
  }

  async delete(key: string, expectedRevision: number): Promise<KeyValue> {
    const k = b64(this.prefix + key);
    const r = await this.guarded(key, expectedRevision, { request_delete_range: { key: k, prev_kv: true } });
    const prev = r.responses?.[0]?.response_delete_range?.prev_kvs?.[0];
    if (!prev) throw new NotFoundError(key); // deleted between compare and delete cannot happen in a txn
    return { ...this.toKv(prev), modRevision: r.rev };
  }

  private toEvent(ev: RawEvent): WatchEvent {
    const kv = this.toKv(ev.kv ?? {});
    const prevKv = ev.prev_kv ? this.toKv(ev.prev_kv) : undefined;
    if (ev.type === "DELETE")
      return {
        type: "delete",
        revision: kv.modRevision,
        kv: { ...kv, value: prevKv?.value ?? "", createRevision: prevKv?.createRevision ?? 0 },
        prevKv,
      };
    return { type: kv.createRevision === kv.modRevision ? "create" : "update", revision: kv.modRevision, kv, prevKv };
  }

  /**
   * Through the resource's shared feed (watch-cache.ts) when the start is inside its window; else
   * (a watch from further back, or of no one resource) on an etcd watch of its own.
   */
  watch(prefix: string, opts: WatchOptions = {}): Watcher {
    const after = opts.afterRevision && opts.afterRevision > 0 ? opts.afterRevision : this.seen;
    const resource = resourcePrefix(prefix);
    if (!resource || this.closed) return this.ownWatch(prefix, after, opts.signal);
    let feed = this.feeds.get(resource);
    if (!feed || feed.failed) {
      // A new feed starts at the newest revision seen: never compacted, so it cannot fail for its start.
      feed = new ResourceFeed(this, resource, this.seen, this.opts.watchBuffer ?? 10_000);
      this.feeds.set(resource, feed);
    }
    if (after < feed.complete) return this.ownWatch(prefix, after, opts.signal);
    return feed.subscribe(prefix, after, opts.signal);
  }

  /** Open etcd watch streams: the feeds' and the watches of their own (for tests and metrics). */
  get watchStreams(): number {
    return this.feeds.size + this.watchers.size;
  }

  /**
   * Reads the etcd watch stream of `prefix` after `after` into onEvent; a broken stream (a member
   * went away) is reopened after the last revision delivered, on the next endpoint. Ends when
   * `signal` aborts or `stop()` says so; resolves with the compaction that ended it, if one did.
   */
  async stream(
    prefix: string,
    after: number,
    onEvent: (ev: WatchEvent) => void,
    signal: AbortSignal,
    stop: () => boolean = () => false,
  ): Promise<unknown> {
    const full = this.prefix + prefix;
    let fed = after;
    while (!signal.aborted && !stop()) {
      try {
        const res = await this.gw.open(
          "/watch",
          { create_request: { key: b64(full), range_end: prefixEnd(full), start_revision: fed + 1, prev_kv: true } },
          signal,
        );
        for await (const msg of jsonLines(res.body!)) {
          const m = msg as WatchResult;
          if (m.error) throw new EtcdError(`etcd watch: ${m.error.message}`);
          const r = m.result;
          if (!r) continue;
          if (r.compact_revision && num(r.compact_revision) > 0 && (r.canceled || !r.events?.length))
            throw new CompactedError(fed, num(r.compact_revision));
          if (r.canceled) throw new EtcdError(`etcd watch canceled: ${r.cancel_reason ?? ""}`);
          this.note(r.header);
          for (const raw of r.events ?? []) {
            const ev = this.toEvent(raw);
            fed = ev.revision;
            onEvent(ev);
          }
          if (stop()) break;
        }
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof CompactedError || (err instanceof EtcdError && COMPACTED.test(err.message)))
          return err instanceof CompactedError ? err : new CompactedError(fed, fed);
      }
      if (!signal.aborted && !stop()) await new Promise((r) => setTimeout(r, 200));
    }
    return undefined;
  }

  private ownWatch(prefix: string, start: number, signal: AbortSignal | undefined): Watcher {
    const live = new LiveWatcher(prefix, this.opts.watchBuffer ?? 10_000);
    let failure: unknown;
    const abort = new AbortController();
    const close = () => {
      abort.abort();
      live.close();
      this.watchers.delete(close);
    };
    this.watchers.add(close);
    signal?.addEventListener("abort", close, { once: true });
    if (this.closed) close();
    void this.stream(
      prefix,
      start,
      (ev) => live.push(ev),
      abort.signal,
      () => live.lagged,
    ).then((f) => {
      failure = f;
      abort.abort();
      live.close();
    });
    return streamedWatcher(
      live,
      start,
      () => this.compactedRevision(),
      () => failure,
      close,
    );
  }

  async compact(revision: number): Promise<void> {
    const target = Math.min(revision, await this.currentRevision());
    const k = b64(COMPACT_KEY);
    const cur = await this.gw.call<{ kvs?: RawKv[] }>("/kv/range", { key: k });
    const prev = cur.kvs?.[0];
    if (num(unb64(prev?.value)) >= target) return;
    // Recorded first, guarded by the key's own revision, so concurrent compactors agree (as kube-apiserver).
    const r = await this.txn({
      compare: [{ key: k, target: "MOD", result: "EQUAL", mod_revision: prev?.mod_revision ?? "0" }],
      success: [{ request_put: { key: k, value: b64(String(target)) } }],
    });
    if (!r.succeeded) return;
    await this.gw.call("/kv/compaction", { revision: target }).catch((err: Error) => {
      if (!COMPACTED.test(err.message)) throw err;
    });
  }

  async compactedRevision(): Promise<number> {
    const r = await this.gw.call<{ kvs?: RawKv[] }>("/kv/range", { key: b64(COMPACT_KEY) });
    return num(unb64(r.kvs?.[0]?.value));
  }

  private compacting = false;
  private autoCompact(): void {
    if (this.compacting || this.closed) return;
    this.compacting = true;
    this.currentRevision()
      .then(async (rev) => {
        const target = rev - (this.opts.compactWindow ?? 10_000);
        if (target > (await this.compactedRevision())) await this.compact(target);
      })
      .catch(() => {})
      .finally(() => (this.compacting = false));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    for (const close of [...this.watchers]) close();
    for (const feed of this.feeds.values()) feed.close();
    this.feeds.clear();
    this.releaseLock();
  }
}

/** The objects of a newline-delimited JSON stream (the gateway's streaming responses). */
async function* jsonLines(body: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  let buf = "";
  const reader = body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) yield JSON.parse(line);
    }
  }
  if (buf.trim()) yield JSON.parse(buf);
}
