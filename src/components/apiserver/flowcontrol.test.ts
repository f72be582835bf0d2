// Flow control with handlers the test holds open: budgets, fair shares, queues, 429s, exemption.
import { expect, test } from "bun:test";
import { held } from "../../../test/helpers/held.ts";
import { FlowControl, isLongRunning } from "./flowcontrol.ts";

const req = (token: string, method = "GET", path = "/api/v1/namespaces/default/pods") =>
  new Request(`https://kube${path}`, { method, headers: { authorization: `Bearer ${token}` } });

const flow = (opts = {}) =>
  new FlowControl((r) => r.headers.get("authorization") === "Bearer admin", {
    maxReadOnly: 4,
    maxMutating: 2,
    clientShare: 0.5,
    queueLength: 1,
    queueWaitMs: 60_000,
    ...opts,
  });

test("one client holds at most its share; its next request waits, the one after is a 429 with upstream's Status", async () => {
  const f = flow();
  const a = [held(), held(), held()];
  const running = a.map((h) => f.run(req("flood"), h.handle));
  await Promise.resolve();
  expect(a.map((h) => h.started())).toEqual([true, true, false]);
  const rejected = await f.run(req("flood"), async () => new Response("never"));
  expect(rejected.status).toBe(429);
  expect(rejected.headers.get("retry-after")).toBe("1");
  expect(await rejected.text()).toBe(
    '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Too many requests, please try again later.","reason":"TooManyRequests","details":{"retryAfterSeconds":1},"code":429}\n',
  );
  a[0]!.finish();
  await running[0];
  await Bun.sleep(0);
  expect(a[2]!.started()).toBe(true);
  a[1]!.finish();
  a[2]!.finish();
  expect((await Promise.all(running)).map((r) => r.status)).toEqual([200, 200, 200]);
});

test("while one client floods, another client and the exempt admin are served at once", async () => {
  const f = flow();
  const flood = [held(), held()];
  const running = flood.map((h) => f.run(req("flood"), h.handle));
  const other = await f.run(req("other"), async () => new Response("served"));
  expect(await other.text()).toBe("served");
  // Fill the whole budget with two more clients: the admin still passes.
  const more = [held(), held()];
  const filling = [f.run(req("c"), more[0]!.handle), f.run(req("d"), more[1]!.handle)];
  const admin = await f.run(req("admin"), async () => new Response("admin"));
  expect(await admin.text()).toBe("admin");
  for (const h of [...flood, ...more]) h.finish();
  await Promise.all([...running, ...filling]);
});

test("a request answered at once runs only where it would not wait: exempt, or a seat free with no one queued", async () => {
  const f = flow();
  const now = (r: Request) => f.runNow(r, () => new Response("now"))?.status;
  expect(now(req("a", "GET", "/api/v1/namespaces/default/pods/p"))).toBe(200);
  // Not for writes, queries (a watch, a list's options) or long-running paths: those go through run().
  expect(now(req("a", "POST"))).toBeUndefined();
  expect(now(req("a", "GET", "/api/v1/namespaces/default/pods?watch=1"))).toBeUndefined();
  expect(now(req("a", "GET", "/api/v1/namespaces/default/pods/p/exec"))).toBeUndefined();
  const flood = [held(), held(), held()];
  const running = flood.map((h) => f.run(req("flood"), h.handle));
  await Promise.resolve();
  // "flood" holds its share and has one queued: neither it nor anyone else jumps the queue.
  expect(now(req("flood", "GET", "/api/v1/namespaces/default/pods/p"))).toBeUndefined();
  expect(now(req("other", "GET", "/api/v1/namespaces/default/pods/p"))).toBeUndefined();
  expect(now(req("admin", "POST"))).toBe(200);
  for (const h of flood) h.finish();
  await Promise.all(running);
  expect(now(req("flood", "GET", "/api/v1/namespaces/default/pods/p"))).toBe(200);
});

test("mutating requests have their own budget, and a queued request gives up with a 429 after the wait", async () => {
  const f = flow({ queueWaitMs: 50 });
  const writes = [held(), held()];
  const running = [f.run(req("w", "POST"), writes[0]!.handle), f.run(req("x", "DELETE"), writes[1]!.handle)];
  const read = await f.run(req("w"), async () => new Response("read"));
  expect(read.status).toBe(200);
  const waited = await f.run(req("y", "PATCH"), async () => new Response("never"));
  expect(waited.status).toBe(429);
  for (const h of writes) h.finish();
  await Promise.all(running);
});

test("watches are long-running: not in flight, but at most N open per client, freed when they end", async () => {
  const f = flow({ maxLongRunningPerClient: 2 });
  const watch = () => req("w", "GET", "/api/v1/pods?watch=true");
  const streams: ReadableStreamDefaultController<Uint8Array>[] = [];
  const open = () =>
    f.run(watch(), async () => new Response(new ReadableStream<Uint8Array>({ start: (c) => void streams.push(c) })));
  const [w1, w2] = [await open(), await open()];
  expect((await open()).status).toBe(429);
  // Plain requests of the same client are not held back by its watches.
  expect((await f.run(req("w"), async () => new Response("ok"))).status).toBe(200);
  streams[0]!.close();
  await w1.text();
  expect((await open()).status).toBe(200);
  await w2.body!.cancel();
  expect((await open()).status).toBe(200);
  expect((await open()).status).toBe(429);
});

test("long-running requests as kube-apiserver counts them", () => {
  const lr = (path: string, headers: Record<string, string> = {}) =>
    isLongRunning(new Request(`https://k${path}`, { headers }), new URL(`https://k${path}`));
  expect(lr("/api/v1/pods?watch=true")).toBe(true);
  expect(lr("/api/v1/pods?watch=1")).toBe(true);
  expect(lr("/api/v1/watch/pods")).toBe(true);
  expect(lr("/api/v1/namespaces/d/pods/p/log?follow=true")).toBe(true);
  expect(lr("/api/v1/namespaces/d/pods/p/exec?command=ls")).toBe(true);
  expect(lr("/api/v1/namespaces/d/pods/p/log")).toBe(false);
  expect(lr("/api/v1/pods?watch=false")).toBe(false);
  expect(lr("/api/v1/pods")).toBe(false);
});
