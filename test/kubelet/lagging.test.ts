// The kubelet on Podman when the engine answers late, as a loaded one does: every create, start,
// stop, remove, list and inspect is done at once but its answer held back up to 1.5 s
// (helpers/lagging-runtime.ts), so answers arrive stale and out of order. The relist and the pod
// workers must still see every exit, restart a crashing container with back-off, and finish a
// graceful delete.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Pod } from "../../src/api/kinds/pod.ts";
import type { Client } from "../../src/client/index.ts";
import { startTestKubelet, type TestKubelet } from "../helpers/kubelet.ts";
import { BUSYBOX_IMAGE } from "../helpers/engine.ts";
import { laggingRuntime } from "../helpers/lagging-runtime.ts";
import { waitFor } from "../helpers/wait.ts";

const NODE = `lagging-test-${process.pid}`;
let client: Client;
let node: TestKubelet;

beforeAll(async () => {
  node = await startTestKubelet(NODE, { wrapRuntime: (engine) => laggingRuntime(engine, () => Math.random() * 1500) });
  ({ client } = node);
}, 60_000);

afterAll(() => node.close());

const pods = () => client.resource<Pod>("pods", "default");
const get = (name: string) => pods().get(name);
const podSpec = (name: string, command: string[], restartPolicy: "Always" | "Never" = "Always"): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name },
  spec: {
    nodeName: NODE,
    restartPolicy,
    terminationGracePeriodSeconds: 2,
    containers: [{ name: "c", image: BUSYBOX_IMAGE, imagePullPolicy: "IfNotPresent", command }],
  },
});
const ready = (p: Pod) => !!p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");

test("with late engine answers, a burst's exits, a crash loop and graceful deletes are all seen", async () => {
  const sleepers = ["lag-sleep-0", "lag-sleep-1", "lag-sleep-2"];
  const exiters: [string, number][] = [
    ["lag-exit-0", 3],
    ["lag-exit-1", 4],
    ["lag-exit-2", 0],
  ];
  await Promise.all([
    ...sleepers.map((n) => pods().create(podSpec(n, ["sleep", "3600"]))),
    ...exiters.map(([n, code]) => pods().create(podSpec(n, ["sh", "-c", `sleep 1; exit ${code}`], "Never"))),
    pods().create(podSpec("lag-crash", ["sh", "-c", "exit 1"])),
  ]);
  await waitFor("sleepers Ready", async () => (await Promise.all(sleepers.map(get))).every(ready), 45_000);
  for (const [n, code] of exiters) {
    const p = await waitFor(
      `${n} ended`,
      async () => {
        const p = await get(n);
        return p.status?.phase === "Failed" || p.status?.phase === "Succeeded" ? p : undefined;
      },
      45_000,
    );
    expect({ phase: p.status?.phase, exitCode: p.status?.containerStatuses?.[0]?.state?.terminated?.exitCode }).toEqual(
      {
        phase: code ? "Failed" : "Succeeded",
        exitCode: code,
      },
    );
  }
  const crash = await waitFor(
    "CrashLoopBackOff after a restart",
    async () => {
      const s = (await get("lag-crash")).status?.containerStatuses?.[0];
      return s?.state?.waiting?.reason === "CrashLoopBackOff" && s.restartCount >= 1 ? s : undefined;
    },
    45_000,
  );
  expect(crash.lastState?.terminated?.exitCode).toBe(1);
  await Promise.all(sleepers.map((n) => pods().delete(n)));
  await waitFor(
    "gracefully deleted pods gone",
    async () =>
      (
        await Promise.all(
          sleepers.map((n) =>
            get(n).then(
              () => false,
              () => true,
            ),
          ),
        )
      ).every(Boolean),
    45_000,
  );
  await Promise.all([...exiters.map(([n]) => n), "lag-crash"].map((n) => pods().delete(n, { gracePeriodSeconds: 0 })));
}, 200_000);
