// The container runtime contract the kubelet's pod workers use, with two implementations:
// `engine` (Docker Engine API over a unix socket: Podman or Docker) and `sim` (hollow nodes).
// Pods are one infra container holding the network namespace plus app containers joined to it;
// labels on every container name its pod so that a restarted kubelet can adopt what it finds.

export type PullPolicy = "Always" | "IfNotPresent" | "Never";

/** Labels the runtime puts on every container it creates (the caller's labels are added). */
import { CONTAINER_LABELS as LABELS } from "../../../api/well-known.ts";
export { LABELS };

export type ContainerKind = "infra" | "app";

/** The pod infra image; provisioned locally by `ensurePauseImage`, never pulled. */
export const PAUSE_IMAGE = "localhost/kube-pause:latest";

export type ImagePullReason = "ErrImagePull" | "ErrImageNeverPull";

/** An image could not be made present; `reason` is what the pod's waiting state shows. */
export class ImagePullError extends Error {
  override readonly name = "ImagePullError";
  constructor(
    readonly reason: ImagePullReason,
    readonly image: string,
    message: string,
  ) {
    super(message);
  }
}

/** No container engine answered; the message says where it looked and how to start one. */
export class RuntimeUnavailableError extends Error {
  override readonly name = "RuntimeUnavailableError";
  constructor(
    readonly tried: string[],
    message: string,
  ) {
    super(message);
  }
}

/** The container (or sandbox) does not exist (any more). */
export class ContainerNotFoundError extends Error {
  override readonly name = "ContainerNotFoundError";
  constructor(readonly id: string) {
    super(`container ${id} not found`);
  }
}

/** An exec did not finish within its timeout (a probe timeout). */
export class ExecTimeoutError extends Error {
  override readonly name = "ExecTimeoutError";
  constructor(readonly timeoutMs: number) {
    super(`command timed out after ${timeoutMs} ms`);
  }
}

/** Any other failure the engine reported, with its HTTP status. */
export class RuntimeError extends Error {
  override readonly name = "RuntimeError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface PortMapping {
  containerPort: number;
  hostPort: number;
  /** Address to publish on; "" or undefined means all addresses. */
  hostIP?: string;
  protocol?: "TCP" | "UDP" | "SCTP";
}

export interface SandboxConfig {
  podUid: string;
  podName: string;
  namespace: string;
  /** The pod's hostname (the pod name unless spec.hostname says otherwise). */
  hostname: string;
  portMappings?: PortMapping[];
  labels?: Record<string, string>;
  /**
   * Return as soon as the sandbox exists, with `started` for the rest: the caller creates its
   * containers (joined to the sandbox) while the engine starts it and sets up its network.
   */
  startInBackground?: boolean;
}

export interface Sandbox {
  id: string;
  /** The pod IP ("" if the runtime gave none, or while `started` is pending). */
  ip: string;
  /**
   * With startInBackground (runtimes that honour it): the pod IP once the sandbox runs. On a
   * failure the sandbox is removed and this rejects.
   */
  started?: Promise<string>;
}

export interface Mount {
  hostPath: string;
  containerPath: string;
  readOnly?: boolean;
}

/** How the container is confined (from its securityContext). */
export interface ContainerSecurity {
  privileged?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  /** "uid" or "uid:gid". */
  user?: string;
  readOnlyRootfs?: boolean;
  noNewPrivileges?: boolean;
  /** Supplementary groups (supplementalGroups and fsGroup). */
  groupAdd?: string[];
  seccompUnconfined?: boolean;
  /** An AppArmor profile name, or "unconfined". */
  appArmorProfile?: string;
}

export interface ContainerConfig {
  security?: ContainerSecurity;
  /** The container's name in the pod spec. */
  name: string;
  image: string;
  /** Replaces the image's entrypoint (Kubernetes `command`). */
  command?: string[];
  /** Replaces the image's cmd (Kubernetes `args`). */
  args?: string[];
  env?: Record<string, string>;
  workingDir?: string;
  mounts?: Mount[];
  /** CPU limit in millicores. */
  cpuMillis?: number;
  /** Memory limit in bytes. */
  memoryBytes?: number;
  labels?: Record<string, string>;
  tty?: boolean;
  /** Keep stdin open (Kubernetes `stdin: true`). */
  stdin?: boolean;
  /** An init container (runs to completion before the app containers start). */
  init?: boolean;
}

export type ContainerState = "created" | "running" | "exited" | "unknown";

export interface ContainerInfo {
  id: string;
  /** The runtime's own name for the container. */
  runtimeName: string;
  image: string;
  imageId: string;
  labels: Record<string, string>;
  kind: ContainerKind;
  podUid: string;
  podName: string;
  namespace: string;
  /** The container's name in the pod spec ("" for infra containers). */
  containerName: string;
  sandboxId: string;
  /** From the `restartCount` label the kubelet sets; 0 when absent. */
  restartCount: number;
  state: ContainerState;
  exitCode: number | null;
  /** ISO times; null when not started / not finished. */
  createdAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  oomKilled: boolean;
  /** The engine's error text when the container failed to start. */
  error: string;
  /** The pod IP ("" when the engine does not say, e.g. Docker lists of joined containers). */
  ip: string;
}

/** The ContainerInfo fields the kubelet's labels carry (both runtimes read them back the same way). */
export function fieldsFromLabels(
  labels: Record<string, string>,
): Pick<ContainerInfo, "podUid" | "podName" | "namespace" | "containerName" | "sandboxId" | "restartCount"> {
  return {
    podUid: labels[LABELS.podUid] ?? "",
    podName: labels[LABELS.podName] ?? "",
    namespace: labels[LABELS.podNamespace] ?? "",
    containerName: labels[LABELS.containerName] ?? "",
    sandboxId: labels[LABELS.sandboxId] ?? "",
    restartCount: Number(labels[LABELS.restartCount] ?? 0) || 0,
  };
}

export interface LogOptions {
  follow?: boolean;
  /** Last N lines only. */
  tail?: number;
  /** Unix seconds; only lines written at or after it. */
  since?: number;
  /** Prefix each line with an RFC 3339 timestamp. */
  timestamps?: boolean;
  signal?: AbortSignal;
}

export interface OutputChunk {
  stream: "stdout" | "stderr";
  data: Uint8Array;
}

export interface ExecOptions {
  stdin?: Uint8Array | string;
  tty?: boolean;
  /** After this the command is abandoned and exec rejects with ExecTimeoutError. */
  timeoutMs?: number;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecStreamOptions {
  stdin?: boolean;
  tty?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

/** An interactive exec (kubectl exec): bytes in, chunks out, then the exit code. */
export interface ExecSession {
  /** Output as it comes; with a tty everything arrives as "stdout". Ends when the command ends. */
  output: AsyncIterable<OutputChunk>;
  write(data: Uint8Array | string): void;
  /** Half-closes stdin so the command sees end-of-file. */
  closeStdin(): void;
  resize(cols: number, rows: number): Promise<void>;
  /** Resolves once the command ended and its output was read. */
  exitCode: Promise<number>;
  /** Drops the connection (the command may keep running). */
  close(): void;
}

export interface ContainerStats {
  /** Total CPU time used, nanoseconds. */
  cpuNanos: number;
  memoryBytes: number;
  /** When it was measured (ms since the epoch). */
  timestamp: number;
}

export interface EnsuredImage {
  ref: string;
  id: string;
  /** The image's configured user ("" means root). */
  user?: string;
  /** True when it was pulled just now. */
  pulled: boolean;
  /** Set when the pull failed for want of a registry and the stored image is used: the pull's error. */
  pullFailure?: string;
}

export interface ContainerRuntime {
  /** "engine" or "sim". */
  readonly kind: "engine" | "sim";
  /** Resolves when the runtime answers; throws RuntimeUnavailableError otherwise. */
  ping(): Promise<void>;
  hasImage(ref: string): Promise<boolean>;
  /** Makes `ref` present per `policy`; throws ImagePullError. */
  ensureImage(ref: string, policy: PullPolicy): Promise<EnsuredImage>;
  /** Makes the infra image present without any registry; returns its ref. */
  ensurePauseImage(): Promise<string>;
  /**
   * From now on pods get addresses of `cidr` (the node's podCIDR): the engine makes a network for it.
   * Absent (sim): pods' addresses are the runtime's own.
   */
  usePodCidr?(node: string, cidr: string): Promise<void>;
  /** Removes what usePodCidr made (a clean exit). */
  releasePodCidr?(node: string): Promise<void>;
  /** Creates and starts the infra container. */
  createPodSandbox(cfg: SandboxConfig): Promise<Sandbox>;
  /** Stops and removes the sandbox and every container that joined it. */
  removeSandbox(sandboxId: string): Promise<void>;
  createContainer(sandboxId: string, cfg: ContainerConfig): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** SIGTERM, then SIGKILL after timeoutSec. Stopping a stopped container is fine. */
  stopContainer(id: string, timeoutSec: number): Promise<void>;
  /** Removes (force); removing a missing container is fine. */
  removeContainer(id: string): Promise<void>;
  /**
   * All of kube's containers (running or not) whose labels include every pair given. One cheap
   * list call: startedAt/finishedAt/oomKilled/error, and ip on some engines (Podman), are only
   * filled with `detail` (an inspect each).
   */
  listContainers(labelFilter?: Record<string, string>, opts?: { detail?: boolean }): Promise<ContainerInfo[]>;
  /**
   * Runtimes that tell of changes: yields an empty list once the stream is open, then, whenever
   * containers labelled key=value change, what happened to them (the engine's actions: create,
   * init, start, die, remove, exec_start, ...; "?" when not understood); ends or throws when the
   * stream does. One label: Podman ORs several label filters on events. Without it, the kubelet
   * relists periodically.
   */
  containerEvents?(label: [key: string, value: string], signal: AbortSignal): AsyncIterable<readonly string[]>;
  /** Throws ContainerNotFoundError. */
  inspect(id: string): Promise<ContainerInfo>;
  logs(id: string, opts?: LogOptions): AsyncIterable<OutputChunk>;
  /** Runs a command to completion (probes, simple kubectl exec). */
  exec(id: string, cmd: string[], opts?: ExecOptions): Promise<ExecResult>;
  execStream(id: string, cmd: string[], opts?: ExecStreamOptions): Promise<ExecSession>;
  stats(id: string): Promise<ContainerStats>;
  /**
   * A runtime that answers probes itself (a hollow node has no process to connect to): when
   * present, the kubelet asks it instead of running the probe's handler.
   */
  probe?(id: string, kind: ProbeKind): Promise<{ ok: boolean; message: string }>;
}

export type ProbeKind = "liveness" | "readiness" | "startup";
