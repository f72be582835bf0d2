// Computing a pod's status from what the kubelet observed of its containers, as the real kubelet
// does: phase, the four standard conditions, and container statuses. Pure: no clock, no runtime.

import { type ContainerStatus, isPodPhaseTerminal, type PodCondition, type PodPhase } from "../../api/kinds/pod.ts";
export type {
  ContainerState,
  ContainerStateRunning,
  ContainerStateTerminated,
  ContainerStateWaiting,
  ContainerStatus,
  PodCondition,
  PodPhase,
} from "../../api/kinds/pod.ts";

export type RestartPolicy = "Always" | "OnFailure" | "Never";

/** The phase rule of the kubelet's getPhase, for pods without init containers still pending. */
export function podPhase(
  containerNames: string[],
  statuses: ContainerStatus[],
  restartPolicy: RestartPolicy,
  initPending = false,
): PodPhase {
  if (initPending) return "Pending";
  let running = 0,
    waiting = 0,
    stopped = 0,
    succeeded = 0,
    unknown = 0;
  for (const name of containerNames) {
    const s = statuses.find((c) => c.name === name);
    if (!s) unknown++;
    else if (s.state.running) running++;
    else if (s.state.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state.waiting) {
      if (s.lastState.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }
  if (waiting > 0) return "Pending";
  if (running > 0 && unknown === 0) return "Running";
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (restartPolicy === "Always") return "Running";
    if (stopped === succeeded) return "Succeeded";
    if (restartPolicy === "Never") return "Failed";
    return "Running";
  }
  return "Pending";
}

/** Keeps a condition's lastTransitionTime when its status did not change. */
function condition(
  previous: PodCondition[] | undefined,
  type: string,
  ok: boolean,
  now: string,
  reason?: string,
  message?: string,
): PodCondition {
  const status = ok ? "True" : "False";
  const old = previous?.find((c) => c.type === type);
  const lastTransitionTime = old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : now;
  const c: PodCondition = { type, status, lastProbeTime: null, lastTransitionTime };
  if (reason) c.reason = reason;
  if (message) c.message = message;
  return c;
}

export function podConditions(
  phase: PodPhase,
  statuses: ContainerStatus[],
  containerNames: string[],
  previous: PodCondition[] | undefined,
  now: string,
): PodCondition[] {
  const notReady = containerNames.filter((n) => !statuses.find((s) => s.name === n)?.ready);
  const completed = isPodPhaseTerminal(phase);
  const allReady = notReady.length === 0;
  const reason = completed ? "PodCompleted" : allReady ? undefined : "ContainersNotReady";
  const message = completed || allReady ? undefined : `containers with unready status: [${notReady.join(" ")}]`;
  return [
    condition(previous, "Initialized", true, now, completed ? "PodCompleted" : undefined),
    condition(previous, "Ready", allReady && !completed, now, reason, message),
    condition(previous, "ContainersReady", allReady && !completed, now, reason, message),
    condition(previous, "PodScheduled", true, now),
  ];
}

/** The pod-level reason kubectl shows in STATUS when a container waits (CrashLoopBackOff, ErrImagePull, ...). */
export function waitingReasons(statuses: ContainerStatus[]): string[] {
  return statuses.map((s) => s.state.waiting?.reason).filter((r): r is string => !!r);
}
