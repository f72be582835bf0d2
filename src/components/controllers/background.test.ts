// Background informers: the controllers start without listing every ConfigMap and Secret (kube up restarts on
// a store of 100k of them); once let go, those kinds are listed as metadata only, the quota controller counts
// them and the garbage collector builds its graph from the same caches.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { KubeObject } from "../../api/types.ts";
import { createClient, inProcessTransport, isNotFound, type Client } from "../../client/index.ts";
import { startTestApi, TEST_TOKEN, type TestApi } from "../../../test/helpers/api.ts";
import { waitFor } from "../../../test/helpers/wait.ts";
import { GarbageCollector } from "./gc/index.ts";
import { startControllers } from "./index.ts";
import { ResourceQuotaController } from "./resourcequota/index.ts";

let api: TestApi;
let client: Client;
let running: Awaited<ReturnType<typeof startControllers>>;
let letGo: () => void;
beforeAll(async () => {
  api = await startTestApi();
  client = createClient(inProcessTransport(api.fetch, TEST_TOKEN));
  await client.resource("namespaces").create({ metadata: { name: "bg" } });
  for (const name of ["a", "b", "c"])
    await client.resource("configmaps", "bg").create({ metadata: { name }, data: { big: "x".repeat(100) } });
  await client.resource("resourcequotas", "bg").create({
    metadata: { name: "counts" },
    spec: { hard: { configmaps: "10", "count/secrets": "5" } },
  });
  const background = new Promise<void>((resolve) => {
    letGo = resolve;
  });
  running = await startControllers({ client, log: () => {} }, [ResourceQuotaController, GarbageCollector], background);
});
afterAll(async () => {
  await running?.stop();
  await api.close();
});

const used = async () =>
  ((await client.resource("resourcequotas", "bg").get("counts")) as { status?: { used?: Record<string, string> } })
    .status?.used ?? {};

test("the controllers start before the background informers list; those keep metadata only", async () => {
  const cms = running.informers.metadata("configmaps");
  expect(cms.hasSynced()).toBe(false);
  expect(cms.list()).toEqual([]);
  letGo();
  await cms.waitForSync();
  const a = cms.get("bg/a")!;
  expect(a.metadata?.name).toBe("a");
  expect(a.metadata?.uid).toBeString();
  expect((a as KubeObject & { data?: unknown }).data).toBeUndefined();
  await waitFor("configmaps counted", async () => (await used()).configmaps === "3");
  expect((await used())["count/secrets"]).toBe("0");
});

test("quota counts follow creates and deletes of configmaps and secrets", async () => {
  await client.resource("secrets", "bg").create({ metadata: { name: "s" }, stringData: { k: "v" } });
  await client.resource("configmaps", "bg").delete("a");
  await waitFor("counts follow", async () => {
    const u = await used();
    return u.configmaps === "2" && u["count/secrets"] === "1";
  });
});

test("the garbage collector collects from the shared metadata cache a ConfigMap whose owner is gone", async () => {
  const owner = await client.resource("configmaps", "bg").create({ metadata: { name: "owner" } });
  await client.resource("configmaps", "bg").create({
    metadata: {
      name: "owned",
      ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata!.uid! }],
    },
  });
  await client.resource("configmaps", "bg").delete("owner");
  await waitFor("dependent collected", () =>
    client
      .resource("configmaps", "bg")
      .get("owned")
      .then(
        () => false,
        (e) => isNotFound(e),
      ),
  );
});
