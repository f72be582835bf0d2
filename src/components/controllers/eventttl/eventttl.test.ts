// The event TTL sweep against the real API server, called directly on a clock that stands still
// but for the test's steps: expired events go, and no sweep lists the events before the oldest
// one left can have expired.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createClient, inProcessTransport, type Client } from "../../../client/index.ts";
import { FakeClock } from "../../../../test/helpers/clock.ts";
import { eventAt } from "../../../../test/helpers/controllers.ts";
import { startTestApi, TEST_TOKEN, type TestApi } from "../../../../test/helpers/api.ts";
import { InformerFactory } from "../base.ts";
import { clusterConfig } from "../../config.ts";
import { EventTTLController } from "./index.ts";

const HOUR = 3_600_000;
const MINUTE = 60_000;
const t0 = Date.parse("2026-12-01T12:00:00Z");
const clock = new FakeClock(t0);
let api: TestApi;
let client: Client;
let admin: Client;
/** Lists of events made through `client` (the controller's). */
let lists = 0;
beforeAll(async () => {
  api = await startTestApi();
  const inProcess = inProcessTransport(api.fetch, TEST_TOKEN);
  admin = createClient(inProcess);
  client = createClient({
    baseUrl: inProcess.baseUrl,
    fetch: (req) => {
      const url = new URL(req.url);
      if (req.method === "GET" && url.pathname.endsWith("/events") && !url.searchParams.get("watch")) lists++;
      return inProcess.fetch(req);
    },
  });
});
afterAll(() => api.close());

test("a sweep deletes expired events and lists nothing more until the oldest one left can expire", async () => {
  const events = admin.resource("events", "default");
  const ttl = new EventTTLController({
    client,
    informers: new InformerFactory(client),
    log: () => {},
    config: clusterConfig({ eventTtlMs: HOUR }),
    clock,
  });
  const left = async () => (await events.list()).items.map((e) => e.metadata!.name).sort();
  await events.create(eventAt("a", t0 - 2 * HOUR));
  await events.create(eventAt("b", t0 - 30 * MINUTE));
  await events.create(eventAt("c", t0));

  await ttl.reconcile();
  expect({ lists, left: await left() }).toEqual({ lists: 1, left: ["b", "c"] });
  lists = 0;

  // b expires at t0 + 30 min: nothing before that lists.
  clock.step(29 * MINUTE);
  await ttl.reconcile();
  expect(lists).toBe(0);
  clock.step(2 * MINUTE);
  await ttl.reconcile();
  expect({ lists, left: await left() }).toEqual({ lists: 1, left: ["c"] });
  lists = 0;

  // An event written after that sweep is newer than the sweep itself: it expires in its turn.
  await events.create(eventAt("d", clock.now()));
  clock.step(28 * MINUTE);
  await ttl.reconcile();
  expect(lists).toBe(0);
  clock.step(HOUR - 28 * MINUTE - 31 * MINUTE + 1000); // t0 + 1 h + 1 s: c expired, d not
  await ttl.reconcile();
  expect({ lists, left: await left() }).toEqual({ lists: 1, left: ["d"] });
  lists = 0;
  clock.step(31 * MINUTE);
  await ttl.reconcile();
  expect({ lists, left: await left() }).toEqual({ lists: 1, left: [] });
});
