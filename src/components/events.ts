// Recording Events (what `kubectl describe` shows) for any component, with client-go's
// EventCorrelator in small: a repeat of the same event (same object, type, reason, message,
// source) within the cache's life bumps `count` and `lastTimestamp` of the event already written
// instead of writing another; more than 10 events with the same object, type and reason but
// different messages within 10 minutes become one "(combined from similar events)" event; a
// per-object token bucket (burst 25, one more every 5 minutes) drops floods. Best effort: an event
// that cannot be written is dropped, never retried, and never fails the caller.
//
// The caches are bounded at 4096 entries each as upstream's; in addition, a component that sees an
// object go (the kubelet, a pod's worker ended; the scheduler, a pod deleted) calls forgetEvents so
// its entries go at once: these caches are keyed by uid, so under churn they would otherwise fill
// to the bound with objects that will never have another event (with ten hollow kubelets in one
// process, 33 caches of 4096: tens of MB that only grew during a soak).
import { rfc3339 } from "../api/time.ts";
import type { KubeObject } from "../api/types.ts";
import { type Client, resourcePath } from "../client/index.ts";
import { apiVersionOf, resolveKind } from "../api/registry.ts";

export type EventType = "Normal" | "Warning";

const EVENTS = resolveKind("events")!;

const CACHE_ENTRIES = 4096; // client-go's maxLruCacheEntries
const SIMILAR_MAX = 10; // defaultAggregateMaxEvents
const SIMILAR_WINDOW_MS = 600_000; // defaultAggregateIntervalInSeconds
const SPAM_BURST = 25; // defaultSpamBurst
const SPAM_REFILL_MS = 300_000; // defaultSpamQPS = 1/300

interface Written {
  name: string;
  count: number;
  firstTimestamp: string;
  /** The last write for this event: the next one waits for it, so a patch never outruns its create. */
  last: Promise<unknown>;
}

/** A bounded map that forgets its least recently used keys. */
export class Lru<V> {
  private readonly map = new Map<string, V>();
  /**
   * A live iterator over the keys, oldest first: each eviction goes on from where the last one
   * stopped. A fresh keys() per eviction stepped again over every entry deleted before it (the
   * map keeps them until it rehashes), which made an eviction cost hundreds of steps: the
   * scheduler's Scheduled events spent 2% of a scheduling run there.
   */
  private oldest: MapIterator<string> | undefined;
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    this.map.delete(key);
    this.map.set(key, v);
    if (this.map.size > this.max) this.evict();
  }
  private evict(): void {
    let next = this.oldest?.next();
    if (!next || next.done) {
      this.oldest = this.map.keys();
      next = this.oldest.next();
    }
    if (!next.done) this.map.delete(next.value);
  }
  keys(): string[] {
    return [...this.map.keys()];
  }
  delete(key: string): void {
    this.map.delete(key);
  }
  get size(): number {
    return this.map.size;
  }
}

/** Most cache keys remembered per object for forgetEvents (beyond it, the LRU bound clears them). */
const KEYS_PER_OBJECT = 64;

/** The correlator of one client (one component's recorder). */
class Correlator {
  readonly written = new Lru<Written>(CACHE_ENTRIES);
  readonly similar = new Lru<{ messages: Set<string>; since: number }>(CACHE_ENTRIES);
  readonly buckets = new Lru<{ tokens: number; at: number }>(CACHE_ENTRIES);
  /** The written/similar/bucket keys of each object (by uid), so that forget() drops them together. */
  readonly keysOf = new Lru<Set<string>>(CACHE_ENTRIES);

  /** Remembers the object's cache keys for forget() (one lookup of the object for all of them). */
  track(object: string): (key: string) => void {
    let keys = this.keysOf.get(object);
    if (!keys) this.keysOf.set(object, (keys = new Set<string>()));
    const own = keys;
    return (key) => {
      if (own.size < KEYS_PER_OBJECT) own.add(key);
    };
  }

  forget(object: string): void {
    for (const key of this.keysOf.get(object) ?? []) {
      this.written.delete(key);
      this.similar.delete(key);
      this.buckets.delete(key);
    }
    this.keysOf.delete(object);
  }

  /** Entries held (tests check that forgetting empties the caches). */
  get size(): number {
    return this.written.size + this.similar.size + this.buckets.size + this.keysOf.size;
  }

  /** False when the object has spent its burst (the event is dropped, as client-go's spam filter does). */
  allow(objectKey: string, now: number): boolean {
    const b = this.buckets.get(objectKey) ?? { tokens: SPAM_BURST, at: now };
    b.tokens = Math.min(SPAM_BURST, b.tokens + (now - b.at) / SPAM_REFILL_MS);
    b.at = now;
    this.buckets.set(objectKey, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** The message to record: the event's own, or the combined one once similar events pile up. */
  aggregate(similarKey: string, message: string, now: number): { message: string; combined: boolean } {
    let s = this.similar.get(similarKey);
    if (!s || now - s.since > SIMILAR_WINDOW_MS) s = { messages: new Set(), since: now };
    s.messages.add(message);
    this.similar.set(similarKey, s);
    return s.messages.size > SIMILAR_MAX
      ? { message: `(combined from similar events): ${message}`, combined: true }
      : { message, combined: false };
  }
}

const correlators = new WeakMap<Client, Correlator>();

/**
 * These clients record through one correlator, bounded as one (4096 entries per cache). The hollow
 * kubelets of one process each have a client of their own: with a correlator each, the bound was
 * per node, so 5,000 hollow nodes kept every running pod's entries (about 3 KB a pod: keys holding
 * the messages, a Set of messages and a settled write per event). A pod is on one node, so its
 * keys never meet another node's; upstream's kubelet, one per machine, has the same one bound.
 */
export function shareEventCache(clients: Iterable<Client>): void {
  const shared = new Correlator();
  for (const client of clients) correlators.set(client, shared);
}

/** The object's identity in keysOf: its uid, else kind/namespace/name. */
const identity = (obj: KubeObject): string =>
  obj.metadata?.uid ?? [obj.kind ?? "", obj.metadata?.namespace ?? "default", obj.metadata?.name ?? ""].join("/");

/** The object is gone: this client's recorder drops what it remembers of its events. */
export function forgetEvents(client: Client, obj: KubeObject): void {
  correlators.get(client)?.forget(identity(obj));
}

/** Entries in this client's recorder caches (for tests). */
export function eventCacheSize(client: Client): number {
  return correlators.get(client)?.size ?? 0;
}

export function recordEvent(
  client: Client,
  component: string,
  obj: KubeObject,
  type: EventType,
  reason: string,
  message: string,
): void {
  let c = correlators.get(client);
  if (!c) correlators.set(client, (c = new Correlator()));
  const meta = obj.metadata ?? {};
  const namespace = meta.namespace ?? "default";
  const kind = obj.kind ?? "";
  const nowMs = Date.now();
  const now = rfc3339(nowMs);
  const apiVersion = obj.apiVersion ?? (resolveKind(kind) ? apiVersionOf(resolveKind(kind)!) : "v1");
  const involvedObject = {
    apiVersion,
    kind,
    name: meta.name,
    namespace: meta.namespace,
    uid: meta.uid,
    resourceVersion: meta.resourceVersion,
  };
  const objectKey = [kind, namespace, meta.name, meta.uid].join("/");
  const track = c.track(identity(obj));
  track(objectKey);
  if (!c.allow(objectKey, nowMs)) return;

  const similarKey = [component, objectKey, type, reason].join("|");
  track(similarKey);
  const agg = c.aggregate(similarKey, message, nowMs);
  const key = [component, objectKey, type, reason, agg.combined ? "" : agg.message].join("|");
  track(key);
  const events = client.resource("events", namespace);
  const create = (count: number, firstTimestamp: string): Promise<unknown> => {
    const name = `${meta.name}.${(BigInt(Date.now()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000))).toString(16)}`;
    const written: Written = { name, count, firstTimestamp, last: Promise.resolve() };
    c.written.set(key, written);
    const event = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace },
      involvedObject,
      reason,
      message: agg.message,
      type,
      source: { component },
      firstTimestamp,
      lastTimestamp: now,
      count,
      reportingComponent: component,
      reportingInstance: "",
    };
    // `last` keeps only the write's completion, not the created Event (kept per event for the cache's
    // life). The answer is not parsed: nothing reads it (a pod's Scheduled event paid a JSON.parse).
    const forget = () => void c.written.delete(key);
    return (written.last = client
      .request("POST", resourcePath(EVENTS, namespace), { body: event })
      .then((res) => res.text().then(() => (res.ok ? undefined : forget())), forget));
  };
  const seen = c.written.get(key);
  if (!seen) return void create(1, now);
  const count = ++seen.count;
  // The event may have expired meanwhile: then it is written anew, keeping its count.
  seen.last = seen.last.then(() =>
    events.patch(seen.name, { count, lastTimestamp: now, message: agg.message }, "strategic").then(
      () => undefined,
      () => (c.written.get(key) === seen ? create(count, seen.firstTimestamp) : undefined),
    ),
  );
}
