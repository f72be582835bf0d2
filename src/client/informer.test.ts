// The Informer against the real API server and store: sync, events, selectors, indexes, resync,
// and recovery from a cut network and a compacted change log (410 -> relist).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { KubeObject } from "../api/types.ts";
import { createClient } from "./client.ts";
import { Informer, keyOf, type RelistInfo, splitKey } from "./informer.ts";
import { startTestApi, TEST_TOKEN, type TestApi } from "../../test/helpers/api.ts";
import { cuttableTransport } from "../../test/helpers/transport.ts";
import { waitFor } from "../../test/helpers/wait.ts";
import { httpTransport, inProcessTransport, type Transport } from "./transport.ts";
import type { Client } from "./types.ts";

let api: TestApi;
let inProcess: Transport;
let http: Transport;
let client: Client;
beforeAll(async () => {
  api = await startTestApi();
  const served = await api.listen();
  inProcess = inProcessTransport(api.fetch, TEST_TOKEN);
  http = httpTransport(served.url, TEST_TOKEN, { ca: served.ca });
  client = createClient(inProcess);
});
afterAll(() => api.close());

const cm = (name: string, labels: Record<string, string> = {}, data: Record<string, string> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, labels },
  data,
});

/** Records handler calls as readable strings. */
function recorder(inf: Informer<KubeObject>) {
  const log: string[] = [];
  inf.on({
    add: (o) => log.push(`add ${keyOf(o)}`),
    update: (old, o) =>
      log.push(
        `update ${keyOf(o)} ${(old.data as Record<string, string>)?.v ?? ""}->${(o.data as Record<string, string>)?.v ?? ""}`,
      ),
    delete: (o) => log.push(`delete ${keyOf(o)}`),
  });
  return log;
}

let nsCount = 0;
async function freshNamespace(): Promise<string> {
  const name = `inf-${++nsCount}`;
  await client.resource("namespaces").create({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
  return name;
}

describe("keyOf", () => {
  test("namespace/name for namespaced objects, name for cluster-scoped ones", () => {
    expect(keyOf({ metadata: { namespace: "ns", name: "a" } })).toBe("ns/a");
    expect(keyOf({ metadata: { name: "node-1" } })).toBe("node-1");
    expect(splitKey("ns/a")).toEqual({ namespace: "ns", name: "a" });
    expect(splitKey("node-1")).toEqual({ name: "node-1" });
  });
});

describe("Informer", () => {
  test("lists existing objects as adds, syncs, then follows creates, updates and deletes", async () => {
    const ns = await freshNamespace();
    const cms = client.resource("configmaps", ns);
    await cms.create(cm("before", {}, { v: "1" }));
    const inf = new Informer(cms);
    const log = recorder(inf);
    inf.start();
    await inf.waitForSync();
    expect(inf.hasSynced()).toBe(true);
    expect(log).toEqual([`add ${ns}/before`]);

    await cms.create(cm("after", {}, { v: "1" }));
    await cms.patch("before", { data: { v: "2" } }, "merge");
    await cms.delete("after");
    await waitFor("events", () => log.length === 4);
    expect(log).toEqual([`add ${ns}/before`, `add ${ns}/after`, `update ${ns}/before 1->2`, `delete ${ns}/after`]);
    expect(inf.list().map(keyOf)).toEqual([`${ns}/before`]);
    expect((inf.get(`${ns}/before`)!.data as Record<string, string>).v).toBe("2");
    expect(inf.get(`${ns}/after`)).toBeUndefined();
    inf.stop();
  });

  test("a label selector limits the cache; an object that stops matching is deleted from it", async () => {
    const ns = await freshNamespace();
    const cms = client.resource("configmaps", ns);
    const inf = new Informer(cms, { labelSelector: "team=a" });
    const log = recorder(inf);
    inf.start();
    await inf.waitForSync();
    await cms.create(cm("mine", { team: "a" }));
    await cms.create(cm("theirs", { team: "b" }));
    await cms.patch("mine", { metadata: { labels: { team: "b" } } }, "merge");
    await waitFor("events", () => log.length === 2);
    expect(log).toEqual([`add ${ns}/mine`, `delete ${ns}/mine`]);
    expect(inf.list()).toEqual([]);
    inf.stop();
  });

  test("cached objects are frozen: handlers must copy before changing", async () => {
    const ns = await freshNamespace();
    const cms = client.resource("configmaps", ns);
    await cms.create(cm("frozen", {}, { v: "1" }));
    const inf = new Informer(cms);
    inf.start();
    await inf.waitForSync();
    const obj = inf.get(`${ns}/frozen`)!;
    expect(() => {
      (obj.data as Record<string, string>).v = "changed";
    }).toThrow();
    const copy = structuredClone(obj);
    (copy.data as Record<string, string>).v = "changed";
    expect((inf.get(`${ns}/frozen`)!.data as Record<string, string>).v).toBe("1");
    inf.stop();
  });

  test("informers of one process share one copy of each object version (listed or watched); transformed ones keep their own", async () => {
    const ns = await freshNamespace();
    const cms = client.resource("configmaps", ns);
    await cms.create(cm("shared", {}, { v: "1" }));
    const a = new Informer(cms);
    const b = new Informer(client.resource("configmaps", ns), { pageSize: 0 });
    const meta = new Informer(cms, { transform: (o) => ({ ...o, data: undefined }) });
    for (const i of [a, b, meta]) i.start();
    await Promise.all([a, b, meta].map((i) => i.waitForSync()));
    const key = `${ns}/shared`;
    expect(a.get(key)).toBe(b.get(key)!);
    expect(meta.get(key)).not.toBe(a.get(key)!);
    expect(meta.get(key)!.data).toBeUndefined();
    await cms.patch("shared", { data: { v: "2" } }, "merge");
    const v2 = (i: Informer<KubeObject>) => (i.get(key)?.data as Record<string, string> | undefined)?.v === "2";
    await waitFor("both informers see v2", () => v2(a) && v2(b));
    expect(a.get(key)).toBe(b.get(key)!);
    expect(Object.isFrozen(a.get(key)!.data)).toBe(true);
    for (const i of [a, b, meta]) i.stop();
  });

  test("stripManagedFields caches objects without managedFields, shared among stripping informers only", async () => {
    const ns = await freshNamespace();
    const cms = client.resource("configmaps", ns);
    await cms.create(cm("managed", {}, { v: "1" }), { fieldManager: "tester" });
    const full = new Informer(cms);
    const a = new Informer(cms, { stripManagedFields: true });
    const b = new Informer(client.resource("configmaps", ns), { stripManagedFields: true, pageSize: 0 });
    for (const i of [full, a, b]) i.start();
    await Promise.all([full, a, b].map((i) => i.waitForSync()));
    const key = `${ns}/managed`;
    expect(full.get(key)!.metadata!.managedFields).toHaveLength(1);
    expect(a.get(key)!.metadata!.managedFields).toBeUndefined();
    expect(a.get(key)).toBe(b.get(key)!);
    await cms.patch("managed", { data: { v: "2" } }, "merge", { fieldManager: "tester" });
    const v2 = (i: Informer<KubeObject>) => (i.get(key)?.data as Record<string, string> | undefined)?.v === "2";
    await waitFor("all informers see v2", () => v2(full) && v2(a) && v2(b));
    expect(full.get(key)!.metadata!.managedFields!.length).toBeGreaterThan(0);
    expect(a.get(key)!.metadata!.managedFields).toBeUndefined();
    expect(a.get(key)).toBe(b.get(key)!);
    expect(Object.isFrozen(a.get(key)!.metadata)).toBe(true);
    for (const i of [full, a, b]) i.stop();
  });

  test("handlers registered after sync first receive every cached object as an add", async () => {
    const ns = await freshNamespace();
    const cms = client.resource("configmaps", ns);
    await cms.create(cm("x"));
    const inf = new Informer(cms);
    inf.start();
    await inf.waitForSync();
    const log = recorder(inf);
    expect(log).toEqual([`add ${ns}/x`]);
    inf.stop();
  });

  test("an index finds objects by a computed value and follows changes", async () => {
    const ns = await freshNamespace();
    const cms = client.resource("configmaps", ns);
    const inf = new Informer(cms);
    inf.addIndexer("tier", (o) => (o.metadata?.labels?.tier ? [o.metadata.labels.tier] : []));
    inf.start();
    await inf.waitForSync();
    await cms.create(cm("f1", { tier: "front" }));
    await cms.create(cm("f2", { tier: "front" }));
    await cms.create(cm("b1", { tier: "back" }));
    await waitFor("three objects", () => inf.list().length === 3);
    expect(inf.byIndex("tier", "front").map(keyOf).sort()).toEqual([`${ns}/f1`, `${ns}/f2`]);
    await cms.patch("f2", { metadata: { labels: { tier: "back" } } }, "merge");
    await cms.delete("b1");
    await waitFor("index update", () => inf.list().length === 2 && inf.byIndex("tier", "back").length === 1);
    expect(inf.byIndex("tier", "back").map(keyOf)).toEqual([`${ns}/f2`]);
    expect(inf.byIndex("tier", "front").map(keyOf)).toEqual([`${ns}/f1`]);
    expect(inf.byIndex("tier", "none")).toEqual([]);
    inf.stop();
  });

  test("resync calls update(obj, obj) for every cached object", async () => {
    const ns = await freshNamespace();
    const cms = client.resource("configmaps", ns);
    await cms.create(cm("r", {}, { v: "1" }));
    const inf = new Informer(cms, { resyncMs: 10 });
    const log = recorder(inf);
    inf.start();
    await waitFor("two resyncs", () => log.filter((l) => l === `update ${ns}/r 1->1`).length >= 2);
    inf.stop();
  });

  test("a resync of a big cache lets the event loop run between batches", async () => {
    const ns = await freshNamespace();
    const cms = client.resource("configmaps", ns);
    const n = 1200;
    for (let i = 0; i < n; i += 100)
      await Promise.all(Array.from({ length: 100 }, (_, j) => cms.create(cm(`r${i + j}`, {}, { v: "1" }))));
    const inf = new Informer(cms, { resyncMs: 50 });
    inf.start();
    await inf.waitForSync();
    // Immediates that ran while each resync update was delivered: 0 for all of them when one pass is one turn.
    let turns = 0;
    let counting = true;
    const turn = () => {
      turns++;
      if (counting) setImmediate(turn);
    };
    const seenAt: number[] = [];
    inf.on({ update: (a, b) => a === b && seenAt.push(turns) });
    setImmediate(turn);
    await waitFor("one whole resync", () => seenAt.length >= n);
    counting = false;
    expect(seenAt[n - 1]! - seenAt[0]!).toBeGreaterThanOrEqual(1);
    inf.stop();
  });

  test("lists in pages and still sees every object", async () => {
    const ns = await freshNamespace();
    const cms = client.resource("configmaps", ns);
    for (let i = 0; i < 7; i++) await cms.create(cm(`p${i}`));
    const inf = new Informer(cms, { pageSize: 3 });
    inf.start();
    await inf.waitForSync();
    expect(inf.list().length).toBe(7);
    inf.stop();
  });

  test("a big list and a late registration on a big cache let the event loop run; later events come after the replay", async () => {
    const ns = await freshNamespace();
    const cms = client.resource("configmaps", ns);
    const n = 1200;
    for (let i = 0; i < n; i += 100)
      await Promise.all(Array.from({ length: 100 }, (_, j) => cms.create(cm(`c${i + j}`, {}, { v: "1" }))));
    // Immediates run only when the event loop gets a turn: while the list is pages of promises, they wait.
    let turns = 0;
    let syncing = true;
    const turn = () => {
      turns++;
      if (syncing) setImmediate(turn);
    };
    setImmediate(turn);
    const inf = new Informer(cms, { pageSize: 100 });
    inf.start();
    await inf.waitForSync();
    syncing = false;
    expect(inf.list().length).toBe(n);
    expect(turns).toBeGreaterThanOrEqual(n / 100 - 1);

    const log = recorder(inf);
    expect(log.length).toBeLessThan(n); // not all in one go
    await cms.patch("c0", { data: { v: "2" } }, "merge");
    await waitFor("replay and update", () => log.length === n + 1);
    expect(new Set(log.slice(0, n))).toEqual(new Set(Array.from({ length: n }, (_, i) => `add ${ns}/c${i}`)));
    expect(log[n]).toBe(`update ${ns}/c0 1->2`);
    inf.stop();
  });

  test("over HTTP, re-watches from the last resourceVersion when the server ends a watch, without relisting", async () => {
    const ns = await freshNamespace();
    const cms = createClient(http).resource("configmaps", ns);
    const direct = client.resource("configmaps", ns);
    let lists = 0;
    let watches = 0;
    const origList = cms.list.bind(cms);
    const origWatch = cms.watch.bind(cms);
    cms.list = (o) => (lists++, origList(o));
    cms.watch = (o) => (watches++, origWatch(o));
    const inf = new Informer(cms, { watchTimeoutSeconds: 1 });
    const log = recorder(inf);
    inf.start();
    await inf.waitForSync();
    await direct.create(cm("first"));
    await waitFor("first event", () => log.length === 1);
    await waitFor("a second watch", () => watches >= 2, 5000);
    await direct.create(cm("second"));
    await waitFor("second event", () => log.length === 2);
    expect(log).toEqual([`add ${ns}/first`, `add ${ns}/second`]);
    expect(lists).toBe(1);
    inf.stop();
  });

  test("after a network cut it reconnects and resumes from the last resourceVersion without a relist", async () => {
    const ns = await freshNamespace();
    const net = cuttableTransport(inProcess);
    const cms = createClient(net).resource("configmaps", ns);
    const direct = client.resource("configmaps", ns);
    const errors: unknown[] = [];
    const inf = new Informer(cms, { onError: (e) => errors.push(e) });
    const log = recorder(inf);
    let lists = 0;
    const origList = cms.list.bind(cms);
    cms.list = (o) => (lists++, origList(o));
    inf.start();
    await inf.waitForSync();
    net.cut();
    await direct.create(cm("while-cut"));
    await waitFor("a failed reconnect", () => errors.length >= 1);
    net.heal();
    await waitFor("the event written while cut", () => log.includes(`add ${ns}/while-cut`));
    expect(lists).toBe(1);
    expect(inf.relists).toBe(0);
    inf.stop();
  });

  test("when its resourceVersion was compacted away it relists and emits the differences", async () => {
    const ns = await freshNamespace();
    const net = cuttableTransport(inProcess);
    const cms = createClient(net).resource("configmaps", ns);
    const direct = client.resource("configmaps", ns);
    await direct.create(cm("kept", {}, { v: "1" }));
    await direct.create(cm("changed", {}, { v: "1" }));
    await direct.create(cm("removed", {}, { v: "1" }));
    const relists: RelistInfo[] = [];
    const inf = new Informer(cms, { onError: () => {}, onRelist: (r) => relists.push(r) });
    const log = recorder(inf);
    let lists = 0;
    const origList = cms.list.bind(cms);
    cms.list = (o) => (lists++, origList(o));
    inf.start();
    await inf.waitForSync();
    log.length = 0;

    net.cut();
    await direct.patch("changed", { data: { v: "2" } }, "merge");
    await direct.delete("removed");
    await direct.create(cm("new", {}, { v: "1" }));
    await api.store.compact(await api.store.currentRevision());
    net.heal();

    await waitFor("the differences", () => log.length === 3);
    expect(log.sort()).toEqual([`add ${ns}/new`, `delete ${ns}/removed`, `update ${ns}/changed 1->2`]);
    expect(inf.list().map(keyOf).sort()).toEqual([`${ns}/changed`, `${ns}/kept`, `${ns}/new`]);
    expect(lists).toBe(2);
    // The relist is counted and reported with what it listed and why; the first list is not a relist.
    expect(inf.relists).toBe(1);
    expect(relists.map(({ kind, objects }) => ({ kind, objects }))).toEqual([{ kind: "ConfigMap", objects: 3 }]);
    expect(relists[0]!.reason).toMatch(/410/);
    inf.stop();
  });

  test("watching a quiet resource, it resumes from the bookmark's revision after compaction, without relisting", async () => {
    // Writes elsewhere move the store on while nothing this informer watches changes; the bookmarks carry
    // the store's revision, so when the watch ends after the history before it is compacted, it resumes.
    await using quiet = await startTestApi({ bookmarkIntervalMs: 50 });
    const net = cuttableTransport(inProcessTransport(quiet.fetch, TEST_TOKEN));
    const admin = createClient(inProcessTransport(quiet.fetch, TEST_TOKEN));
    await admin.resource("namespaces").create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "quiet" } });
    const relists: RelistInfo[] = [];
    const inf = new Informer(createClient(net).resource("configmaps", "quiet"), {
      onError: () => {},
      onRelist: (r) => relists.push(r),
    });
    const log = recorder(inf);
    inf.start();
    await inf.waitForSync();
    const busy = admin.resource("configmaps", "default");
    for (let i = 0; i < 20; i++) await busy.create(cm(`busy-${i}`));
    const moved = await quiet.store.currentRevision();
    await waitFor("a bookmark at the store's revision", () => Number(inf.resourceVersion) >= moved);
    net.cut();
    await quiet.store.compact(await quiet.store.currentRevision());
    await admin.resource("configmaps", "quiet").create(cm("after"));
    net.heal();
    await waitFor("the event written while cut", () => log.includes("add quiet/after"));
    expect(relists).toEqual([]);
    inf.stop();
  });

  test("waitForSync rejects when stopped first or aborted", async () => {
    const ns = await freshNamespace();
    const inf = new Informer(client.resource("configmaps", ns));
    const waiting = inf.waitForSync();
    inf.stop();
    expect(await waiting.catch((e) => String(e))).toMatch(/stopped/);
    const inf2 = new Informer(client.resource("configmaps", ns));
    const ac = new AbortController();
    const w2 = inf2.waitForSync(ac.signal);
    ac.abort();
    expect(
      await w2.then(
        () => "resolved",
        () => "rejected",
      ),
    ).toBe("rejected");
  });
});
