// An Informer keeps a local cache of one resource in step with the server: list, then watch
// from the list's resourceVersion; re-watch from the last seen version when a watch ends; relist
// on 410 Expired and hand the differences to the handlers; back off on errors.
//
// Objects in the cache, and those handed to handlers, are deep-frozen: copy before changing
// (structuredClone(obj) or a spread of the parts you change). A write to a frozen object throws
// in strict mode, so a controller that forgets fails loudly instead of corrupting the cache.
import type { KubeObject } from "../api/types.ts";
import { isGone, isResourceExpired } from "./errors.ts";
import { ApiError, type ResourceClient, type Status, type WatchStream } from "./types.ts";

export interface InformerOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Every resyncMs, update(obj, obj) is called for every cached object (level-triggered healing). */
  resyncMs?: number;
  /** List page size; 0 lists everything in one request. Default 500. */
  pageSize?: number;
  /** Server-side timeout of each watch; default a random 300..600 s, as client-go spreads reconnects. */
  watchTimeoutSeconds?: number;
  /** Where list/watch errors (the informer retries) and handler errors go. Default: handler errors to stderr. */
  onError?: (err: unknown) => void;
  /** Applied to every listed or watched object before it is cached (client-go's SetTransform), e.g. to keep
   * only metadata of a resource watched for its ownership. */
  transform?: (obj: KubeObject) => KubeObject;
}

export interface EventHandlers<T> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

/** The cache key: "namespace/name", or "name" for cluster-scoped objects. */
export function keyOf(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? "";
  return ns ? `${ns}/${name}` : name;
}

/** Splits a cache key into namespace (undefined when cluster-scoped) and name. */
export function splitKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf("/");
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** The resourceVersion is too old (upstream answers Expired; older servers Gone): list again. */
const isExpired = (e: unknown) => isResourceExpired(e) || isGone(e);

const minBackoffMs = 200;
const maxBackoffMs = 30_000;

export class Informer<T extends KubeObject> {
  private cache = new Map<string, T>();
  private handlers: EventHandlers<T>[] = [];
  private indexers = new Map<string, { fn: (obj: T) => string[]; index: Map<string, Set<string>> }>();
  private synced = false;
  private started = false;
  private stopped = false;
  private rv: string | undefined;
  private current: WatchStream<T> | undefined;
  private syncWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private wake: (() => void) | undefined;
  private resyncTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly client: ResourceClient<T>,
    private readonly opts: InformerOptions = {},
  ) {}

  /** Registers handlers; a late registration first receives add() for every cached object. Returns an unsubscribe. */
  on(handlers: EventHandlers<T>): () => void {
    this.handlers.push(handlers);
    if (this.synced && handlers.add) for (const obj of this.cache.values()) this.call(() => handlers.add!(obj));
    return () => {
      this.handlers = this.handlers.filter((h) => h !== handlers);
    };
  }

  /** An index over the cache, e.g. pods by spec.nodeName; add before start(). */
  addIndexer(name: string, fn: (obj: T) => string[]): void {
    const index = new Map<string, Set<string>>();
    this.indexers.set(name, { fn, index });
    for (const [key, obj] of this.cache) this.indexAdd(index, fn(obj), key);
  }

  byIndex(name: string, value: string): T[] {
    const idx = this.indexers.get(name);
    if (!idx) throw new Error(`no indexer "${name}"`);
    return [...(idx.index.get(value) ?? [])].map((k) => this.cache.get(k)!).filter(Boolean);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    void this.run();
    if (this.opts.resyncMs && this.opts.resyncMs > 0) {
      this.resyncTimer = setInterval(() => {
        if (this.synced) for (const obj of this.cache.values()) this.emit("update", obj, obj);
      }, this.opts.resyncMs);
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.resyncTimer);
    this.current?.close();
    this.wake?.();
    for (const w of this.syncWaiters.splice(0)) w.reject(new Error("informer stopped before it synced"));
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (this.stopped) return Promise.reject(new Error("informer stopped before it synced"));
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      this.syncWaiters.push(waiter);
      signal?.addEventListener(
        "abort",
        () => {
          this.syncWaiters = this.syncWaiters.filter((w) => w !== waiter);
          reject(signal.reason ?? new Error("aborted"));
        },
        { once: true },
      );
    });
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  /** The last resourceVersion seen (list, event or bookmark). */
  get resourceVersion(): string | undefined {
    return this.rv;
  }

  private async run(): Promise<void> {
    let backoff = minBackoffMs;
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
          backoff = minBackoffMs;
        }
        const started = Date.now();
        const result = await this.watchOnce();
        if (result === "expired") needList = true;
        else if (result === 0 && Date.now() - started < 1000 && !this.stopped) {
          // A watch that ends at once with nothing in it: do not spin on reconnects.
          await this.sleep(backoff);
          backoff = Math.min(backoff * 2, maxBackoffMs);
          continue;
        }
        backoff = minBackoffMs;
      } catch (err) {
        if (this.stopped) break;
        if (isExpired(err)) {
          needList = true;
          continue;
        }
        this.opts.onError?.(err);
        await this.sleep(backoff * (0.75 + Math.random() / 2));
        backoff = Math.min(backoff * 2, maxBackoffMs);
      }
    }
  }

  /** Lists everything (paged) and turns the difference with the cache into events. */
  private async relist(): Promise<void> {
    const { labelSelector, fieldSelector } = this.opts;
    const limit = this.opts.pageSize ?? 500;
    const items: T[] = [];
    let rv: string | undefined;
    let cont: string | undefined;
    do {
      let page;
      try {
        page = await this.client.list({ labelSelector, fieldSelector, limit: limit || undefined, continue: cont });
      } catch (err) {
        // The continue token expired mid-way: one unpaged list instead.
        if (!(cont && err instanceof ApiError && err.code === 410)) throw err;
        items.length = 0;
        page = await this.client.list({ labelSelector, fieldSelector });
        cont = undefined;
        rv = undefined;
      }
      rv ??= page.metadata.resourceVersion;
      const transform = this.opts.transform;
      if (transform) for (const item of page.items) items.push(transform(item) as T);
      else items.push(...page.items);
      cont = page.metadata.continue || undefined;
    } while (cont && !this.stopped);
    if (this.stopped) return;

    const seen = new Set<string>();
    for (const item of items) {
      const obj = deepFreeze(item);
      const key = keyOf(obj);
      seen.add(key);
      const old = this.cache.get(key);
      if (old && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) continue;
      this.store(key, obj, old);
      if (old) this.emit("update", old, obj);
      else this.emit("add", obj);
    }
    for (const [key, old] of [...this.cache]) {
      if (seen.has(key)) continue;
      this.remove(key, old);
      this.emit("delete", old);
    }
    this.rv = rv;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w.resolve();
    }
  }

  /** One watch until the server ends it: "expired" when a relist is needed, else the number of events seen. */
  private async watchOnce(): Promise<"expired" | number> {
    let seen = 0;
    const { labelSelector, fieldSelector } = this.opts;
    const watch = this.client.watch({
      labelSelector,
      fieldSelector,
      resourceVersion: this.rv,
      allowWatchBookmarks: true,
      timeoutSeconds: this.opts.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300),
    });
    this.current = watch;
    if (this.stopped) watch.close();
    try {
      for await (const event of watch) {
        if (this.stopped) break;
        seen++;
        if (event.type === "ERROR") {
          const status = event.object as unknown as Status;
          const err = new ApiError(status.code ?? 500, status);
          if (isExpired(err)) return "expired";
          throw err;
        }
        const obj = deepFreeze(
          this.opts.transform && event.type !== "BOOKMARK" ? (this.opts.transform(event.object) as T) : event.object,
        );
        const rv = obj.metadata?.resourceVersion;
        if (event.type !== "BOOKMARK") {
          const key = keyOf(obj);
          const old = this.cache.get(key);
          if (event.type === "DELETED") {
            // An object created and deleted between our list and watch was never added: stay quiet.
            if (old) {
              this.remove(key, old);
              this.emit("delete", obj);
            }
          } else {
            this.store(key, obj, old);
            if (old) this.emit("update", old, obj);
            else this.emit("add", obj);
          }
        }
        if (rv) this.rv = rv;
      }
    } finally {
      watch.close();
      this.current = undefined;
    }
    return seen;
  }

  private store(key: string, obj: T, old: T | undefined): void {
    this.cache.set(key, obj);
    for (const { fn, index } of this.indexers.values()) {
      if (old) this.indexRemove(index, fn(old), key);
      this.indexAdd(index, fn(obj), key);
    }
  }

  private remove(key: string, old: T): void {
    this.cache.delete(key);
    for (const { fn, index } of this.indexers.values()) this.indexRemove(index, fn(old), key);
  }

  private indexAdd(index: Map<string, Set<string>>, values: string[], key: string): void {
    for (const v of values) {
      let keys = index.get(v);
      if (!keys) index.set(v, (keys = new Set()));
      keys.add(key);
    }
  }

  private indexRemove(index: Map<string, Set<string>>, values: string[], key: string): void {
    for (const v of values) {
      const keys = index.get(v);
      keys?.delete(key);
      if (keys?.size === 0) index.delete(v);
    }
  }

  private emit(type: "add", obj: T): void;
  private emit(type: "update", oldObj: T, obj: T): void;
  private emit(type: "delete", obj: T): void;
  private emit(type: "add" | "update" | "delete", a: T, b?: T): void {
    for (const h of this.handlers) {
      if (type === "add" && h.add) this.call(() => h.add!(a));
      else if (type === "update" && h.update) this.call(() => h.update!(a, b!));
      else if (type === "delete" && h.delete) this.call(() => h.delete!(a));
    }
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (this.opts.onError) this.opts.onError(err);
      else console.error("informer: event handler failed:", err);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
