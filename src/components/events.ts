// Recording Events (what `kubectl describe` shows) for any component, with client-go's
// EventCorrelator in small: a repeat of the same event (same object, type, reason, message,
// source) within the cache's life bumps `count` and `lastTimestamp` of the event already written
// instead of writing another; more than 10 events with the same object, type and reason but
// different messages within 10 minutes become one "(combined from similar events)" event; a
// per-object token bucket (burst 25, one more every 5 minutes) drops floods. Best effort: an event
// that cannot be written is dropped, never retried, and never fails the caller.
//
// What is remembered is bounded at 4096 objects (upstream: 4096 entries in each of its caches),
// each with at most 64 groups of similar events and 64 written events; in addition, a component
// that sees an object go (the kubelet, a pod's worker ended; the scheduler, a pod deleted) calls
// forgetEvents so its entry goes at once: entries are keyed by uid, so under churn they would
// otherwise fill to the bound with objects that will never have another event (with ten hollow
// kubelets in one process, 33 caches of 4096: tens of MB that only grew during a soak).
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
  /** The values, without touching their recency. */
  values(): IterableIterator<V> {
    return this.map.values();
  }
  delete(key: string): void {
    this.map.delete(key);
  }
  get size(): number {
    return this.map.size;
  }
}

/** Most similar-event groups and written events remembered per object (the oldest goes first). */
const KEYS_PER_OBJECT = 64;

/**
 * What a recorder remembers of one object's events: its spam filter's bucket, its similar events
 * (by component, type and reason) and the events it wrote (by those and the message). client-go
 * keeps three caches keyed by event; one record per object makes an event one lookup of its object
 * instead of six of long keys (a pod's Scheduled event spent 3% of a scheduling run there), and
 * forgetEvents one delete.
 */
interface Remembered {
  tokens: number;
  at: number;
  similar: Map<string, { messages: Set<string>; since: number }>;
  written: Map<string, Written>;
}

/** Sets a key of a per-object map, dropping its oldest key beyond KEYS_PER_OBJECT. */
function bounded<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > KEYS_PER_OBJECT) map.delete(map.keys().next().value!);
}

/** The correlator of one client (one component's recorder), bounded at CACHE_ENTRIES objects. */
class Correlator {
  private readonly objects = new Lru<Remembered>(CACHE_ENTRIES);

  of(object: string, now: number): Remembered {
    let r = this.objects.get(object);
    if (!r) this.objects.set(object, (r = { tokens: SPAM_BURST, at: now, similar: new Map(), written: new Map() }));
    return r;
  }

  forget(object: string): void {
    this.objects.delete(object);
  }

  /** Entries held: objects, their similar-event groups and written events (tests check that forgetting empties them). */
  get size(): number {
    let n = 0;
    for (const r of this.objects.values()) n += 1 + r.similar.size + r.written.size;
    return n;
  }
}

/** False when the object has spent its burst (the event is dropped, as client-go's spam filter does). */
function allow(r: Remembered, now: number): boolean {
  r.tokens = Math.min(SPAM_BURST, r.tokens + (now - r.at) / SPAM_REFILL_MS);
  r.at = now;
  if (r.tokens < 1) return false;
  r.tokens -= 1;
  return true;
}

/** The message to record: the event's own, or the combined one once similar events pile up. */
function aggregate(
  r: Remembered,
  similarKey: string,
  message: string,
  now: number,
): { message: string; combined: boolean } {
  let s = r.similar.get(similarKey);
  if (!s || now - s.since > SIMILAR_WINDOW_MS)
    bounded(r.similar, similarKey, (s = { messages: new Set(), since: now }));
  s.messages.add(message);
  return s.messages.size > SIMILAR_MAX
    ? { message: `(combined from similar events): ${message}`, combined: true }
    : { message, combined: false };
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

/**
 * The Event's name: upstream's `<object>.<UnixNano in hex>`, the nanoseconds made of the
 * millisecond clock and a random sub-millisecond part, in exact arithmetic on two 24-bit halves
 * (the nanoseconds are past 2^53; a BigInt per event cost more).
 */
function eventName(object: string | undefined, nowMs: number): string {
  const nanosLow = (nowMs % 2 ** 24) * 1_000_000 + Math.floor(Math.random() * 1_000_000);
  const high = Math.floor(nowMs / 2 ** 24) * 1_000_000 + Math.floor(nanosLow / 2 ** 24);
  const low = (nanosLow % 2 ** 24).toString(16);
  return `${object}.${high ? high.toString(16) + low.padStart(6, "0") : low}`;
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
  const nowMs = Date.now();
  const now = rfc3339(nowMs);
  const r = c.of(identity(obj), nowMs);
  if (!allow(r, nowMs)) return;

  const similarKey = `${component}|${type}|${reason}`;
  const agg = aggregate(r, similarKey, message, nowMs);
  const key = `${similarKey}|${agg.combined ? "" : agg.message}`;
  const create = (count: number, firstTimestamp: string): Promise<unknown> => {
    const name = eventName(meta.name, Date.now());
    const written: Written = { name, count, firstTimestamp, last: Promise.resolve() };
    bounded(r.written, key, written);
    const kind = obj.kind ?? "";
    const apiVersion = obj.apiVersion ?? (resolveKind(kind) ? apiVersionOf(resolveKind(kind)!) : "v1");
    const event = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace },
      involvedObject: {
        apiVersion,
        kind,
        name: meta.name,
        namespace: meta.namespace,
        uid: meta.uid,
        resourceVersion: meta.resourceVersion,
      },
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
    const forget = () => void (r.written.get(key) === written && r.written.delete(key));
    return (written.last = client
      .request("POST", resourcePath(EVENTS, namespace), { body: event })
      .then((res) => res.text().then(() => (res.ok ? undefined : forget())), forget));
  };
  const seen = r.written.get(key);
  if (!seen) return void create(1, now);
  const count = ++seen.count;
  const events = client.resource("events", namespace);
  // The event may have expired meanwhile: then it is written anew, keeping its count.
  seen.last = seen.last.then(() =>
    events.patch(seen.name, { count, lastTimestamp: now, message: agg.message }, "strategic").then(
      () => undefined,
      () => (r.written.get(key) === seen ? create(count, seen.firstTimestamp) : undefined),
    ),
  );
}
