// The event recorder as client-go's EventCorrelator: repeats bump count and lastTimestamp of one
// event, many similar events become one combined event, and a flood on one object is cut off.
import { afterAll, expect, test } from "bun:test";
import { createClient, inProcessTransport } from "../../src/client/index.ts";
import { eventCacheSize, forgetEvents, Lru, recordEvent, shareEventCache } from "../../src/components/events.ts";
import { startTestApi, TEST_TOKEN } from "../helpers/api.ts";
import { waitFor } from "../helpers/wait.ts";

const api = await startTestApi();
afterAll(() => api.close());
const newClient = () => createClient(inProcessTransport(api.fetch, TEST_TOKEN));
type Ev = {
  metadata: { name: string };
  count: number;
  message: string;
  firstTimestamp: string;
  lastTimestamp: string;
  involvedObject: { name: string };
};
const eventsOf = async (client: ReturnType<typeof newClient>, name: string) =>
  ((await client.resource("events", "default").list()).items as unknown as Ev[]).filter(
    (e) => e.involvedObject.name === name,
  );
const pod = (name: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default", uid: `uid-${name}` },
});

test("the same event recorded again is one event whose count and lastTimestamp grow", async () => {
  const client = newClient();
  for (let i = 0; i < 3; i++)
    recordEvent(client, "kubelet", pod("repeat"), "Warning", "BackOff", "Back-off restarting failed container");
  const [ev] = await waitFor("one event counted 3 times", async () => {
    const evs = await eventsOf(client, "repeat");
    return evs.length === 1 && evs[0]!.count === 3 ? evs : undefined;
  });
  expect(ev!.message).toBe("Back-off restarting failed container");
  expect(ev!.lastTimestamp >= ev!.firstTimestamp).toBe(true);
});

test("more than ten similar events (same reason, other messages) are combined into one", async () => {
  const client = newClient();
  for (let i = 0; i < 15; i++)
    recordEvent(client, "replicaset-controller", pod("similar"), "Normal", "SuccessfulCreate", `Created pod: web-${i}`);
  const evs = await waitFor("ten plain events and one combined", async () => {
    const evs = await eventsOf(client, "similar");
    const combined = evs.find((e) => e.message.startsWith("(combined from similar events): "));
    return evs.length === 11 && combined?.count === 5 ? evs : undefined;
  });
  expect(evs.find((e) => e.message.startsWith("(combined"))!.message).toBe(
    "(combined from similar events): Created pod: web-14",
  );
});

test("a flood of events on one object stops at the burst of 25", async () => {
  const client = newClient();
  for (let i = 0; i < 40; i++)
    recordEvent(client, "kubelet", pod("flood"), "Normal", "Pulled", "Container image already present on machine");
  await waitFor("count 25", async () => (await eventsOf(client, "flood"))[0]?.count === 25);
  // Nothing more arrives for the 15 that were dropped.
  recordEvent(client, "kubelet", pod("other"), "Normal", "Pulled", "x");
  await waitFor("other object's event", async () => (await eventsOf(client, "other")).length === 1);
  expect((await eventsOf(client, "flood")).map((e) => e.count)).toEqual([25]);
});

test("an event deleted (expired) meanwhile is written anew with its count", async () => {
  const client = newClient();
  recordEvent(client, "kubelet", pod("expired"), "Normal", "Killing", "Stopping container c");
  const [first] = await waitFor("first", async () =>
    (await eventsOf(client, "expired")).length === 1 ? eventsOf(client, "expired") : undefined,
  );
  await client.resource("events", "default").delete(first!.metadata.name);
  recordEvent(client, "kubelet", pod("expired"), "Normal", "Killing", "Stopping container c");
  const [again] = await waitFor("rewritten", async () =>
    (await eventsOf(client, "expired"))[0]?.count === 2 ? eventsOf(client, "expired") : undefined,
  );
  expect(again!.metadata.name).not.toBe(first!.metadata.name);
});

test("an event the server refuses (its namespace does not exist yet) is forgotten: the next is created anew", async () => {
  const client = newClient();
  const lost = { ...pod("refused"), metadata: { name: "refused", namespace: "later", uid: "uid-refused" } };
  recordEvent(client, "kubelet", lost, "Normal", "Pulled", "Pulled container c");
  // In process, the refusal (admission, before the store) is answered before this create commits.
  await client.resource("namespaces").create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "later" } });
  recordEvent(client, "kubelet", lost, "Normal", "Pulled", "Pulled container c");
  const evs = await waitFor("one event in the new namespace", async () => {
    const items = (await client.resource("events", "later").list()).items as unknown as Ev[];
    return items.length === 1 ? items : undefined;
  });
  expect(evs[0]!.count).toBe(1);
});

test("forgetting a deleted object empties the recorder's caches of it; other objects' entries stay", async () => {
  const client = newClient();
  for (const reason of ["Pulled", "Created", "Started"]) {
    recordEvent(client, "kubelet", pod("gone"), "Normal", reason, `${reason} container c`);
    recordEvent(client, "kubelet", pod("kept"), "Normal", reason, `${reason} container c`);
  }
  await waitFor(
    "six events",
    async () => (await eventsOf(client, "gone")).length + (await eventsOf(client, "kept")).length === 6,
  );
  const both = eventCacheSize(client);
  forgetEvents(client, pod("gone"));
  expect(eventCacheSize(client)).toBe(both / 2);
  forgetEvents(client, pod("kept"));
  expect(eventCacheSize(client)).toBe(0);
  // Still counted as before for an object recorded again (a new entry, hence a new event).
  recordEvent(client, "kubelet", pod("kept"), "Normal", "Pulled", "Pulled container c");
  await waitFor("a new event", async () => (await eventsOf(client, "kept")).length === 4);
});

test("clients sharing one event cache (hollow kubelets) count each other's repeats and forget together", async () => {
  const [a, b] = [newClient(), newClient()];
  shareEventCache([a, b]);
  recordEvent(a, "kubelet", pod("shared"), "Normal", "Pulled", "Pulled container c");
  await waitFor("first event", async () => (await eventsOf(a, "shared")).length === 1);
  recordEvent(b, "kubelet", pod("shared"), "Normal", "Pulled", "Pulled container c");
  await waitFor("one event counted twice", async () => (await eventsOf(a, "shared"))[0]?.count === 2);
  expect(await eventsOf(a, "shared")).toHaveLength(1);
  expect(eventCacheSize(b)).toBe(eventCacheSize(a));
  expect(eventCacheSize(a)).toBeGreaterThan(0);
  forgetEvents(b, pod("shared"));
  expect(eventCacheSize(a)).toBe(0);
});

test("the recorder's caches forget their least recently used key first, as a reference list does", () => {
  const lru = new Lru<number>(5);
  let order: string[] = []; // oldest first
  const touch = (k: string) => {
    order = [...order.filter((x) => x !== k), k];
  };
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let i = 0; i < 5000; i++) {
    const key = `k${Math.floor(random() * 12)}`;
    const op = random();
    if (op < 0.4) {
      expect(lru.get(key) !== undefined).toBe(order.includes(key));
      if (order.includes(key)) touch(key);
    } else if (op < 0.9) {
      lru.set(key, i);
      touch(key);
      if (order.length > 5) order = order.slice(1);
    } else {
      lru.delete(key);
      order = order.filter((x) => x !== key);
    }
    expect(lru.keys()).toEqual(order);
  }
});
