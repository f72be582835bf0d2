// Watch over HTTP semantics: events in order from a resourceVersion, initial state for rv 0,
// selector transitions, timeoutSeconds, bookmarks and 410 Expired after compaction.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { pod, readWatch, startTestApi, type TestApi } from "../helpers/api.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ bookmarkIntervalMs: 200 });
});
afterAll(() => api.close());

const cm = (name: string, labels?: Record<string, string>) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, labels },
  data: { v: "1" },
});

test("a watch from a resourceVersion sees every later change in order", async () => {
  const first = (await api.json("POST", "/api/v1/namespaces/default/configmaps", cm("w1"))).body;
  const res = await api.request(
    "GET",
    `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${first.metadata.resourceVersion}`,
  );
  expect(res.status).toBe(200);
  await api.json("POST", "/api/v1/namespaces/default/configmaps", cm("w2"));
  await api.json(
    "PATCH",
    "/api/v1/namespaces/default/configmaps/w1",
    { data: { v: "2" } },
    { "content-type": "application/merge-patch+json" },
  );
  await api.json("DELETE", "/api/v1/namespaces/default/configmaps/w2");
  const events = await readWatch(res, (e) => e.length >= 3);
  expect(events.map((e) => [e.type, e.object.metadata.name])).toEqual([
    ["ADDED", "w2"],
    ["MODIFIED", "w1"],
    ["DELETED", "w2"],
  ]);
  const rvs = events.map((e) => Number(e.object.metadata.resourceVersion));
  expect([...rvs].sort((a, b) => a - b)).toEqual(rvs);
});

test("a watch without resourceVersion starts with the current objects as ADDED", async () => {
  const res = await api.request("GET", "/api/v1/namespaces/default/configmaps?watch=1");
  const events = await readWatch(res, (e) => e.length >= 1);
  expect(events[0].type).toBe("ADDED");
  expect(events[0].object.metadata.name).toBe("w1");
});

test("an object that stops matching the selector is DELETED for the watcher, one that starts is ADDED", async () => {
  const created = (await api.json("POST", "/api/v1/namespaces/default/configmaps", cm("sel", { track: "stable" })))
    .body;
  const res = await api.request(
    "GET",
    `/api/v1/namespaces/default/configmaps?watch=true&labelSelector=track%3Dcanary&resourceVersion=${created.metadata.resourceVersion}`,
  );
  const patch = (track: string) =>
    api.json(
      "PATCH",
      "/api/v1/namespaces/default/configmaps/sel",
      { metadata: { labels: { track } } },
      { "content-type": "application/merge-patch+json" },
    );
  await patch("canary");
  await patch("stable");
  const events = await readWatch(res, (e) => e.length >= 2);
  expect(events.map((e) => e.type)).toEqual(["ADDED", "DELETED"]);
});

test("timeoutSeconds ends the stream", async () => {
  const res = await api.request(
    "GET",
    "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1&timeoutSeconds=1",
  );
  const started = Date.now();
  await res.text();
  expect(Date.now() - started).toBeLessThan(5000);
});

test("allowWatchBookmarks brings BOOKMARK events with the current resourceVersion", async () => {
  const rv = (await api.json("GET", "/api/v1/namespaces/default/configmaps")).body.metadata.resourceVersion;
  const res = await api.request(
    "GET",
    `/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&resourceVersion=${rv}`,
  );
  const events = await readWatch(res, (e) => e.some((x) => x.type === "BOOKMARK"));
  const bm = events.find((e) => e.type === "BOOKMARK");
  expect(bm.object.metadata.resourceVersion).toBe(rv);
});

test("a bookmark 2 s before the watch's deadline carries the store's revision, though the watch saw no event", async () => {
  // The default bookmark interval (a minute) is longer than this watch: only the pre-deadline bookmark comes.
  await using fresh = await startTestApi();
  const rv = (await fresh.json("GET", "/api/v1/namespaces/kube-system/configmaps")).body.metadata.resourceVersion;
  await fresh.json("POST", "/api/v1/namespaces/default/configmaps", cm("elsewhere"));
  const current = String(await fresh.store.currentRevision());
  expect(Number(current)).toBeGreaterThan(Number(rv));
  const res = await fresh.request(
    "GET",
    `/api/v1/namespaces/kube-system/configmaps?watch=true&allowWatchBookmarks=true&timeoutSeconds=3&resourceVersion=${rv}`,
  );
  const events = await readWatch(res, () => false, 10_000);
  expect(events.map((e) => [e.type, e.object.metadata.resourceVersion])).toEqual([["BOOKMARK", current]]);
});

test("pods watched by spec.nodeName see only their node's pods", async () => {
  const rv = (await api.json("GET", "/api/v1/pods")).body.metadata.resourceVersion;
  const res = await api.request(
    "GET",
    `/api/v1/pods?watch=true&fieldSelector=spec.nodeName%3Dnode-a&resourceVersion=${rv}`,
  );
  await api.json("POST", "/api/v1/namespaces/default/pods", pod("on-b", { nodeName: "node-b" }));
  await api.json("POST", "/api/v1/namespaces/default/pods", pod("on-a", { nodeName: "node-a" }));
  const events = await readWatch(res, (e) => e.length >= 1);
  expect(events.map((e) => e.object.metadata.name)).toEqual(["on-a"]);
});

test("a watch from a compacted resourceVersion gets an ERROR event with 410 Expired", async () => {
  await using small = await startTestApi({ compactWindow: 1 });
  for (let i = 0; i < 20; i++) await small.json("POST", "/api/v1/namespaces/default/configmaps", cm(`c${i}`));
  const current = Number(
    (await small.json("GET", "/api/v1/namespaces/default/configmaps")).body.metadata.resourceVersion,
  );
  await small.store.compact(current - 1);
  const res = await small.request("GET", "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=2");
  const events = await readWatch(res, (e) => e.length >= 1);
  expect(events[0].type).toBe("ERROR");
  expect(events[0].object).toMatchObject({ kind: "Status", code: 410, reason: "Expired" });
});

test("a burst of events bigger than one write reaches the watcher whole", async () => {
  // Once the watch reads live events, creates written concurrently commit in one transaction and
  // wait in its buffer together; at 8 KB each they span several 32 KB writes (the events taken
  // past the limit were dropped: a scheduler never saw some pods).
  const start = await api.json("GET", "/api/v1/namespaces/kube-public/configmaps");
  const res = await api.request(
    "GET",
    `/api/v1/namespaces/kube-public/configmaps?watch=true&resourceVersion=${start.body.metadata.resourceVersion}`,
  );
  const names = Array.from({ length: 200 }, (_, i) => `burst-${i}`);
  const big = "x".repeat(8192);
  const seen: string[] = [];
  const burst = new Promise<void>((resolve, reject) => {
    // Read live first (the watch replays its log until then), then write the burst.
    void readWatch(
      res,
      (events) => {
        if (events.length === 1 && seen.length === 0) {
          seen.push("started");
          Promise.all(
            names.map((name) =>
              api.json("POST", "/api/v1/namespaces/kube-public/configmaps", { ...cm(name), data: { v: big } }),
            ),
          ).catch(reject);
        }
        seen.splice(1, Infinity, ...events.map((e) => e.object.metadata.name));
        return events.length > names.length;
      },
      10_000,
    ).then(() => resolve(), reject);
  });
  await api.json("POST", "/api/v1/namespaces/kube-public/configmaps", cm("first"));
  await burst;
  expect(seen.slice(2).sort()).toEqual([...names].sort());
});
