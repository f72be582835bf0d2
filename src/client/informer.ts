// An Informer keeps a local cache of one resource in step with the server: list, then watch
// from the list's resourceVersion; re-watch from the last seen version when a watch ends; relist
// on 410 Expired and hand the differences to the handlers; back off on errors.
//
// Objects in the cache, and those handed to handlers, are deep-frozen (arrays only under test, see
// deepFreeze): copy before changing (cloneJson(obj) of src/api/clone.ts, or a spread of the parts you change). A
// write to a frozen object throws in strict mode, so a controller that forgets fails loudly instead
// of corrupting the cache.
import type { KubeObject } from "../api/types.ts";
import { isGone, isResourceExpired } from "./errors.ts";
import { deepFreeze } from "./freeze.ts";
import { ApiError, type ResourceClient, type Status, type WatchStream } from "./types.ts";

export interface InformerOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /**
   * Every resyncMs, update(obj, obj) is called for every cached object (level-triggered healing): the
   * default of listeners registered without a period of their own (on(handlers, { resyncMs })).
   */
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
  /**
   * Drop metadata.managedFields before caching (client-go's TransformStripManagedFields, which
   * kube-scheduler's and kube-controller-manager's informer factories apply): no controller reads
   * them, and an object written by several managers carries more of them than of its own fields.
   */
  stripManagedFields?: boolean;
  /**
   * Where a relist after the first one is reported (its reason, objects listed, milliseconds): a relist of
   * a big resource holds a second copy of it while it runs. Default: one line to stderr.
   */
  onRelist?: (info: RelistInfo) => void;
}

/** A relist after the informer's first list: why (410 Expired on watch or on list), what it brought. */
export interface RelistInfo {
  kind: string;
  reason: string;
  objects: number;
  ms: number;
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

/**
 * One frozen copy per object version for the whole process: the scheduler's, the controllers' and
 * the hollow kubelets' informers (all in one `kube up`) each decode the same pod from their own
 * list or watch, and kept three copies of every pod (about 15 KB a pod at 100k pods). The first
 * copy of an apiVersion/kind/uid at a resourceVersion is kept (weakly) and later ones are dropped
 * for it. Objects without all four (or transformed ones) are kept as decoded.
 */
const shared = new Map<string, WeakRef<object>>();
const sharedGone = new FinalizationRegistry<string>((key) => {
  if (shared.get(key)?.deref() === undefined) shared.delete(key);
});

function freezeShared<T extends KubeObject>(decoded: T, stripManagedFields = false): T {
  let obj = decoded;
  let m = obj.metadata;
  // Stripped copies are shared among stripping informers only (an object without managedFields is the same either way).
  const stripped = stripManagedFields && m?.managedFields !== undefined;
  if (stripped) {
    if (Object.isFrozen(m)) {
      // A shared watch event's object (WatchOptions.shared): the copy is new at its top and metadata only.
      const { managedFields: _, ...rest } = m!;
      m = rest;
      obj = { ...obj, metadata: m };
    } else delete m!.managedFields;
  }
  if (!obj.apiVersion || !obj.kind || !m?.uid || !m.resourceVersion) return deepFreeze(obj);
  const key = `${obj.apiVersion}/${obj.kind}/${m.uid}/${m.resourceVersion}${stripped ? "/-managedFields" : ""}`;
  const hit = shared.get(key)?.deref();
  if (hit) return hit as T;
  deepFreeze(obj);
  shared.set(key, new WeakRef(obj));
  sharedGone.register(obj, key);
  return obj;
}

/** The resourceVersion is too old (upstream answers Expired; older servers Gone): list again. */
const isExpired = (e: unknown) => isResourceExpired(e) || isGone(e);

const minBackoffMs = 200;
const maxBackoffMs = 30_000;

/** Handler calls made in one go before the event loop gets a turn (a relist, or a late registration's replay). */
const BATCH = 500;

/** Lets timers and I/O run: a list over the in-process transport is only promises, which never give way on their own. */
export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** One registration: while its replay of the cache runs, newer events wait in `backlog` so they arrive after it. */
interface Listener<T> {
  handlers: EventHandlers<T>;
  backlog?: (() => void)[];
  /** Its resync period (0: none). */
  resyncMs: number;
}

/** The listeners of one resync period and the timer that resyncs them, together in one pass over the cache. */
interface ResyncGroup<T> {
  listeners: Set<Listener<T>>;
  timer?: ReturnType<typeof setInterval>;
  running: boolean;
}

export interface ListenerOptions {
  /** This listener's resync period (client-go's AddEventHandlerWithResyncPeriod); 0: none. Default: the informer's. */
  resyncMs?: number;
}

export class Informer<T extends KubeObject> {
  private cache = new Map<string, T>();
  private listeners: Listener<T>[] = [];
  /** Per index, its values' objects by key (the objects themselves: a lookup returns them without going through the cache). */
  private indexers = new Map<string, { fn: (obj: T) => string[]; index: Map<string, Map<string, T>> }>();
  private synced = false;
  private started = false;
  private stopped = false;
  private rv: string | undefined;
  private current: WatchStream<T> | undefined;
  private syncWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private wake: (() => void) | undefined;
  private resyncGroups = new Map<number, ResyncGroup<T>>();
  private relistCount = 0;

  constructor(
    private readonly client: ResourceClient<T>,
    private readonly opts: InformerOptions = {},
  ) {}

  /**
   * Registers handlers; a late registration first receives add() for every cached object. A big cache is
   * replayed in batches that let the event loop run (as client-go's listeners get theirs asynchronously);
   * events that happen meanwhile reach these handlers after the replay, in order. Each listener is resynced on
   * its own period (opts.resyncMs, else the informer's). Returns an unsubscribe.
   */
  on(handlers: EventHandlers<T>, opts: ListenerOptions = {}): () => void {
    const listener: Listener<T> = { handlers, resyncMs: Math.max(0, opts.resyncMs ?? this.opts.resyncMs ?? 0) };
    this.listeners.push(listener);
    if (listener.resyncMs) this.joinResync(listener);
    const cached = handlers.add ? [...this.cache.values()] : [];
    if (cached.length <= BATCH) for (const obj of cached) this.call(() => handlers.add!(obj));
    else {
      listener.backlog = [];
      void this.replay(listener, cached);
    }
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
      listener.backlog = undefined;
      if (listener.resyncMs) this.leaveResync(listener);
    };
  }

  private joinResync(listener: Listener<T>): void {
    let group = this.resyncGroups.get(listener.resyncMs);
    if (!group) {
      group = { listeners: new Set(), running: false };
      this.resyncGroups.set(listener.resyncMs, group);
      if (this.started && !this.stopped) this.startResync(listener.resyncMs, group);
    }
    group.listeners.add(listener);
  }

  private leaveResync(listener: Listener<T>): void {
    const group = this.resyncGroups.get(listener.resyncMs);
    if (!group?.listeners.delete(listener) || group.listeners.size) return;
    clearInterval(group.timer);
    this.resyncGroups.delete(listener.resyncMs);
  }

  private startResync(ms: number, group: ResyncGroup<T>): void {
    group.timer = setInterval(() => void this.resync(group), ms);
  }

  private async replay(listener: Listener<T>, cached: T[]): Promise<void> {
    for (let i = 0; i < cached.length && listener.backlog; i += BATCH) {
      if (i) await yieldToLoop();
      for (const obj of cached.slice(i, i + BATCH)) if (listener.backlog) this.call(() => listener.handlers.add!(obj));
    }
    const backlog = listener.backlog ?? [];
    listener.backlog = undefined;
    for (const deliver of backlog) deliver();
  }

  /** An index over the cache, e.g. pods by spec.nodeName; add before start(). */
  /** Adds an index over the cache; one of that name already there is kept (same name, same index), so users sharing an informer may each ask for it. */
  addIndexer(name: string, fn: (obj: T) => string[]): void {
    if (this.indexers.has(name)) return;
    const index = new Map<string, Map<string, T>>();
    this.indexers.set(name, { fn, index });
    for (const [key, obj] of this.cache) this.indexAdd(index, fn(obj), key, obj);
  }

  byIndex(name: string, value: string): T[] {
    const idx = this.indexers.get(name);
    if (!idx) throw new Error(`no indexer "${name}"`);
    const objs = idx.index.get(value);
    return objs ? [...objs.values()] : [];
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    void this.run();
    for (const [ms, group] of this.resyncGroups) this.startResync(ms, group);
  }

  /**
   * update(obj, obj) for every cached object to the group's listeners, in batches that let the event loop
   * run: at 100k pods and a dozen controllers' handlers, one synchronous pass held the process for seconds
   * every minute. An object replaced or deleted since the pass began is skipped (its own event already went
   * out), and so is a listener that left meanwhile.
   */
  private async resync(group: ResyncGroup<T>): Promise<void> {
    if (!this.synced || group.running) return;
    group.running = true;
    try {
      const all = [...this.cache];
      for (let i = 0; i < all.length && !this.stopped; i += BATCH) {
        if (i) await yieldToLoop();
        for (const [key, obj] of all.slice(i, i + BATCH))
          if (this.cache.get(key) === obj) this.emit("update", obj, obj, group.listeners);
      }
    } finally {
      group.running = false;
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const group of this.resyncGroups.values()) clearInterval(group.timer);
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

  /** Lists made after the first one (each after a 410 Expired). */
  get relists(): number {
    return this.relistCount;
  }

  /** The last resourceVersion seen (list, event or bookmark). */
  get resourceVersion(): string | undefined {
    return this.rv;
  }

  private async run(): Promise<void> {
    let backoff = minBackoffMs;
    let needList = true;
    let reason = "";
    while (!this.stopped) {
      try {
        if (needList) {
          await this.relist(reason);
          needList = false;
          backoff = minBackoffMs;
        }
        const started = Date.now();
        const result = await this.watchOnce();
        if (result === "expired") {
          needList = true;
          reason = `watch from resourceVersion ${this.rv} expired (410)`;
        } else if (result === 0 && Date.now() - started < 1000 && !this.stopped) {
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
          reason = `410 Expired: ${err instanceof Error ? err.message : String(err)}`;
          continue;
        }
        this.opts.onError?.(err);
        await this.sleep(backoff * (0.75 + Math.random() / 2));
        backoff = Math.min(backoff * 2, maxBackoffMs);
      }
    }
  }

  /**
   * Lists everything (paged) and turns the difference with the cache into events, page by page: the event
   * loop gets a turn between pages, so a list of 100k objects does not freeze the process it runs in.
   */
  private async relist(reason: string): Promise<void> {
    const started = Date.now();
    let kind = "";
    let objects = 0;
    const { labelSelector, fieldSelector } = this.opts;
    const limit = this.opts.pageSize ?? 500;
    const seen = new Set<string>();
    let rv: string | undefined;
    let cont: string | undefined;
    do {
      let page;
      try {
        page = await this.client.list({ labelSelector, fieldSelector, limit: limit || undefined, continue: cont });
      } catch (err) {
        // The continue token expired mid-way: one unpaged list instead (what was applied stays, and is seen again).
        if (!(cont && err instanceof ApiError && err.code === 410)) throw err;
        seen.clear();
        page = await this.client.list({ labelSelector, fieldSelector });
        cont = undefined;
        rv = undefined;
      }
      if (this.stopped) return;
      rv ??= page.metadata.resourceVersion;
      kind ||= page.items[0]?.kind ?? "";
      objects += page.items.length;
      await this.apply(page.items, seen);
      cont = page.metadata.continue || undefined;
      if (cont) await yieldToLoop();
    } while (cont && !this.stopped);
    if (this.stopped) return;

    for (const [key, old] of [...this.cache]) {
      if (seen.has(key)) continue;
      this.remove(key, old);
      this.emit("delete", old);
    }
    this.rv = rv;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w.resolve();
    } else {
      this.relistCount++;
      const info: RelistInfo = { kind: kind || "?", reason: reason || "unknown", objects, ms: Date.now() - started };
      if (this.opts.onRelist) this.opts.onRelist(info);
      else console.error(`informer: relisted ${info.kind}: ${info.objects} objects in ${info.ms} ms (${info.reason})`);
    }
  }

  /** Caches one listed page and emits add/update for what changed, in batches. */
  private async apply(items: T[], seen: Set<string>): Promise<void> {
    const transform = this.opts.transform;
    for (let i = 0; i < items.length; i++) {
      if (i && i % BATCH === 0) await yieldToLoop();
      const obj = transform
        ? deepFreeze(transform(items[i]!) as T)
        : freezeShared(items[i]!, this.opts.stripManagedFields);
      const key = keyOf(obj);
      seen.add(key);
      const old = this.cache.get(key);
      if (old && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) continue;
      this.store(key, obj, old);
      if (old) this.emit("update", old, obj);
      else this.emit("add", obj);
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
      // Events are frozen here anyway; a transform is handed the decoded object to change.
      shared: !this.opts.transform,
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
        const obj =
          this.opts.transform && event.type !== "BOOKMARK"
            ? deepFreeze(this.opts.transform(event.object) as T)
            : freezeShared(event.object, this.opts.stripManagedFields);
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
      this.indexAdd(index, fn(obj), key, obj);
    }
  }

  private remove(key: string, old: T): void {
    this.cache.delete(key);
    for (const { fn, index } of this.indexers.values()) this.indexRemove(index, fn(old), key);
  }

  private indexAdd(index: Map<string, Map<string, T>>, values: string[], key: string, obj: T): void {
    for (const v of values) {
      let objs = index.get(v);
      if (!objs) index.set(v, (objs = new Map()));
      objs.set(key, obj);
    }
  }

  private indexRemove(index: Map<string, Map<string, T>>, values: string[], key: string): void {
    for (const v of values) {
      const objs = index.get(v);
      objs?.delete(key);
      if (objs?.size === 0) index.delete(v);
    }
  }

  private emit(type: "add", obj: T): void;
  private emit(type: "update", oldObj: T, obj: T, only?: Set<Listener<T>>): void;
  private emit(type: "delete", obj: T): void;
  private emit(type: "add" | "update" | "delete", a: T, b?: T, only?: Set<Listener<T>>): void {
    for (const l of this.listeners) {
      if (only && !only.has(l)) continue;
      const h = l.handlers;
      const deliver =
        type === "add"
          ? h.add && (() => this.call(() => h.add!(a)))
          : type === "update"
            ? h.update && (() => this.call(() => h.update!(a, b!)))
            : h.delete && (() => this.call(() => h.delete!(a)));
      if (!deliver) continue;
      if (l.backlog) l.backlog.push(deliver);
      else deliver();
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
