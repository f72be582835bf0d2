// The watch cache on a real etcd: many watches of one resource share one etcd stream, each sees
// exactly its own prefix's events in order; a watch resuming inside the window is replayed from
// memory; one from before the window gets a stream of its own and the history from etcd.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startEtcd, type TestEtcd } from "../../../test/helpers/etcd.ts";
import type { WatchEvent, Watcher } from "../types.ts";
import { EtcdStore } from "./store.ts";

let etcd: TestEtcd;
let store: EtcdStore;
beforeAll(async () => {
  etcd = await startEtcd();
  store = await EtcdStore.open({ endpoints: [etcd.endpoint], prefix: "/cache-test" });
});
afterAll(async () => {
  await store?.close();
  await etcd?.stop();
});

async function take(w: Watcher, n: number): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  for await (const ev of w) {
    out.push(ev);
    if (out.length === n) break;
  }
  return out;
}

test("watches of one resource share one etcd stream; resumes inside the window come from memory", async () => {
  const before = await store.create("/registry/pods/ns0/old", "v");
  const watches = Array.from({ length: 50 }, (_, i) => store.watch(`/registry/pods/ns${i % 5}/`));
  const all = store.watch("/registry/pods/");
  expect(store.watchStreams).toBe(1);
  const writes: number[] = [];
  for (let i = 0; i < 10; i++)
    writes.push((await store.create(`/registry/pods/ns${i % 5}/p${i}`, `v${i}`)).modRevision);
  const got = await Promise.all(watches.map((w) => take(w, 2)));
  got.forEach((events, i) => {
    const ns = i % 5;
    expect(events.map((e) => e.kv.key)).toEqual([`/registry/pods/ns${ns}/p${ns}`, `/registry/pods/ns${ns}/p${ns + 5}`]);
  });
  expect((await take(all, 10)).map((e) => e.revision)).toEqual(writes);

  // Resuming after the third write: replayed from the window, no new stream.
  const resumed = store.watch("/registry/pods/", { afterRevision: writes[2] });
  expect(store.watchStreams).toBe(1);
  expect((await take(resumed, 7)).map((e) => e.revision)).toEqual(writes.slice(3));
  // Another resource: its own feed.
  const svc = store.watch("/registry/services/");
  expect(store.watchStreams).toBe(2);
  svc.close();
  // From before the feed began: a stream of its own, with the history from etcd.
  const history = store.watch("/registry/pods/ns0/", { afterRevision: before.modRevision - 1 });
  expect(store.watchStreams).toBe(3);
  expect((await take(history, 3)).map((e) => e.kv.key)).toEqual([
    "/registry/pods/ns0/old",
    "/registry/pods/ns0/p0",
    "/registry/pods/ns0/p5",
  ]);
  for (const w of [...watches, all, resumed, history]) w.close();
});
