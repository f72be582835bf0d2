// A pod's sandbox is started in the background while its first container is created in it (the
// engine's ordering). When that start fails, the container already made is removed with the
// sandbox, the pod is told (a FailedCreatePodSandBox event, as upstream's kubelet records) and a
// later sync starts the pod again in a new sandbox. On a hollow runtime whose background starts the
// test makes fail.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Pod } from "../../src/api/kinds/pod.ts";
import { RestartBackoff } from "../../src/components/kubelet/backoff.ts";
import { PodWorker } from "../../src/components/kubelet/pod-worker.ts";
import {
  LABELS,
  RuntimeError,
  SimRuntime,
  type ContainerConfig,
  type Sandbox,
  type SandboxConfig,
} from "../../src/components/kubelet/runtime/index.ts";
import { startWorkerTestbed, type WorkerTestbed } from "../helpers/kubelet.ts";
import { waitFor } from "../helpers/wait.ts";

const NODE = "sandbox-start-node";
let bed: WorkerTestbed;

beforeAll(async () => {
  bed = await startWorkerTestbed("sandbox-start");
});

afterAll(() => bed.close());

const FAILURE = "cannot listen on the TCP port: listen tcp4 127.0.0.1:8080: bind: address already in use";

/**
 * Starts sandboxes in the background when asked; the first such start fails, at once or once a
 * container was created in the sandbox, removing only the sandbox's own container (what is left in
 * it is the kubelet's to remove).
 */
class FailingStartRuntime extends SimRuntime {
  constructor(private readonly failAfterCreate: boolean) {
    super();
  }
  sandboxes: string[] = [];
  private failing: { id: string; appCreated: () => void } | undefined;
  private failed = false;

  override async createPodSandbox(cfg: SandboxConfig): Promise<Sandbox> {
    const made = await super.createPodSandbox(cfg);
    this.sandboxes.push(made.id);
    if (!cfg.startInBackground) return made;
    if (this.failed) return { id: made.id, ip: "", started: Promise.resolve(made.ip) };
    this.failed = true;
    const appCreated = this.failAfterCreate
      ? new Promise<void>((resolve) => {
          this.failing = { id: made.id, appCreated: resolve };
        })
      : Promise.resolve();
    const started = appCreated.then(async () => {
      await this.removeContainer(made.id);
      throw new RuntimeError(500, FAILURE);
    });
    started.catch(() => {});
    return { id: made.id, ip: "", started };
  }

  override async createContainer(sandboxId: string, cfg: ContainerConfig): Promise<string> {
    const id = await super.createContainer(sandboxId, cfg);
    if (this.failing?.id === sandboxId) this.failing.appCreated();
    return id;
  }
}

test.each([
  ["after a container was created in it", true],
  ["before its container was created", false],
])(
  "a sandbox whose background start fails %s: all of it goes, the pod is told, a later sync starts it again",
  async (_, failAfterCreate) => {
    const runtime = new FailingStartRuntime(failAfterCreate);
    const name = `sandbox-fails-${failAfterCreate ? "after" : "before"}`;
    const logged: string[] = [];
    const pod = (await bed.client.resource<Pod>("pods", "default").create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name },
      spec: { nodeName: NODE, containers: [{ name: "c", image: "busybox" }] },
    } as Pod)) as Pod;
    const worker = new PodWorker(pod, {
      client: bed.client,
      runtime,
      nodeName: NODE,
      nodeIP: "127.0.0.1",
      dataDir: bed.dataDir,
      backoff: new RestartBackoff(),
      services: bed.listers.services,
      log: (msg) => logged.push(msg),
    });
    try {
      worker.kick();
      const status = await waitFor("the pod running in a second sandbox", async () => {
        const s = (await bed.client.resource<Pod>("pods", "default").get(name)).status;
        return s?.phase === "Running" && s.podIP ? s : undefined;
      });
      expect(status.containerStatuses?.[0]?.state?.running).toBeTruthy();
      const [failed, second] = runtime.sandboxes;
      const left = await runtime.listContainers({ [LABELS.podUid]: pod.metadata!.uid! });
      // Nothing of the failed sandbox is left: its container and the one created in it are gone.
      expect(left.map((c) => ({ kind: c.kind, sandbox: c.kind === "infra" ? c.id : c.sandboxId }))).toEqual([
        { kind: "infra", sandbox: second! },
        { kind: "app", sandbox: second! },
      ]);
      expect(failed).not.toBe(second);
      const events = (await bed.client.resource("events", "default").list()).items as {
        involvedObject: { name: string };
        type: string;
        reason: string;
        message: string;
      }[];
      expect(
        events
          .filter((e) => e.involvedObject.name === name && e.reason === "FailedCreatePodSandBox")
          .map((e) => ({ type: e.type, message: e.message })),
      ).toEqual([{ type: "Warning", message: `Failed to create pod sandbox: ${FAILURE}` }]);
      // The failed sync reports the sandbox's failure (not the missing sandbox its container was made in).
      expect(logged.filter((l) => l.includes(name)).map((l) => l.includes(FAILURE))).toEqual([true]);
    } finally {
      await worker.shutdown();
    }
  },
);
