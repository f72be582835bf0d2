// Pod workers over the node's relist (pleg.ts), on a hollow runtime the test steers: a container
// that exits while its pod's sync is under way is seen by the sync the relist queues, and a sync
// that follows the worker's own change reads a relist begun after it (never an older one, which
// would restart a container already restarted).
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Pod } from "../../src/api/kinds/pod.ts";
import type { Client } from "../../src/client/index.ts";
import { RestartBackoff } from "../../src/components/kubelet/backoff.ts";
import type { KubeletListers } from "../../src/components/kubelet/listers.ts";
import { Pleg } from "../../src/components/kubelet/pleg.ts";
import { PodWorker } from "../../src/components/kubelet/pod-worker.ts";
import { LABELS, SimRuntime, type ContainerRuntime } from "../../src/components/kubelet/runtime/index.ts";
import { startWorkerTestbed, type WorkerTestbed } from "../helpers/kubelet.ts";
import { waitFor } from "../helpers/wait.ts";

const NODE = "relist-node";
let bed: WorkerTestbed;
let client: Client;
let dataDir: string;
let listers: KubeletListers;

beforeAll(async () => {
  bed = await startWorkerTestbed("relist");
  ({ client, dataDir, listers } = bed);
});

afterAll(() => bed.close());

/**
 * A hollow runtime whose container creates and starts can be held by container name, and whose next
 * list answered with what it saw when asked, counting creates by name.
 */
function steeredRuntime() {
  const sim = new SimRuntime();
  const names = new Map<string, string>();
  const creates = new Map<string, number>();
  /** By "create <name>", "start <name>" or "list". */
  const held = new Map<string, { reached: () => void; release: Promise<void> }>();
  const waitIfHeld = async (key: string) => {
    const hold = held.get(key);
    if (!hold) return;
    held.delete(key);
    hold.reached();
    await hold.release;
  };
  const runtime = new Proxy(sim, {
    get(target, prop, receiver) {
      if (prop === "createContainer")
        return async (sandboxId: string, cfg: { name: string }) => {
          await waitIfHeld(`create ${cfg.name}`);
          const id = await sim.createContainer(sandboxId, cfg as never);
          names.set(id, cfg.name);
          creates.set(cfg.name, (creates.get(cfg.name) ?? 0) + 1);
          return id;
        };
      if (prop === "startContainer")
        return async (id: string) => {
          await waitIfHeld(`start ${names.get(id) ?? ""}`);
          return sim.startContainer(id);
        };
      if (prop === "listContainers")
        return async (labelFilter?: Record<string, string>) => {
          const seen = await sim.listContainers(labelFilter);
          await waitIfHeld("list");
          return seen;
        };
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as ContainerRuntime;
  return {
    sim,
    runtime,
    creates,
    /**
     * The next start (or create) of container `name`, or with "list" the next list's answer, waits
     * for `release()`; `reached` resolves when it is asked for.
     */
    hold(name: string, what: "start" | "create" = "start") {
      let reached!: () => void;
      let release!: () => void;
      const r = new Promise<void>((res) => (reached = res));
      held.set(name === "list" ? "list" : `${what} ${name}`, {
        reached,
        release: new Promise<void>((res) => (release = res)),
      });
      return { reached: r, release: () => release() };
    },
    async idOf(name: string) {
      const all = await sim.listContainers({ [LABELS.containerName]: name });
      return all.sort((a, b) => b.restartCount - a.restartCount)[0]!.id;
    },
  };
}

/** A pod bound to NODE, created through the API; a worker for it over `pleg`, which kicks it. */
async function podWithWorker(
  name: string,
  containers: string[],
  restartPolicy: string,
  runtime: ContainerRuntime,
  backoff = new RestartBackoff(),
  /** As the kubelet: the relist tells the worker what it saw (PodWorker.relisted), which kicks only for news. */
  relisted = false,
) {
  const pod = (await client.resource<Pod>("pods", "default").create({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: { nodeName: NODE, restartPolicy, containers: containers.map((c) => ({ name: c, image: "busybox" })) },
  } as Pod)) as Pod;
  let worker!: PodWorker;
  const pleg = new Pleg(
    () => runtime.listContainers({ [LABELS.node]: NODE }),
    (uid, containers, began) =>
      uid !== pod.metadata!.uid ? undefined : relisted ? worker.relisted(containers, began) : worker.kick(),
    () => {},
  );
  await pleg.relist();
  worker = new PodWorker(pod, {
    client,
    runtime,
    nodeName: NODE,
    nodeIP: "127.0.0.1",
    dataDir,
    backoff,
    services: listers.services,
    log: () => {},
    pleg,
  });
  return { pleg, worker };
}

/** A pod of one container, a, never restarted; its worker hears of relists as in the kubelet, and counts its kicks. */
async function kickCountedWorker(name: string, runtime: ContainerRuntime) {
  const { pleg, worker } = await podWithWorker(name, ["a"], "Never", runtime, new RestartBackoff(), true);
  let kicks = 0;
  const kick = worker.kick.bind(worker);
  worker.kick = () => {
    kicks++;
    kick();
  };
  return { pleg, worker, kicks: () => kicks };
}

const statusOf = async (name: string) => (await client.resource<Pod>("pods", "default").get(name)).status;

test("a container that exits while its pod's sync is under way is seen by the sync the relist queues", async () => {
  const steer = steeredRuntime();
  const { pleg, worker } = await podWithWorker("exits-mid-sync", ["a", "b"], "Never", steer.runtime);
  const b = steer.hold("b");
  worker.kick();
  await b.reached;
  // The sync started a and waits on b's start: a exits, and the relist reports it meanwhile.
  steer.sim.exitContainer(await steer.idOf("a"), 3);
  await pleg.relist();
  b.release();
  const relists = setInterval(() => pleg.relist(), 20);
  try {
    const status = await waitFor("a terminated with its exit code, b running", async () => {
      const s = await statusOf("exits-mid-sync");
      const [a, bb] = s?.containerStatuses ?? [];
      return a?.state?.terminated?.exitCode === 3 && bb?.state?.running ? s : undefined;
    });
    expect(status.phase).toBe("Running");
  } finally {
    clearInterval(relists);
    await worker.shutdown();
  }
});

test("a sync after the worker restarted a container reads a relist begun after the restart: no second restart", async () => {
  const steer = steeredRuntime();
  // No back-off: a sync that read the relist from before the restart would restart again at once.
  const { pleg, worker } = await podWithWorker(
    "restart-once",
    ["a"],
    "Always",
    steer.runtime,
    new RestartBackoff(0, 0),
  );
  worker.kick();
  await worker.settled();
  expect((await statusOf("restart-once"))?.containerStatuses?.[0]?.state?.running).toBeTruthy();
  await pleg.relist();
  steer.sim.exitContainer(await steer.idOf("a"), 1);
  // The relist reports the exit; the sync it starts restarts a.
  await pleg.relist();
  await worker.settled();
  expect(steer.creates.get("a")).toBe(2);
  // Kicks before any newer relist (a probe's result, an update of the pod) wait for one.
  worker.kick();
  worker.kick();
  await pleg.relist();
  await worker.settled();
  expect(steer.creates.get("a")).toBe(2);
  const [a] = (await statusOf("restart-once"))?.containerStatuses ?? [];
  expect({ restartCount: a?.restartCount, running: !!a?.state?.running }).toEqual({ restartCount: 1, running: true });
  await worker.shutdown();
});

test("a relist showing only what the worker did itself syncs nothing more; an exit syncs", async () => {
  const steer = steeredRuntime();
  const { pleg, worker, kicks } = await kickCountedWorker("own-changes", steer.runtime);
  const a = steer.hold("a");
  worker.kick();
  await a.reached;
  // Mid-sync: the sandbox and a created are what this sync is doing.
  await pleg.relist();
  a.release();
  await worker.settled();
  // After it: a running, as the sync left it.
  await pleg.relist();
  await worker.settled();
  expect(kicks()).toBe(1);
  expect((await statusOf("own-changes"))?.containerStatuses?.[0]?.state?.running).toBeTruthy();
  steer.sim.exitContainer(await steer.idOf("a"), 2);
  await pleg.relist();
  expect(kicks()).toBe(2);
  const status = await waitFor("a terminated with its exit code", async () => {
    const s = await statusOf("own-changes");
    return s?.containerStatuses?.[0]?.state?.terminated?.exitCode === 2 ? s : undefined;
  });
  expect(status.phase).toBe("Failed");
  await worker.shutdown();
});

test("a relist begun while the worker's create was under way, told after its sync ended, syncs nothing more", async () => {
  const steer = steeredRuntime();
  const { pleg, worker, kicks } = await kickCountedWorker("create-in-flight", steer.runtime);
  // The wall clock moves on between the steps below: the worker compares times in milliseconds.
  const clockMoved = (since = Date.now()) => waitFor("the clock to move on", () => Date.now() > since + 5);
  const create = steer.hold("a", "create");
  worker.kick();
  await create.reached;
  await clockMoved();
  // The engine lists before it makes a (as Podman under load), and the relist is told only after
  // the sync that made and started a ended: a is missing from it, which is no news.
  const list = steer.hold("list");
  const relist = pleg.relist();
  await list.reached;
  await clockMoved();
  create.release();
  await worker.settled();
  list.release();
  await relist;
  expect(kicks()).toBe(1);
  await worker.settled();
  // A relist begun after the sync lists a running, as the sync left it: nothing to do either.
  await pleg.relist();
  expect(kicks()).toBe(1);
  expect((await statusOf("create-in-flight"))?.containerStatuses?.[0]?.state?.running).toBeTruthy();
  await worker.shutdown();
});
