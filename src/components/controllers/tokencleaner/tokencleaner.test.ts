// The token cleaner against the real API server, acting as its own service account (so its RBAC
// role is exercised), on a clock the test moves: expired and unparseable tokens go, tokens that
// expire later go when the clock reaches their expiry, and everything else stays.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createClient, inProcessTransport, isNotFound, type Client } from "../../../client/index.ts";
import { FakeClock } from "../../../../test/helpers/clock.ts";
import { startTestApi, TEST_TOKEN, type TestApi } from "../../../../test/helpers/api.ts";
import { waitFor } from "../../../../test/helpers/wait.ts";
import { startControllers } from "../index.ts";
import { TokenCleaner } from "./index.ts";

const clock = new FakeClock();
let api: TestApi;
let admin: Client;
let controllers: Awaited<ReturnType<typeof startControllers>>;
const logged: string[] = [];
beforeAll(async () => {
  api = await startTestApi();
  admin = createClient(inProcessTransport(api.fetch, TEST_TOKEN));
  const clientFor = (sa: string) =>
    createClient(
      inProcessTransport(
        api.fetch,
        api.tokenFor({
          name: `system:serviceaccount:kube-system:${sa}`,
          groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system"],
        }),
      ),
    );
  controllers = await startControllers({ client: admin, clientFor, log: (m) => logged.push(m), clock }, [TokenCleaner]);
});
afterAll(async () => {
  await controllers?.stop();
  await api?.close();
});

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
const b64 = (s: string) => Buffer.from(s).toString("base64");
const token = (id: string, expiration?: string, opts: { namespace?: string; type?: string } = {}) => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name: `bootstrap-token-${id}`, namespace: opts.namespace ?? "kube-system" },
  type: opts.type ?? "bootstrap.kubernetes.io/token",
  data: {
    "token-id": b64(id),
    "token-secret": b64("0123456789abcdef"),
    ...(expiration ? { expiration: b64(expiration) } : {}),
  },
});
const exists = (id: string, namespace = "kube-system") =>
  admin
    .resource("secrets", namespace)
    .get(`bootstrap-token-${id}`)
    .then(
      () => true,
      (e) => (isNotFound(e) ? false : Promise.reject(e)),
    );
const create = (s: ReturnType<typeof token>) => admin.resource("secrets", s.metadata.namespace).create(s);

test("expired tokens are deleted at once, others when their expiry comes, the rest never", async () => {
  const hour = 3_600_000;
  await admin.resource("namespaces").create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "other" } });
  // Not the cleaner's: no expiration, another type, another namespace.
  await create(token("noexpy"));
  await create(token("opaque", rfc3339(clock.now() - hour), { type: "Opaque" }));
  await create(token("elsewh", rfc3339(clock.now() - hour), { namespace: "other" }));
  await create(token("inhour", rfc3339(clock.now() + hour)));
  await create(token("badexp", "tomorrow"));
  await create(token("expird", rfc3339(clock.now() - 1000)));
  // One worker takes keys in the order they came: once the last is handled, so are the rest.
  await waitFor("the expired token to be deleted", async () => !(await exists("expird")));
  await waitFor("the unparseable token to be deleted", async () => !(await exists("badexp")));
  expect(logged).toContain("token-cleaner: deleting expired bootstrap token Secret kube-system/bootstrap-token-expird");
  expect(await exists("inhour")).toBe(true);

  clock.step(hour - 60_000);
  // A token made now that expires at once shows that the step's timers have been handled.
  await create(token("second", rfc3339(clock.now() - 1000)));
  await waitFor("a second expired token to be deleted", async () => !(await exists("second")));
  expect(await exists("inhour")).toBe(true);
  clock.step(61_000);
  await waitFor("the token to be deleted when its hour is over", async () => !(await exists("inhour")));

  for (const [id, ns] of [["noexpy"], ["opaque"], ["elsewh", "other"]] as [string, string?][])
    expect(await exists(id, ns)).toBe(true);
});
