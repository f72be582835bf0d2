// The ContainerRuntime over the Docker Engine HTTP API (v1.41) on a unix socket, which Podman and
// Docker both serve. A pod is an infra container holding the network and UTS namespaces (hostname,
// published ports, pod IP) plus app containers joined with NetworkMode "container:<infraId>".

import { ensurePodNetwork, removePodNetwork } from "./engine-network.ts";
import { EngineHttp, errorOf, type RawConn } from "./engine-http.ts";
import { ensureImage, hasImage, importImage } from "./engine-images.ts";
import {
  fromInspect,
  fromLibpodListItem,
  fromListItem,
  type InspectAnswer,
  type LibpodListItem,
  type ListItem,
} from "./engine-parse.ts";
import { findEngineSocket, type FindSocketOptions } from "./engine-socket.ts";
import { execSession } from "./engine-exec.ts";
import { demux } from "./mux.ts";
import { PAUSE_COMMAND, pauseRootfs } from "./pause.ts";
import {
  ContainerNotFoundError,
  ExecTimeoutError,
  LABELS,
  PAUSE_IMAGE,
  RuntimeError,
  RuntimeUnavailableError,
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
  type PullPolicy,
  type Sandbox,
  type SandboxConfig,
} from "./types.ts";

export { splitRef } from "./engine-images.ts";
export { findEngineSocket, pingSocket, socketCandidates, START_HINT, type FindSocketOptions } from "./engine-socket.ts";

export interface EngineOptions {
  /** Give up on a pull after this long. */
  pullTimeoutMs?: number;
}

/** Finds the socket (see findEngineSocket) and returns a runtime on it. */
export async function connectEngine(opts: FindSocketOptions & EngineOptions = {}): Promise<EngineRuntime> {
  return new EngineRuntime(await findEngineSocket(opts), opts);
}

/** An event line's action (Docker's Action: create, start, die, ...; Podman's status as well); "?" when unreadable. */
export function eventAction(line: string): string {
  try {
    const e = JSON.parse(line) as { Action?: unknown; status?: unknown };
    const action = e.Action ?? e.status;
    return typeof action === "string" && action ? action : "?";
  } catch {
    return "?";
  }
}

function safeName(s: string): string {
  return s.replace(/[^a-zA-Z0-9_.-]/g, "-");
}

function suffix(): string {
  return Math.random().toString(36).slice(2, 8);
}

export class EngineRuntime implements ContainerRuntime {
  readonly kind = "engine" as const;
  readonly http: EngineHttp;
  private readonly sandboxLabels = new Map<string, Record<string, string>>();
  private pauseReady: Promise<string> | null = null;
  /** The network pods join (the node's podCIDR); the engine's default when unset. */
  private podNetwork: string | undefined;

  constructor(
    readonly socketPath: string,
    private readonly opts: EngineOptions = {},
  ) {
    this.http = new EngineHttp(socketPath);
  }

  async ping(): Promise<void> {
    try {
      const res = await this.http.request("GET", "/_ping", { signal: AbortSignal.timeout(5000) });
      if (res.ok) {
        await res.arrayBuffer();
        // The answer names the engine: isPodman() need not ask again.
        this.podman ??= Promise.resolve(res.headers.has("libpod-api-version"));
        return;
      }
    } catch {}
    throw new RuntimeUnavailableError([this.socketPath], `container engine on ${this.socketPath} does not answer`);
  }

  hasImage(ref: string): Promise<boolean> {
    return hasImage(this.http, ref);
  }

  /** Images seen present recently: starting many pods of one image inspects it once. */
  private present = new Map<string, { image: EnsuredImage; until: number }>();
  /** Checks and pulls under way, by ref and policy: a burst of pods of one image waits on one. */
  private ensuring = new Map<string, Promise<EnsuredImage>>();

  async ensureImage(ref: string, policy: PullPolicy): Promise<EnsuredImage> {
    const known = this.present.get(ref);
    if (known && known.until > Date.now() && policy !== "Always") return { ...known.image, pulled: false };
    const key = `${policy} ${ref}`;
    let running = this.ensuring.get(key);
    if (!running) {
      running = ensureImage(this.http, ref, policy, this.opts.pullTimeoutMs ?? 120_000).finally(() =>
        this.ensuring.delete(key),
      );
      this.ensuring.set(key, running);
    }
    const image = await running;
    this.present.set(ref, {
      image: { ref: image.ref, id: image.id, user: image.user, pulled: false },
      until: Date.now() + 30_000,
    });
    return image;
  }

  /** Imports a root filesystem tar as `ref` (no registry involved). */
  importImage(ref: string, rootfs: Uint8Array): Promise<void> {
    return importImage(this.http, ref, rootfs);
  }

  ensurePauseImage(): Promise<string> {
    this.pauseReady ??= (async () => {
      if (!(await this.hasImage(PAUSE_IMAGE))) await this.importImage(PAUSE_IMAGE, pauseRootfs());
      return PAUSE_IMAGE;
    })().catch((e) => {
      this.pauseReady = null;
      throw e;
    });
    return this.pauseReady;
  }

  async usePodCidr(node: string, cidr: string): Promise<void> {
    this.podNetwork = await ensurePodNetwork(this.http, node, cidr);
  }

  async releasePodCidr(node: string): Promise<void> {
    if (this.podNetwork) await removePodNetwork(this.http, node);
    this.podNetwork = undefined;
  }

  async createPodSandbox(cfg: SandboxConfig): Promise<Sandbox> {
    const image = await this.ensurePauseImage();
    const labels: Record<string, string> = {
      ...cfg.labels,
      [LABELS.podUid]: cfg.podUid,
      [LABELS.podName]: cfg.podName,
      [LABELS.podNamespace]: cfg.namespace,
      [LABELS.kind]: "infra",
    };
    const exposed: Record<string, object> = {};
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const p of cfg.portMappings ?? []) {
      const key = `${p.containerPort}/${(p.protocol ?? "TCP").toLowerCase()}`;
      exposed[key] = {};
      (bindings[key] ??= []).push({ HostIp: p.hostIP ?? "", HostPort: String(p.hostPort) });
    }
    const name = safeName(`kube_infra_${cfg.namespace}_${cfg.podName}_${cfg.podUid.slice(0, 8)}_${suffix()}`);
    const { Id } = await this.http.json<{ Id: string }>("POST", "/containers/create", {
      query: { name },
      json: {
        Image: image,
        Entrypoint: PAUSE_COMMAND,
        Hostname: cfg.hostname,
        Labels: labels,
        ExposedPorts: exposed,
        HostConfig: { PortBindings: bindings, ...(this.podNetwork ? { NetworkMode: this.podNetwork } : {}) },
      },
    });
    // What joined containers need of it is known now (createContainer reads these).
    this.sandboxLabels.set(Id, labels);
    const started = (async () => {
      try {
        await this.startContainer(Id);
        return (await this.inspect(Id)).ip;
      } catch (e) {
        await this.removeContainer(Id).catch(() => {});
        throw e;
      }
    })();
    if (!cfg.startInBackground) return { id: Id, ip: await started };
    started.catch(() => {}); // the caller awaits it; a failure before that is not unhandled
    return { id: Id, ip: "", started };
  }

  async removeSandbox(sandboxId: string): Promise<void> {
    const members = await this.listContainers({ [LABELS.sandboxId]: sandboxId });
    await Promise.all(members.map((c) => this.removeContainer(c.id)));
    await this.removeContainer(sandboxId);
    this.sandboxLabels.delete(sandboxId);
  }

  private async podLabels(sandboxId: string): Promise<Record<string, string>> {
    let l = this.sandboxLabels.get(sandboxId);
    if (!l) {
      l = (await this.inspect(sandboxId)).labels;
      this.sandboxLabels.set(sandboxId, l);
    }
    return {
      [LABELS.podUid]: l[LABELS.podUid],
      [LABELS.podName]: l[LABELS.podName],
      [LABELS.podNamespace]: l[LABELS.podNamespace],
    };
  }

  async createContainer(sandboxId: string, cfg: ContainerConfig): Promise<string> {
    const pod = await this.podLabels(sandboxId);
    const labels = {
      ...cfg.labels,
      ...pod,
      [LABELS.kind]: "app",
      [LABELS.containerName]: cfg.name,
      [LABELS.sandboxId]: sandboxId,
    };
    const name = safeName(
      `kube_${cfg.name}_${pod[LABELS.podNamespace]}_${pod[LABELS.podName]}_${pod[LABELS.podUid].slice(0, 8)}_${suffix()}`,
    );
    const hostConfig: Record<string, unknown> = {
      NetworkMode: `container:${sandboxId}`,
      UTSMode: `container:${sandboxId}`, // the pod's hostname
      Binds: (cfg.mounts ?? []).map((m) => `${m.hostPath}:${m.containerPath}:${m.readOnly ? "ro" : "rw"}`),
    };
    const sec = cfg.security ?? {};
    if (sec.privileged) hostConfig.Privileged = true;
    if (sec.capAdd) hostConfig.CapAdd = sec.capAdd;
    if (sec.capDrop) hostConfig.CapDrop = sec.capDrop;
    if (sec.readOnlyRootfs) hostConfig.ReadonlyRootfs = true;
    if (sec.groupAdd) hostConfig.GroupAdd = sec.groupAdd;
    const securityOpt = [
      ...(sec.noNewPrivileges ? ["no-new-privileges"] : []),
      ...(sec.seccompUnconfined ? ["seccomp=unconfined"] : []),
      ...(sec.appArmorProfile ? [`apparmor=${sec.appArmorProfile}`] : []),
    ];
    if (securityOpt.length) hostConfig.SecurityOpt = securityOpt;
    if (cfg.cpuMillis) hostConfig.NanoCpus = Math.round(cfg.cpuMillis * 1e6);
    if (cfg.memoryBytes) hostConfig.Memory = cfg.memoryBytes;
    const body: Record<string, unknown> = {
      Image: cfg.image,
      Labels: labels,
      Env: Object.entries(cfg.env ?? {}).map(([k, v]) => `${k}=${v}`),
      Tty: cfg.tty ?? false,
      OpenStdin: cfg.stdin ?? false,
      AttachStdin: cfg.stdin ?? false,
      HostConfig: hostConfig,
    };
    if (cfg.command?.length) {
      body.Entrypoint = cfg.command;
      body.Cmd = cfg.args ?? [];
    } else if (cfg.args?.length) body.Cmd = cfg.args;
    if (cfg.workingDir) body.WorkingDir = cfg.workingDir;
    if (sec.user) body.User = sec.user;
    const res = await this.http.request("POST", "/containers/create", { query: { name }, json: body });
    if (res.status === 404) throw new ContainerNotFoundError(sandboxId);
    const text = await res.text();
    if (res.status >= 400) throw new RuntimeError(res.status, `creating container ${cfg.name}: ${text.trim()}`);
    return (JSON.parse(text) as { Id: string }).Id;
  }

  /** Runs a request on one container; 404 becomes ContainerNotFoundError, 304 is success. */
  private async onContainer(
    id: string,
    method: string,
    path: string,
    query?: Record<string, string | number>,
  ): Promise<void> {
    const res = await this.http.request(method, path, { query });
    const text = await res.text();
    if (res.status === 404) throw new ContainerNotFoundError(id);
    if (res.status >= 400) throw new RuntimeError(res.status, `${method} ${path}: ${text.trim()}`);
  }

  startContainer(id: string): Promise<void> {
    return this.onContainer(id, "POST", `/containers/${id}/start`);
  }

  stopContainer(id: string, timeoutSec: number): Promise<void> {
    return this.onContainer(id, "POST", `/containers/${id}/stop`, { t: Math.max(0, Math.floor(timeoutSec)) });
  }

  /** Force-removes; an infra container's joined containers go first (Podman refuses otherwise). */
  async removeContainer(id: string): Promise<void> {
    try {
      await this.onContainer(id, "DELETE", `/containers/${id}`, { force: 1, v: 1 });
    } catch (e) {
      if (e instanceof ContainerNotFoundError) return;
      // Podman refuses while others join it ("has dependent containers", or "dependency exists").
      if (!(e instanceof RuntimeError && /dependent containers|dependency exists/.test(e.message))) throw e;
      const members = await this.listContainers({ [LABELS.sandboxId]: id });
      await Promise.all(members.map((c) => this.removeContainer(c.id)));
      await this.onContainer(id, "DELETE", `/containers/${id}`, { force: 1, v: 1 }).catch((e2) => {
        if (!(e2 instanceof ContainerNotFoundError)) throw e2;
      });
    } finally {
      this.sandboxLabels.delete(id);
    }
  }

  async listContainers(
    labelFilter: Record<string, string> = {},
    opts: { detail?: boolean } = {},
  ): Promise<ContainerInfo[]> {
    const label = [LABELS.kind, ...Object.entries(labelFilter).map(([k, v]) => `${k}=${v}`)];
    const filters = JSON.stringify({ label });
    const podman = await this.isPodman();
    const list$ = (): Promise<ContainerInfo[]> =>
      podman
        ? this.http
            .json<LibpodListItem[]>("GET", "/libpod/containers/json", { query: { all: "true", filters } })
            .then((items) => items.map(fromLibpodListItem))
        : this.http
            .json<ListItem[]>("GET", "/containers/json", { query: { all: 1, filters } })
            .then((items) => items.map(fromListItem));
    // Podman answers a list with a 500 when a container exits while it is being listed (it reads the
    // container's /proc entry); the list is a read, so it is asked again a few times.
    let list: ContainerInfo[] | undefined;
    for (let attempt = 1; !list; attempt++) {
      list = await list$().catch((err) => {
        if (attempt < 3 && err instanceof RuntimeError && err.status >= 500) return undefined;
        throw err;
      });
    }
    if (!opts.detail) return list;
    const detailed = await Promise.all(list.map((c) => this.inspect(c.id).catch(() => null)));
    return detailed.filter((c): c is ContainerInfo => c !== null);
  }

  /**
   * The engine's event stream (GET /events), filtered to containers with the label: an empty list
   * once open, then the actions of the events each chunk completes ("?" for a line not understood).
   */
  async *containerEvents([key, value]: [string, string], signal: AbortSignal): AsyncGenerator<string[]> {
    const res = await this.http.request("GET", "/events", {
      query: { filters: JSON.stringify({ type: ["container"], label: [`${key}=${value}`] }) },
      signal,
    });
    if (!res.ok || !res.body) throw await errorOf(res);
    yield [];
    // One JSON object a line; which container changed is left to the relist.
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = lines.pop()!;
      const actions = lines.filter((l) => l.trim()).map(eventAction);
      if (actions.length) yield actions;
    }
  }

  private podman: Promise<boolean> | undefined;
  /**
   * Whether the engine is Podman (its ping answer names a libpod API version). Its Docker-compatible
   * container list inspects every container for the network settings: 1.5 ms of engine CPU per
   * container, ~150 ms for each relist of 50 pods. Its own list (no network settings; the kubelet
   * inspects what changed) costs half.
   */
  isPodman(): Promise<boolean> {
    this.podman ??= this.http.request("GET", "/_ping").then(
      async (res) => {
        await res.arrayBuffer();
        return res.headers.has("libpod-api-version");
      },
      () => {
        this.podman = undefined; // asked again next time
        return false;
      },
    );
    return this.podman;
  }

  async inspect(id: string): Promise<ContainerInfo> {
    return fromInspect(await this.inspectRaw(id));
  }

  private async inspectRaw(id: string): Promise<InspectAnswer> {
    const res = await this.http.request("GET", `/containers/${id}/json`);
    if (res.status === 404) {
      await res.arrayBuffer();
      throw new ContainerNotFoundError(id);
    }
    if (res.status >= 400) throw new RuntimeError(res.status, await res.text());
    return (await res.json()) as InspectAnswer;
  }

  async *logs(id: string, opts: LogOptions = {}): AsyncGenerator<OutputChunk> {
    const tty = (await this.inspectRaw(id)).Config?.Tty ?? false;
    const res = await this.http.request("GET", `/containers/${id}/logs`, {
      query: {
        stdout: 1,
        stderr: 1,
        follow: opts.follow ? 1 : undefined,
        tail: opts.tail !== undefined ? opts.tail : undefined,
        since: opts.since !== undefined ? Math.floor(opts.since) : undefined,
        timestamps: opts.timestamps ? 1 : undefined,
      },
      signal: opts.signal,
    });
    if (res.status === 404) throw new ContainerNotFoundError(id);
    if (res.status >= 400) throw new RuntimeError(res.status, await res.text());
    if (!res.body) return;
    try {
      yield* demux(res.body as unknown as AsyncIterable<Uint8Array>, tty);
    } catch (e) {
      if (!opts.signal?.aborted) throw e;
    }
  }

  private async createExec(
    id: string,
    cmd: string[],
    o: { stdin: boolean; tty: boolean; stdout: boolean; stderr: boolean },
  ): Promise<string> {
    const res = await this.http.request("POST", `/containers/${id}/exec`, {
      json: { AttachStdin: o.stdin, AttachStdout: o.stdout, AttachStderr: o.stderr, Tty: o.tty, Cmd: cmd },
    });
    const text = await res.text();
    if (res.status === 404) throw new ContainerNotFoundError(id);
    if (res.status >= 400) throw new RuntimeError(res.status, `exec in ${id}: ${text.trim()}`);
    return (JSON.parse(text) as { Id: string }).Id;
  }

  /** The exit code once the exec has ended (the engine may lag the end of the stream a little). */
  async execExitCode(execId: string): Promise<number> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const j = await this.http.json<{ Running: boolean; ExitCode: number | null }>("GET", `/exec/${execId}/json`);
      if (!j.Running || Date.now() > deadline) return j.ExitCode ?? -1;
      await Bun.sleep(20);
    }
  }

  async exec(id: string, cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const tty = opts.tty ?? false;
    const out: Record<"stdout" | "stderr", Uint8Array[]> = { stdout: [], stderr: [] };
    const abort = new AbortController();
    let session: ExecSession | null = null;
    const run = async (): Promise<number> => {
      if (opts.stdin !== undefined) {
        session = await this.execStream(id, cmd, { stdin: true, tty });
        session.write(opts.stdin);
        session.closeStdin();
        for await (const c of session.output) out[c.stream].push(c.data);
        return session.exitCode;
      }
      const execId = await this.createExec(id, cmd, { stdin: false, tty, stdout: true, stderr: true });
      const res = await this.http.request("POST", `/exec/${execId}/start`, {
        json: { Detach: false, Tty: tty },
        signal: abort.signal,
      });
      if (res.status >= 400) throw new RuntimeError(res.status, await res.text());
      if (res.body)
        for await (const c of demux(res.body as unknown as AsyncIterable<Uint8Array>, tty)) out[c.stream].push(c.data);
      return this.execExitCode(execId);
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = opts.timeoutMs
      ? new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            abort.abort(); // frees the connection; the command itself may run on, as in Kubernetes
            (session as ExecSession | null)?.close();
            reject(new ExecTimeoutError(opts.timeoutMs!));
          }, opts.timeoutMs);
        })
      : null;
    const running = run();
    if (timeout) running.catch(() => {}); // after a timeout its abort error is expected
    try {
      const exitCode = await (timeout ? Promise.race([running, timeout]) : running);
      return {
        exitCode,
        stdout: await new Blob(out.stdout as BlobPart[]).text(),
        stderr: await new Blob(out.stderr as BlobPart[]).text(),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  async execStream(id: string, cmd: string[], opts: ExecStreamOptions = {}): Promise<ExecSession> {
    const o = {
      stdin: opts.stdin ?? false,
      tty: opts.tty ?? false,
      stdout: opts.stdout ?? true,
      stderr: opts.stderr ?? !opts.tty,
    };
    const execId = await this.createExec(id, cmd, o);
    const conn: RawConn = await this.http.hijack(`/exec/${execId}/start`, { Detach: false, Tty: o.tty });
    return execSession(this, execId, conn, o.tty);
  }

  async stats(id: string): Promise<ContainerStats> {
    const res = await this.http.request("GET", `/containers/${id}/stats`, {
      query: { stream: "false", "one-shot": "true" },
    });
    if (res.status === 404) throw new ContainerNotFoundError(id);
    if (res.status >= 400) throw new RuntimeError(res.status, await res.text());
    const s = (await res.json()) as {
      read?: string;
      cpu_stats?: { cpu_usage?: { total_usage?: number } };
      memory_stats?: { usage?: number };
    };
    return {
      cpuNanos: s.cpu_stats?.cpu_usage?.total_usage ?? 0,
      memoryBytes: s.memory_stats?.usage ?? 0,
      timestamp: s.read ? Date.parse(s.read) || Date.now() : Date.now(),
    };
  }
}
