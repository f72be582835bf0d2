// One behaviour suite every ContainerRuntime passes (engine against real Podman, sim in memory):
// what the pod workers rely on regardless of which runtime the node uses.

import { describe, expect, test } from "bun:test";
import {
  ContainerNotFoundError,
  ImagePullError,
  LABELS,
  type ContainerRuntime,
} from "../../src/components/kubelet/runtime/types.ts";

export interface ContractSetup {
  rt: () => ContainerRuntime;
  /** An image that is present. */
  image: string;
  /** An image that is absent and cannot be pulled. */
  missingImage: string;
  /** Labels to put on everything created, so that the caller can clean up. */
  labels: Record<string, string>;
}

export function runtimeContract(name: string, s: ContractSetup): void {
  describe(`${name} runtime contract`, () => {
    test("a sandbox has an IP; an app container runs in it, labelled with its pod, and stops and goes away", async () => {
      const rt = s.rt();
      const podUid = crypto.randomUUID();
      const sb = await rt.createPodSandbox({
        podUid,
        podName: "contract",
        namespace: "ct",
        hostname: "contract",
        labels: s.labels,
      });
      expect(sb.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      const id = await rt.createContainer(sb.id, {
        name: "app",
        image: s.image,
        command: ["sleep", "3600"],
        labels: s.labels,
      });
      expect((await rt.inspect(id)).state).toBe("created");
      await rt.startContainer(id);
      const c = await rt.inspect(id);
      expect([c.state, c.kind, c.podUid, c.podName, c.namespace, c.containerName, c.sandboxId]).toEqual([
        "running",
        "app",
        podUid,
        "contract",
        "ct",
        "app",
        sb.id,
      ]);
      expect(c.startedAt).not.toBeNull();
      const listed = await rt.listContainers({ [LABELS.podUid]: podUid });
      expect(listed.map((x) => x.kind).sort()).toEqual(["app", "infra"]);
      expect((await rt.exec(id, ["true"])).exitCode).toBe(0);
      await rt.stopContainer(id, 1);
      expect((await rt.inspect(id)).state).toBe("exited");
      await rt.removeSandbox(sb.id);
      expect(await rt.listContainers({ [LABELS.podUid]: podUid })).toEqual([]);
      await expect(rt.inspect(id)).rejects.toBeInstanceOf(ContainerNotFoundError);
      await rt.removeContainer(id); // removing twice is fine
    });

    test("image policies: present images need no pull, Never on a missing image is ErrImageNeverPull", async () => {
      const rt = s.rt();
      expect((await rt.ensureImage(s.image, "IfNotPresent")).pulled).toBe(false);
      const never = await rt.ensureImage(s.missingImage, "Never").catch((e) => e);
      expect(never).toBeInstanceOf(ImagePullError);
      expect(never.reason).toBe("ErrImageNeverPull");
      const pull = await rt.ensureImage(s.missingImage, "IfNotPresent").catch((e) => e);
      expect(pull.reason).toBe("ErrImagePull");
    });
  });
}
