// The hollow runtime for scale tests (like kubemark's hollow nodes): no processes at all.
// Containers "run" as soon as they start and stay running, init containers complete at once
// (exit 0), probes succeed, pods get fake IPs in 10.244.0.0/16, logs are empty, exec succeeds.
// Everything lives in memory, so many nodes fit in one process.

import {
  ContainerNotFoundError,
  fieldsFromLabels,
  ImagePullError,
  LABELS,
  PAUSE_IMAGE,
  type ContainerConfig,
  type ContainerInfo,
  type ContainerRuntime,
  type ContainerStats,
  type EnsuredImage,
  type ExecOptions,
  type ExecResult,
  type ExecSession,
  type ExecStreamOptions,
  type LogOptions,
  type OutputChunk,
  type ProbeKind,
  type PullPolicy,
  type Sandbox,
  type SandboxConfig,
} from "./types.ts";

export interface SimOptions {
  /** Third octet of this node's pod IPs: pods get 10.244.<subnet>.1-254 (several nodes, several subnets). */
  subnet?: number;
  /** Images whose pull fails (ErrImagePull), to exercise the back-off paths. Every other image is present. */
  unpullable?: (ref: string) => boolean;
  /** Clock, for deterministic times in tests. */
  now?: () => Date;
  /** A probe's result (default: success), for tests that need a container to turn unready or unhealthy. */
  probe?: (container: ContainerInfo, kind: ProbeKind) => boolean;
}

interface SimContainer {
  info: ContainerInfo;
  /** Resolvers of followers waiting for the container to stop. */
  waiters: (() => void)[];
  /** An init container: it completes (exit 0) as soon as it starts. */
  init?: boolean;
}

/** One string per image for all containers of the process (hollow nodes run thousands of the same). */
const imageIds = new Map<string, string>();
function imageIdOf(image: string): string {
  let id = imageIds.get(image);
  if (id === undefined) {
    id = `sha256:sim-${image}`;
    if (imageIds.size < 10_000) imageIds.set(image, id);
  }
  return id;
}

export class SimRuntime implements ContainerRuntime {
  readonly kind = "sim" as const;
  private readonly containers = new Map<string, SimContainer>();
  private readonly usedIps = new Set<number>();
  private nextHost = 1;
  private seq = 0;

  constructor(private readonly opts: SimOptions = {}) {}

  private now(): string {
    return (this.opts.now?.() ?? new Date()).toISOString();
  }

  private get(id: string): SimContainer {
    const c = this.containers.get(id);
    if (!c) throw new ContainerNotFoundError(id);
    return c;
  }

  private allocateIp(): string {
    for (let i = 0; i < 254; i++) {
      const host = ((this.nextHost - 1 + i) % 254) + 1;
      if (!this.usedIps.has(host)) {
        this.usedIps.add(host);
        this.nextHost = (host % 254) + 1;
        return `10.244.${(this.opts.subnet ?? 0) & 255}.${host}`;
      }
    }
    throw new Error("sim runtime: no pod IPs left on this node (254 pods)");
  }

  private add(kind: "infra" | "app", image: string, labels: Record<string, string>, ip: string): SimContainer {
    const id = `sim${(++this.seq).toString(16).padStart(13, "0")}${Math.random().toString(16).slice(2, 14)}`;
    const c: SimContainer = {
      info: {
        id,
        runtimeName: `sim_${kind}_${labels[LABELS.podName] ?? ""}_${labels[LABELS.containerName] ?? ""}_${this.seq}`,
        image,
        imageId: imageIdOf(image),
        labels,
        kind,
        ...fieldsFromLabels(labels),
        state: "created",
        exitCode: null,
        createdAt: this.now(),
        startedAt: null,
        finishedAt: null,
        oomKilled: false,
        error: "",
        ip,
      },
      waiters: [],
    };
    this.containers.set(id, c);
    return c;
  }

  async ping(): Promise<void> {}

  async hasImage(ref: string): Promise<boolean> {
    return !this.opts.unpullable?.(ref);
  }

  async ensureImage(ref: string, policy: PullPolicy): Promise<EnsuredImage> {
    if (this.opts.unpullable?.(ref)) {
      if (policy === "Never")
        throw new ImagePullError(
          "ErrImageNeverPull",
          ref,
          `Container image "${ref}" is not present with pull policy of Never`,
        );
      throw new ImagePullError("ErrImagePull", ref, `failed to pull image "${ref}": simulated pull failure`);
    }
    return { ref, id: imageIdOf(ref), pulled: false };
  }

  async ensurePauseImage(): Promise<string> {
    return PAUSE_IMAGE;
  }

  async createPodSandbox(cfg: SandboxConfig): Promise<Sandbox> {
    const labels = {
      ...cfg.labels,
      [LABELS.podUid]: cfg.podUid,
      [LABELS.podName]: cfg.podName,
      [LABELS.podNamespace]: cfg.namespace,
      [LABELS.kind]: "infra",
    };
    const c = this.add("infra", PAUSE_IMAGE, labels, this.allocateIp());
    this.run(c);
    return { id: c.info.id, ip: c.info.ip };
  }

  async removeSandbox(sandboxId: string): Promise<void> {
    for (const c of [...this.containers.values()])
      if (c.info.sandboxId === sandboxId) await this.removeContainer(c.info.id);
    await this.removeContainer(sandboxId);
  }

  async createContainer(sandboxId: string, cfg: ContainerConfig): Promise<string> {
    const sb = this.get(sandboxId).info;
    const labels = {
      ...cfg.labels,
      [LABELS.podUid]: sb.podUid,
      [LABELS.podName]: sb.podName,
      [LABELS.podNamespace]: sb.namespace,
      [LABELS.kind]: "app",
      [LABELS.containerName]: cfg.name,
      [LABELS.sandboxId]: sandboxId,
    };
    const c = this.add("app", cfg.image, labels, sb.ip);
    c.init = cfg.init;
    return c.info.id;
  }

  private run(c: SimContainer): void {
    c.info.state = "running";
    c.info.startedAt = this.now();
    c.info.finishedAt = null;
    c.info.exitCode = null;
  }

  async startContainer(id: string): Promise<void> {
    const c = this.get(id);
    if (c.info.state === "running") return;
    this.run(c);
    if (c.init) this.exitContainer(id, 0);
  }

  /** Sim only: makes a running container exit with `code`, as a finished or crashed process would. */
  exitContainer(id: string, code: number): void {
    const c = this.get(id);
    if (c.info.state !== "running") return;
    c.info.state = "exited";
    c.info.exitCode = code;
    c.info.finishedAt = this.now();
    for (const w of c.waiters.splice(0)) w();
  }

  async stopContainer(id: string, _timeoutSec: number): Promise<void> {
    this.exitContainer(id, 0); // a hollow process honours SIGTERM at once
  }

  async removeContainer(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c) return;
    this.exitContainer(id, 137);
    this.containers.delete(id);
    if (c.info.kind === "infra") this.usedIps.delete(Number(c.info.ip.split(".")[3]));
  }

  async listContainers(labelFilter: Record<string, string> = {}): Promise<ContainerInfo[]> {
    const want = Object.entries(labelFilter);
    const out: ContainerInfo[] = [];
    for (const c of this.containers.values())
      if (want.every(([k, v]) => c.info.labels[k] === v)) out.push({ ...c.info });
    return out;
  }

  async inspect(id: string): Promise<ContainerInfo> {
    return { ...this.get(id).info };
  }

  /** Empty; with `follow` it stays open until the container stops or the signal aborts. */
  async *logs(id: string, opts: LogOptions = {}): AsyncGenerator<OutputChunk> {
    const c = this.get(id);
    if (!opts.follow || c.info.state !== "running" || opts.signal?.aborted) return;
    await new Promise<void>((resolve) => {
      c.waiters.push(resolve);
      opts.signal?.addEventListener("abort", () => resolve(), { once: true });
    });
  }

  async exec(id: string, _cmd?: string[], _opts?: ExecOptions): Promise<ExecResult> {
    this.get(id);
    return { exitCode: 0, stdout: "", stderr: "" };
  }

  async execStream(id: string, _cmd?: string[], _opts?: ExecStreamOptions): Promise<ExecSession> {
    this.get(id);
    return {
      output: (async function* (): AsyncGenerator<OutputChunk> {})(),
      write() {},
      closeStdin() {},
      resize: async () => {},
      exitCode: Promise.resolve(0),
      close() {},
    };
  }

  async probe(id: string, kind: ProbeKind): Promise<{ ok: boolean; message: string }> {
    const c = this.get(id);
    return this.opts.probe?.({ ...c.info }, kind) === false
      ? { ok: false, message: `simulated ${kind} probe failure` }
      : { ok: true, message: "" };
  }

  async stats(id: string): Promise<ContainerStats> {
    this.get(id);
    return { cpuNanos: 0, memoryBytes: 0, timestamp: Date.now() };
  }
}
