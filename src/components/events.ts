// Recording Events (what `kubectl describe` shows) for any component, with client-go's
// EventCorrelator in small: a repeat of the same event (same object, type, reason, message,
// source) within the cache's life bumps `count` and `lastTimestamp` of the event already written
// instead of writing another; more than 10 events with the same object, type and reason but
// different messages within 10 minutes become one "(combined from similar events)" event; a
// per-object token bucket (burst 25, one more every 5 minutes) drops floods. Best effort: an event
// that cannot be written is dropped, never retried, and never fails the caller.
import { rfc3339 } from "../api/time.ts";
import type { KubeObject } from "../api/types.ts";
import type { Client } from "../client/index.ts";
import { apiVersionOf, resolveKind } from "../api/registry.ts";

export type EventType = "Normal" | "Warning";

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
class Lru<V> {
  private readonly map = new Map<string, V>();
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
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }
  delete(key: string): void {
    this.map.delete(key);
  }
}

/** The correlator of one client (one component's recorder). */
class Correlator {
  readonly written = new Lru<Written>(CACHE_ENTRIES);
  readonly similar = new Lru<{ messages: Set<string>; since: number }>(CACHE_ENTRIES);
  readonly buckets = new Lru<{ tokens: number; at: number }>(CACHE_ENTRIES);

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
  if (!c.allow(objectKey, nowMs)) return;

  const agg = c.aggregate([component, objectKey, type, reason].join("|"), message, nowMs);
  const key = [component, objectKey, type, reason, agg.combined ? "" : agg.message].join("|");
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
    return (written.last = events.create(event).catch(() => c.written.delete(key)));
  };
  const seen = c.written.get(key);
  if (!seen) return void create(1, now);
  const count = ++seen.count;
  // The event may have expired meanwhile: then it is written anew, keeping its count.
  seen.last = seen.last.then(() =>
    events
      .patch(seen.name, { count, lastTimestamp: now, message: agg.message }, "strategic")
      .catch(() => (c.written.get(key) === seen ? create(count, seen.firstTimestamp) : undefined)),
  );
}
