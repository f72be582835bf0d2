// Shared informers against the real API server: one list and one watch for all handles of a
// resource, each handle with its own handlers, resync period and stop.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { KubeObject } from "../api/types.ts";
import { createClient } from "./client.ts";
import { keyOf } from "./informer.ts";
import { type SharedInformer, SharedInformerFactory } from "./shared-informers.ts";
import { startTestApi, TEST_TOKEN, type TestApi } from "../../test/helpers/api.ts";
import { waitFor } from "../../test/helpers/wait.ts";
import { inProcessTransport } from "./transport.ts";
import type { Client } from "./types.ts";

let api: TestApi;
let client: Client;
/** Lists and watches of configmaps made through `client`. */
const requests = { lists: 0, watches: 0 };
beforeAll(async () => {
  api = await startTestApi();
  const inProcess = inProcessTransport(api.fetch, TEST_TOKEN);
  client = createClient({
    baseUrl: inProcess.baseUrl,
    fetch: (req) => {
      const url = new URL(req.url);
      if (req.method === "GET" && url.pathname.endsWith("/configmaps"))
        requests[url.searchParams.get("watch") ? "watches" : "lists"]++;
      return inProcess.fetch(req);
    },
  });
});
afterAll(() => api.close());

const cm = (name: string, v: string): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name },
  data: { v },
});

/** Records one handle's handler calls as readable strings. */
function recorder(inf: SharedInformer<KubeObject>) {
  const log: string[] = [];
  const off = inf.on({
    add: (o) => log.push(`add ${keyOf(o)}`),
    update: (old, o) =>
      log.push(
        `update ${keyOf(o)} ${(old.data as Record<string, string>)?.v}->${(o.data as Record<string, string>)?.v}`,
      ),
    delete: (o) => log.push(`delete ${keyOf(o)}`),
  });
  return { log, off };
}

let nsCount = 0;
/** A fresh namespace, its configmaps client and a factory of its own. */
async function setup() {
  const ns = `shared-${++nsCount}`;
  await client.resource("namespaces").create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  return { ns, cms: client.resource("configmaps", ns), factory: new SharedInformerFactory(client) };
}

/** Two started and synced handles on the factory's configmaps informer, the first with `optsA`, and their logs. */
async function twoHandles(factory: SharedInformerFactory, optsA: { resyncMs?: number } = {}) {
  const a = factory.informer("configmaps", optsA);
  const b = factory.informer("configmaps");
  const la = recorder(a).log;
  const lb = recorder(b).log;
  a.start();
  b.start();
  await Promise.all([a.waitForSync(), b.waitForSync()]);
  return { a, b, la, lb };
}

describe("SharedInformerFactory", () => {
  test("two handles of one resource share one list and one watch; each gets adds, updates and deletes", async () => {
    const { ns, cms, factory } = await setup();
    const before = { ...requests };
    const { la, lb } = await twoHandles(factory);
    await cms.create(cm("x", "1"));
    await cms.update({ ...(await cms.get("x")), data: { v: "2" } });
    await cms.delete("x");
    const want = [`add ${ns}/x`, `update ${ns}/x 1->2`, `delete ${ns}/x`];
    const mine = (log: string[]) => log.filter((l) => l.includes(`${ns}/`));
    await waitFor("both handles saw the delete", () => mine(la).length === 3 && mine(lb).length === 3);
    expect({ a: mine(la), b: mine(lb) }).toEqual({ a: want, b: want });
    expect({ lists: requests.lists - before.lists, watches: requests.watches - before.watches }).toEqual({
      lists: 1,
      watches: 1,
    });
    expect(factory.size).toBe(1);
    factory.stop();
  });

  test("other selectors are another informer", async () => {
    const factory = new SharedInformerFactory(client);
    factory.informer("configmaps");
    factory.informer("configmaps", { labelSelector: "a=b" });
    factory.informer("configmaps", { resyncMs: 10 });
    expect(factory.size).toBe(2);
    factory.stop();
  });

  test("each handle is resynced on its own period", async () => {
    const { ns, cms, factory } = await setup();
    await cms.create(cm("r", "1"));
    const often = factory.informer("configmaps", { resyncMs: 20 });
    const never = factory.informer("configmaps");
    const lo = recorder(often).log;
    const ln = recorder(never).log;
    often.start();
    await waitFor(
      "three resyncs of the frequent handle",
      () => lo.filter((l) => l === `update ${ns}/r 1->1`).length >= 3,
    );
    expect(ln.filter((l) => l.includes(`${ns}/`))).toEqual([`add ${ns}/r`]);
    factory.stop();
  });

  test("a handle added after the sync first gets add() for every cached object", async () => {
    const { ns, cms, factory } = await setup();
    await cms.create(cm("e1", "1"));
    await cms.create(cm("e2", "1"));
    const first = factory.informer("configmaps");
    first.start();
    await first.waitForSync();
    const late = factory.informer("configmaps");
    const { log } = recorder(late);
    expect(log.filter((l) => l.includes(`${ns}/`)).sort()).toEqual([`add ${ns}/e1`, `add ${ns}/e2`]);
    await cms.create(cm("e3", "1"));
    await waitFor("the late handle sees a new object", () => log.includes(`add ${ns}/e3`));
    factory.stop();
  });

  test("stopping one handle leaves the others running; the watch ends with the last one", async () => {
    const { ns, cms, factory } = await setup();
    const { a, b, la, lb } = await twoHandles(factory, { resyncMs: 20 });
    a.stop();
    await cms.create(cm("s", "1"));
    await waitFor("the running handle sees the create", () => lb.includes(`add ${ns}/s`));
    // A stopped handle gets nothing more, not even its resyncs.
    await Bun.sleep(60);
    expect(la.filter((l) => l.includes(`${ns}/`))).toEqual([]);
    expect(b.get(`${ns}/s`)?.data).toEqual({ v: "1" });
    expect(factory.size).toBe(1);
    b.stop();
    expect(factory.size).toBe(0);
    // A new handle after that starts a new shared informer.
    const c = factory.informer("configmaps");
    c.start();
    await c.waitForSync();
    expect(c.get(`${ns}/s`)?.data).toEqual({ v: "1" });
    factory.stop();
  });

  test("an indexer of a name already there is the one kept", async () => {
    const { ns, cms, factory } = await setup();
    await cms.create(cm("i", "1"));
    const a = factory.informer("configmaps");
    const b = factory.informer("configmaps");
    a.addIndexer("v", (o) => [String((o.data as Record<string, string>)?.v)]);
    b.addIndexer("v", () => ["other"]);
    a.start();
    await a.waitForSync();
    expect(b.byIndex("v", "1").map(keyOf)).toContain(`${ns}/i`);
    expect(b.byIndex("v", "other")).toEqual([]);
    factory.stop();
  });
});
