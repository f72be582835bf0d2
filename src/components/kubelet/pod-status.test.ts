import { describe, expect, test } from "bun:test";
import {
  podConditions,
  podPhase,
  type ContainerStatus,
  type ContainerState,
  type RestartPolicy,
  type PodPhase,
} from "./pod-status.ts";

const T = "2026-01-01T00:00:00Z";
function status(name: string, state: ContainerState, lastState: ContainerState = {}, ready = false): ContainerStatus {
  return { name, state, lastState, ready, restartCount: 0, image: "busybox", imageID: "" };
}
const running = (name: string, ready = true) => status(name, { running: { startedAt: T } }, {}, ready);
const exited = (name: string, exitCode: number) =>
  status(name, { terminated: { exitCode, reason: exitCode ? "Error" : "Completed" } });
const backingOff = (name: string) =>
  status(name, { waiting: { reason: "CrashLoopBackOff" } }, { terminated: { exitCode: 1, reason: "Error" } });

describe("pod phase", () => {
  const cases: [string, ContainerStatus[], RestartPolicy, string][] = [
    ["a pod whose containers are not yet known is Pending", [], "Always", "Pending"],
    [
      "a pod with a container still being created is Pending",
      [running("a"), status("b", { waiting: { reason: "ContainerCreating" } })],
      "Always",
      "Pending",
    ],
    ["a pod with all containers running is Running", [running("a"), running("b")], "Always", "Running"],
    [
      "an Always pod whose container exited is still Running (it will restart)",
      [exited("a", 0), running("b")],
      "Always",
      "Running",
    ],
    ["a Never pod whose containers all exited 0 Succeeded", [exited("a", 0), exited("b", 0)], "Never", "Succeeded"],
    ["a Never pod with a failed container Failed", [exited("a", 0), exited("b", 2)], "Never", "Failed"],
    [
      "an OnFailure pod with a failed container stays Running",
      [exited("a", 1), exited("b", 0)],
      "OnFailure",
      "Running",
    ],
    [
      "an OnFailure pod whose containers all exited 0 Succeeded",
      [exited("a", 0), exited("b", 0)],
      "OnFailure",
      "Succeeded",
    ],
    ["a crash-looping container counts as stopped, not waiting", [backingOff("a"), running("b")], "Always", "Running"],
  ];
  for (const [name, statuses, policy, phase] of cases) {
    test(name, () => expect(podPhase(["a", "b"], statuses, policy)).toBe(phase as PodPhase));
  }
});

describe("pod conditions", () => {
  test("all containers ready makes the pod Ready", () => {
    const conds = podConditions("Running", [running("a"), running("b")], ["a", "b"], undefined, T);
    expect(conds.map((c) => [c.type, c.status])).toEqual([
      ["Initialized", "True"],
      ["Ready", "True"],
      ["ContainersReady", "True"],
      ["PodScheduled", "True"],
    ]);
  });

  test("an unready container names itself in the message", () => {
    const ready = podConditions("Running", [running("a"), running("b", false)], ["a", "b"], undefined, T).find(
      (c) => c.type === "Ready",
    )!;
    expect(ready).toEqual({
      type: "Ready",
      status: "False",
      reason: "ContainersNotReady",
      message: "containers with unready status: [b]",
      lastProbeTime: null,
      lastTransitionTime: T,
    });
  });

  test("the transition time stays while the status does not change", () => {
    const first = podConditions("Running", [running("a")], ["a"], undefined, T);
    const later = podConditions("Running", [running("a")], ["a"], first, "2026-01-01T00:05:00Z");
    expect(later.find((c) => c.type === "Ready")!.lastTransitionTime).toBe(T);
    const flipped = podConditions("Running", [running("a", false)], ["a"], first, "2026-01-01T00:05:00Z");
    expect(flipped.find((c) => c.type === "Ready")!.lastTransitionTime).toBe("2026-01-01T00:05:00Z");
  });

  test("a completed pod is not Ready, with reason PodCompleted", () => {
    const ready = podConditions("Succeeded", [exited("a", 0)], ["a"], undefined, T).find((c) => c.type === "Ready")!;
    expect([ready.status, ready.reason]).toEqual(["False", "PodCompleted"]);
  });
});
