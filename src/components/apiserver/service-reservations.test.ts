// A reservation left by a write that never happened (its holder does not exist or does not use the
// value) is taken over, but only once it is older than the grace that covers a write in flight.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../../store/index.ts";
import { type Reserved, serviceReservations } from "./service-reservations.ts";

const dir = mkdtempSync(join(tmpdir(), "kube-reservations-"));
const store = await openStore({ dataDir: dir });
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test("stale reservations are taken over after the grace period, live ones never", async () => {
  let clock = 1_000_000;
  const users = new Map<string, string>(); // "ns/name" -> the IP that service really has
  const reservations = serviceReservations(
    store,
    async (ns, name, r) => users.get(`${ns}/${name}`) === r.value,
    () => clock,
  );
  const ip: Reserved = { kind: "ip", value: "127.10.0.5" };
  expect(await reservations.reserve("default", "a", [ip])).toEqual([]);
  // Held by a, a's write perhaps still in flight: refused to b.
  expect(await reservations.reserve("default", "b", [ip])).toEqual([ip]);
  // Reserving again for the same service is idempotent.
  expect(await reservations.reserve("default", "a", [ip])).toEqual([]);
  clock += 31_000;
  users.set("default/a", ip.value);
  expect(await reservations.reserve("default", "b", [ip])).toEqual([ip]); // a exists and uses it
  users.delete("default/a");
  expect(await reservations.reserve("default", "b", [ip])).toEqual([]); // a never got it: b takes over
  // Only the holder releases.
  await reservations.release("default", "a", [ip]);
  expect(await reservations.reserve("default", "c", [ip])).toEqual([ip]);
  await reservations.release("default", "b", [ip]);
  expect(await reservations.reserve("default", "c", [ip])).toEqual([]);
});
