// One pod on this node: its sandbox (the infra container holding the network namespace), init
// containers in order, app containers restarted by the pod's policy with back-off, probes, and
// the status written back through pods/status. sync() is level-triggered: it looks at what the
// runtime has and converges; anything may call it at any time.
import { isPodPhaseTerminal } from "../../api/kinds/pod.ts";
import { rfc3339 } from "../../api/time.ts";
import type { Container, Pod } from "../../api/kinds/pod.ts";
import { DNS_NAMESPACE, DNS_SERVICE } from "../../api/well-known.ts";
import { cpuMillis, memoryBytes } from "../../api/quantity.ts";
import { isNotFound, type Client, ignore, isConflict } from "../../client/index.ts";
import { recordEvent } from "../events.ts";
import type { RestartBackoff } from "./backoff.ts";
import { containerEnv } from "./env.ts";
import type { ServiceAccountLister, ServiceLister } from "./listers.ts";
import { podConditions, podPhase, type ContainerStatus, type RestartPolicy } from "./pod-status.ts";
import { ProbeCounter, runProbe, type Probe } from "./probes.ts";
import {
  ImagePullError,
  LABELS,
  type ContainerInfo,
  type ContainerRuntime,
  type EnsuredImage,
} from "./runtime/index.ts";
import { ContainerConfigError, containerSecurity } from "./security.ts";
import {
  mountsFor,
  podDir,
  prepareServiceAccount,
  prepareVolumes,
  refreshTokens,
  removePodDir,
  setVolumeOwnership,
  type TokenRefresh,
} from "./volumes.ts";
import { podHostsFile, podResolvConf } from "./dns-files.ts";
import { readResolvConf } from "../../util/resolv-conf.ts";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Mount } from "./runtime/types.ts";
import { PlegStoppedError, type Pleg } from "./pleg.ts";

/** Which node's kubelet made a container: a kubelet only ever adopts or removes its own. */

export interface WorkerDeps {
  client: Client;
  runtime: ContainerRuntime;
  nodeName: string;
  nodeIP: string;
  dataDir: string;
  backoff: RestartBackoff;
  /** The cluster's services (service links, the cluster DNS), from an informer's cache. */
  services: ServiceLister;
  /** The cluster's service accounts, from an informer's cache; absent: each pod's is read from the API. */
  accounts?: ServiceAccountLister;
  /** Address containers use for services (the node on the container network). */
  serviceHost?: () => string | undefined;
  /** Mount service account tokens (with this CA as ca.crt); off for hollow pods. */
  serviceAccounts?: { ca?: string };
  /** Write and mount /etc/resolv.conf and /etc/hosts (the cluster domain, the host's resolv.conf); off for hollow pods. */
  dns?: { domain: string; resolvConf: string };
  log: (msg: string) => void;
  /** Told once how long the pod took from this worker's creation to Running (kubelet_pod_start_duration_seconds). */
  podStarted?: (seconds: number) => void;
  /** The node's relist, which a sync reads the pod's containers from; without it each sync lists them (hollow nodes). */
  pleg?: Pick<Pleg, "containers">;
}

interface ProbeState {
  liveness?: ProbeCounter;
  readiness?: ProbeCounter;
  startup?: ProbeCounter;
  timers: ReturnType<typeof setTimeout>[];
  containerId: string;
}

export class PodWorker {
  private pod: Pod;
  private running = false;
  private again = false;
  /** The pod's running sandbox; madeAt (performance.now()) when this worker created it. */
  private sandbox: { id: string; ip: string; madeAt?: number } | undefined;
  private waiting = new Map<string, { reason: string; message?: string }>();
  private probes = new Map<string, ProbeState>();
  /** Bun.hash of the last status written (its text was ~1 KB a pod, kept for every running pod). */
  private lastStatus: number | bigint | undefined;
  private terminated = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Rewrites the pod's service account tokens before they expire (upstream's token manager). */
  private tokenTimer: ReturnType<typeof setTimeout> | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  /** When this kubelet first saw the pod; undefined once its start was recorded (or it was running already). */
  private seenAt: number | undefined;
  /** When this worker's last change to the pod's containers ended (performance.now()): a sync reads a relist begun after it. */
  private changedAt = Number.NEGATIVE_INFINITY;

  constructor(
    pod: Pod,
    private readonly deps: WorkerDeps,
  ) {
    this.pod = pod;
    if (pod.status?.phase !== "Running") this.seenAt = performance.now();
  }

  get uid(): string {
    return this.pod.metadata!.uid!;
  }

  /** The pod as last told (by the API or the kubelet's informer). */
  get current(): Pod {
    return this.pod;
  }

  update(pod: Pod): void {
    this.pod = pod;
    this.kick();
  }

  /**
   * The node's relist (begun at `began`, performance.now()) saw the pod's containers change. No
   * sync follows when nothing in it is news to this worker: each container is as the worker last
   * saw or left it, or is created or running while a sync of the worker runs (what that sync is
   * doing itself), and every container it knows is still there. A relist begun before the
   * worker's last change saw less than the worker knows: the containers made after it began are
   * missing from it, and the created or running state of one the worker knows may be older than
   * what the worker did since. An exit, a removal or a container it has not seen syncs as before.
   * In a burst of pod starts, each relist otherwise synced every pod started since the previous
   * one, and each such sync asked for the next relist (one a second; a Podman list costs ~1.4 ms
   * of its CPU per container listed).
   */
  relisted(containers: readonly ContainerInfo[], began = Number.POSITIVE_INFINITY): void {
    const sandbox = this.sandbox;
    const stale = began < this.changedAt;
    const news = (c: ContainerInfo) =>
      !(c.id === sandbox?.id && c.state === "running") &&
      !this.inspected.some((x) => x.id === c.id && x.state === c.state) &&
      !((this.running || stale) && (c.state === "created" || c.state === "running" || c.state === "unknown"));
    const there = (id: string) => containers.some((c) => c.id === id);
    // A container whose creation was answered after the relist began may be missing from it: the engine
    // may have listed before it made it. (Its createdAt is then the answer's time; the engine's, once inspected.)
    const beganAt = Date.now() - (performance.now() - began);
    const gone = (c: { id: string }, madeAfter: boolean) => !there(c.id) && !(stale && madeAfter);
    if (
      containers.length > 0 &&
      !containers.some(news) &&
      !(sandbox && gone(sandbox, (sandbox.madeAt ?? Number.NEGATIVE_INFINITY) > began)) &&
      // (+2: both times are read to the millisecond.)
      !this.inspected.some((c) => gone(c, Date.parse(c.createdAt ?? "") + 2 > beganAt))
    )
      return;
    this.kick();
  }

  /** A newer copy of the pod that asks for no sync (its status changed, see statusOnly): kept for the next one. */
  observe(pod: Pod): void {
    this.pod = pod;
  }

  /** Runs sync now, or once more after the current run (never two at once). */
  kick(): void {
    if (this.stopping) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.loop = (async () => {
      do {
        this.again = false;
        try {
          await this.sync();
        } catch (err) {
          if (err instanceof PlegStoppedError) break;
          this.deps.log(`pod ${this.key}: ${(err as Error).message}`);
          this.later(2000);
        }
      } while (this.again);
      this.running = false;
      // Not kept once settled (one per running pod); shutdown() then has nothing to wait for.
      this.loop = undefined;
    })();
  }

  /** Resolves once no sync runs or is queued (timers set for later aside). */
  async settled(): Promise<void> {
    while (this.loop) await this.loop;
  }

  private later(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), ms);
  }

  get key(): string {
    return `${this.pod.metadata!.namespace}/${this.pod.metadata!.name}`;
  }

  /**
   * Inspect results (found by container id), reused while the container's state is unchanged. A list, not a
   * Map: a pod has a few containers, and a Map's table was about 250 bytes a pod.
   */
  private inspected: ContainerInfo[] = [];

  private remember(info: ContainerInfo): void {
    const i = this.inspected.findIndex((x) => x.id === info.id);
    if (i < 0) this.inspected.push(info);
    else this.inspected[i] = info;
  }

  /** A change to the pod's containers (create, start, stop, remove): the next sync reads a relist begun after it. */
  private async change<T>(op: Promise<T>): Promise<T> {
    try {
      return await op;
    } finally {
      this.changedAt = performance.now();
    }
  }

  /**
   * The pod's containers with full detail: as listed (by the node's relist, or the pod's own list
   * when not given), with an inspect only for what changed since this worker last looked.
   */
  private async containers(listed?: ContainerInfo[]): Promise<ContainerInfo[]> {
    const list = listed ?? (await this.deps.runtime.listContainers({ [LABELS.podUid]: this.uid }));
    const out = await Promise.all(
      list.map(async (c) => {
        const known = this.inspected.find((x) => x.id === c.id);
        if (known && known.state === c.state) return known;
        // The running sandbox this worker made or adopted: its id and IP are all that is used.
        if (c.kind === "infra" && c.state === "running" && this.sandbox?.id === c.id)
          return { ...c, ip: this.sandbox.ip };
        const info = await this.deps.runtime.inspect(c.id).catch(() => undefined);
        if (info) this.remember(info);
        return info;
      }),
    );
    const ids = new Set(list.map((c) => c.id));
    if (this.inspected.some((x) => !ids.has(x.id))) this.inspected = this.inspected.filter((x) => ids.has(x.id));
    return out.filter((c): c is ContainerInfo => !!c);
  }

  /** The pod's resolv.conf text (the cluster DNS service's IP, from the services' cache); undefined without DNS files. */
  private resolvConf(): string | undefined {
    const dns = this.deps.dns;
    if (!dns) return undefined;
    const kubeDns = this.deps.services.get(`${DNS_NAMESPACE}/${DNS_SERVICE}`);
    const clusterDns =
      kubeDns?.spec?.clusterIP && kubeDns.spec.clusterIP !== "None" ? kubeDns.spec.clusterIP : undefined;
    const resolv = podResolvConf(this.pod, { clusterDns, domain: dns.domain, host: readResolvConf(dns.resolvConf) });
    if (resolv.fallback)
      this.event(
        "Warning",
        "MissingClusterDNS",
        `pod: "${this.pod.metadata!.name}_${this.pod.metadata!.namespace}(${this.uid})". kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.`,
      );
    return resolv.text;
  }

  /** Writes the pod's resolv.conf and hosts file (DATA/pods/<uid>/etc, with the sandbox's IP), as mounts for its containers. */
  private writeDnsFiles(resolv: string | undefined): Mount[] {
    const dns = this.deps.dns;
    if (!dns || resolv === undefined) return [];
    const dir = join(podDir(this.deps.dataDir, this.uid), "etc");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "resolv.conf"), resolv);
    this.writeHostsFile();
    return [
      { hostPath: join(dir, "hosts"), containerPath: "/etc/hosts" },
      { hostPath: join(dir, "resolv.conf"), containerPath: "/etc/resolv.conf" },
    ];
  }

  /** (Re)writes the pod's hosts file (DATA/pods/<uid>/etc/hosts), which names the sandbox's IP. */
  private writeHostsFile(): void {
    const file = join(podDir(this.deps.dataDir, this.uid), "etc", "hosts");
    writeFileSync(file, podHostsFile(this.pod, this.sandbox?.ip ?? "", this.deps.dns!.domain));
  }

  /** What the pod's containers mount: its volumes, the service account token, the resolv.conf text. */
  private async prepareMounts(): Promise<{
    volumes: Awaited<ReturnType<typeof prepareVolumes>>;
    serviceAccountDir: string | undefined;
    resolv: string | undefined;
  }> {
    const spec = this.pod.spec;
    const refresh: TokenRefresh = { at: Infinity };
    const resolv = this.resolvConf();
    const [volumes, serviceAccountDir] = await Promise.all([
      prepareVolumes(this.deps.client, this.deps.dataDir, this.pod, refresh),
      this.deps.serviceAccounts
        ? prepareServiceAccount(
            this.deps.client,
            this.deps.dataDir,
            this.pod,
            this.deps.serviceAccounts.ca,
            refresh,
            this.deps.accounts,
          )
        : undefined,
    ]);
    const fsGroup = spec.securityContext?.fsGroup;
    if (fsGroup !== undefined) {
      for (const v of volumes.values()) if (v.owned) setVolumeOwnership(v.path, fsGroup, v.readOnly);
      if (serviceAccountDir) setVolumeOwnership(serviceAccountDir, fsGroup, true);
    }
    this.refreshTokensAt(refresh.at);
    return { volumes, serviceAccountDir, resolv };
  }

  private async sync(): Promise<void> {
    if (this.terminated) return;
    if (this.pod.metadata?.deletionTimestamp) return this.terminate(true);
    // What the node's relist saw, once it includes this worker's own last change; kept up to date
    // below with what this sync changes, for the status written at its end.
    const all = await this.containers(
      this.deps.pleg ? await this.deps.pleg.containers(this.uid, this.changedAt) : undefined,
    );
    const phase = this.pod.status?.phase;
    if (isPodPhaseTerminal(phase)) {
      this.stopProbes();
      for (const c of all.filter((c) => c.state === "running"))
        await this.change(this.deps.runtime.stopContainer(c.id, 1)).catch(() => {});
      return;
    }
    const spec = this.pod.spec;
    const policy = (spec.restartPolicy ?? "Always") as RestartPolicy;

    // Made at most once per sync, on the first container start. A new sandbox starts both at once,
    // so the API reads, file writes and image checks overlap the engine's sandbox creation.
    let prepared: ReturnType<PodWorker["prepareMounts"]> | undefined;
    const prepare = () => {
      prepared ??= this.prepareMounts();
      prepared.catch(() => {}); // awaited by start(); a sandbox failure may leave it unawaited
      return prepared;
    };
    const envs = new Map<string, Promise<Record<string, string>>>();
    const envOf = (c: Container) => {
      let p = envs.get(c.name);
      if (!p) {
        p = containerEnv(this.deps.client, this.deps.services, this.pod, c, this.deps.serviceHost);
        p.catch(() => {});
        envs.set(c.name, p);
      }
      return p;
    };
    const images = new Map<string, Promise<EnsuredImage>>();
    const ensureImage = (c: Container) => {
      let p = images.get(c.name);
      if (!p) {
        p = this.deps.runtime.ensureImage(c.image, c.imagePullPolicy ?? "IfNotPresent");
        p.catch(() => {});
        images.set(c.name, p);
      }
      return p;
    };

    /** Pending while a new sandbox is being started (its IP is not known before). */
    let sandboxStarted: Promise<void> | undefined;
    const infra = all.find((c) => c.kind === "infra" && c.state === "running");
    if (!infra || !this.sandbox || this.sandbox.id !== infra.id) {
      if (!infra) {
        void prepare();
        const first = spec.initContainers?.length ? spec.initContainers.slice(0, 1) : spec.containers;
        for (const c of first) {
          void ensureImage(c);
          void envOf(c);
        }
        for (const c of all) await this.change(this.deps.runtime.removeContainer(c.id)).catch(() => {});
        const portMappings = spec.containers.flatMap((c) =>
          (c.ports ?? [])
            .filter((p) => p.hostPort)
            .map((p) => ({
              containerPort: p.containerPort,
              hostPort: p.hostPort!,
              hostIP: p.hostIP,
              protocol: (p.protocol ?? "TCP") as "TCP",
            })),
        );
        const sandbox = await this.change(
          this.deps.runtime.createPodSandbox({
            podUid: this.uid,
            podName: this.pod.metadata!.name!,
            namespace: this.pod.metadata!.namespace!,
            hostname: spec.hostname ?? this.pod.metadata!.name!,
            portMappings,
            labels: { [LABELS.node]: this.deps.nodeName },
            startInBackground: true,
          }),
        ).catch((err) => {
          throw this.sandboxFailed(err);
        });
        const mine = { id: sandbox.id, ip: sandbox.ip, madeAt: performance.now() };
        this.sandbox = mine;
        if (sandbox.started) {
          // The engine starts it (network set up) while the containers are created; each start waits for it.
          sandboxStarted = this.change(sandbox.started).then(
            (ip) => {
              mine.ip = ip;
            },
            (err) => {
              throw this.sandboxFailed(err);
            },
          );
          sandboxStarted.catch(() => {});
        }
        // A fresh sandbox has no app containers yet: go on with an empty list.
        all.length = 0;
      } else this.sandbox = { id: infra.id, ip: infra.ip };
    }

    const latest = (name: string) =>
      all
        .filter((c) => c.kind === "app" && c.containerName === name)
        .sort((a, b) => b.restartCount - a.restartCount)[0];
    let dnsMounts: Mount[] | undefined;
    const start = async (c: Container, restartCount: number) => {
      const isInit = (spec.initContainers ?? []).includes(c);
      const { volumes, serviceAccountDir, resolv } = await prepare();
      dnsMounts ??= this.writeDnsFiles(resolv);
      let imageId = "";
      let imageUser = "";
      try {
        const image = await ensureImage(c);
        imageId = image.id;
        imageUser = image.user ?? "";
        if (image.pullFailure)
          this.event(
            "Warning",
            "ImageNotPulled",
            `Failed to pull image "${c.image}": ${image.pullFailure}; no registry reachable, using the image already present on machine`,
          );
        else
          this.event(
            "Normal",
            "Pulled",
            image.pulled
              ? `Successfully pulled image "${c.image}"`
              : `Container image "${c.image}" already present on machine`,
          );
      } catch (err) {
        if (!(err instanceof ImagePullError)) throw err;
        const prev = this.waiting.get(c.name)?.reason;
        this.waiting.set(c.name, {
          reason: prev === "ErrImagePull" || prev === "ImagePullBackOff" ? "ImagePullBackOff" : err.reason,
          message: err.message,
        });
        recordEvent(
          this.deps.client,
          "kubelet",
          this.pod,
          "Warning",
          "Failed",
          `Failed to pull image "${c.image}": ${err.message}`,
        );
        this.later(Math.min(300_000, 5000 * 2 ** Math.min(6, restartCount)));
        return false;
      }
      let confined: ReturnType<typeof containerSecurity>;
      let mounts: ReturnType<typeof mountsFor>;
      try {
        confined = containerSecurity(this.pod, c, imageUser);
        mounts = mountsFor(c, volumes, serviceAccountDir);
      } catch (err) {
        if (!(err instanceof ContainerConfigError)) throw err;
        if (this.waiting.get(c.name)?.message !== err.message) this.event("Warning", "Failed", `Error: ${err.message}`);
        this.waiting.set(c.name, { reason: "CreateContainerConfigError", message: err.message });
        this.later(10_000);
        return false;
      }
      if (confined.unsupported.length && restartCount === 0)
        this.event(
          "Warning",
          "UnsupportedSecurityContext",
          `container "${c.name}": not applied by this node: ${confined.unsupported.join("; ")}`,
        );
      const env = await envOf(c);
      const id = await this.change(
        this.deps.runtime.createContainer(this.sandbox!.id, {
          name: c.name,
          image: c.image,
          command: c.command,
          args: c.args,
          env,
          workingDir: c.workingDir,
          mounts: [
            ...mounts,
            ...dnsMounts.filter((m) => !(c.volumeMounts ?? []).some((v) => v.mountPath === m.containerPath)),
          ],
          security: confined.security,
          cpuMillis: c.resources?.limits?.cpu ? cpuMillis(c.resources.limits.cpu) : undefined,
          memoryBytes: c.resources?.limits?.memory ? memoryBytes(c.resources.limits.memory) : undefined,
          labels: { [LABELS.restartCount]: String(restartCount), [LABELS.node]: this.deps.nodeName },
          tty: c.tty,
          stdin: c.stdin,
          init: isInit,
        }),
      ).catch(async (err) => {
        // A sandbox whose start failed meanwhile is gone with what joined it: its failure is the one to tell.
        await sandboxStarted;
        throw err;
      });
      // When the engine answered, so no earlier than it made the container: a relist begun before
      // this may not list it yet (relisted() reads it).
      const createdAt = new Date().toISOString();
      this.event("Normal", "Created", `Created container ${c.name}`);
      if (sandboxStarted) {
        await sandboxStarted.catch(async (err) => {
          await this.change(this.deps.runtime.removeContainer(id)).catch(() => {});
          throw err;
        });
        // The hosts file names the pod's IP, known only now (same file, so the mount sees it).
        if (dnsMounts.length) this.writeHostsFile();
      }
      await this.change(this.deps.runtime.startContainer(id));
      // What inspect would say right now: the status written at the end of this sync needs no extra round trip.
      const now = new Date().toISOString();
      const info: ContainerInfo = {
        id,
        runtimeName: "",
        image: c.image,
        imageId,
        labels: {},
        kind: "app",
        podUid: this.uid,
        podName: this.pod.metadata!.name!,
        namespace: this.pod.metadata!.namespace!,
        containerName: c.name,
        sandboxId: this.sandbox!.id,
        restartCount,
        state: "running",
        exitCode: null,
        createdAt,
        startedAt: now,
        finishedAt: null,
        oomKilled: false,
        error: "",
        ip: this.sandbox!.ip,
      };
      this.remember(info);
      all.push(info);
      this.waiting.delete(c.name);
      this.startProbes(c, id);
      this.event("Normal", "Started", `Started container ${c.name}`);
      return true;
    };
    const handleExited = async (
      c: Container,
      info: ContainerInfo,
      mayRestart: boolean,
    ): Promise<"waiting" | "done"> => {
      if (!mayRestart) return "done";
      const bkey = `${this.uid}/${c.name}`;
      const finished = Date.parse(info.finishedAt ?? "") || Date.now();
      const ran = finished - (Date.parse(info.startedAt ?? "") || finished);
      const wait = this.deps.backoff.remaining(bkey, Date.now(), finished, ran);
      if (wait > 0) {
        if (this.waiting.get(c.name)?.reason !== "CrashLoopBackOff")
          this.event("Warning", "BackOff", "Back-off restarting failed container");
        this.waiting.set(c.name, {
          reason: "CrashLoopBackOff",
          message: `back-off ${Math.round(this.deps.backoff.delay(bkey) / 1000)}s restarting failed container=${c.name} pod=${this.pod.metadata!.name}_${this.pod.metadata!.namespace}(${this.uid})`,
        });
        this.later(wait);
        return "waiting";
      }
      this.deps.backoff.restarted(bkey, Date.now(), ran);
      // Keep only the previous instance (for logs --previous).
      for (const old of all.filter((x) => x.kind === "app" && x.containerName === c.name && x.id !== info.id)) {
        await this.change(this.deps.runtime.removeContainer(old.id)).catch(() => {});
        all.splice(all.indexOf(old), 1);
      }
      await start(c, info.restartCount + 1);
      return "waiting";
    };

    // Init containers, one at a time, each to a successful end.
    let initDone = true;
    for (const c of spec.initContainers ?? []) {
      const info = latest(c.name);
      if (!info) {
        await start(c, 0);
        initDone = false;
        // A runtime whose init containers complete at once (hollow nodes) is looked at again now.
        if (this.deps.runtime.kind === "sim") this.again = true;
        break;
      }
      if (info.state === "running" || info.state === "created") {
        initDone = false;
        break;
      }
      if (info.exitCode === 0) continue;
      initDone = false;
      await handleExited(c, info, policy !== "Never");
      break;
    }
    if (initDone) {
      for (const c of spec.containers) {
        const info = latest(c.name);
        if (!info) await start(c, 0);
        else if (info.state === "exited")
          await handleExited(c, info, policy === "Always" || (policy === "OnFailure" && info.exitCode !== 0));
        else if (info.state === "created")
          await this.change(this.deps.runtime.startContainer(info.id)).then(
            () => all.splice(all.indexOf(info), 1, { ...info, state: "running" }),
            () => {},
          );
      }
    }
    // A sandbox started in the background is running (and has its IP) before the status is told.
    if (sandboxStarted) await sandboxStarted;
    await this.writeStatus(initDone, all);
  }

  /**
   * A sandbox that could not be made or started: the pod is told (upstream's FailedCreatePodSandBox
   * event); the sync fails with the error and is retried as any failed sync.
   */
  private sandboxFailed(err: unknown): unknown {
    this.event("Warning", "FailedCreatePodSandBox", `Failed to create pod sandbox: ${(err as Error).message}`);
    return err;
  }

  /** Schedules the rewrite of the pod's token volumes (a failed one is retried in 10 s, as the token is still valid). */
  private refreshTokensAt(at: number): void {
    if (this.tokenTimer) clearTimeout(this.tokenTimer);
    this.tokenTimer = undefined;
    if (!Number.isFinite(at) || this.stopping || this.terminated) return;
    this.tokenTimer = setTimeout(
      async () => {
        const refresh: TokenRefresh = { at: Infinity };
        try {
          const dirs = await refreshTokens(
            this.deps.client,
            this.deps.dataDir,
            this.pod,
            this.deps.serviceAccounts?.ca,
            refresh,
            this.deps.accounts,
          );
          const fsGroup = this.pod.spec.securityContext?.fsGroup;
          if (fsGroup !== undefined) for (const d of dirs) setVolumeOwnership(d, fsGroup, true);
        } catch (err) {
          this.deps.log(`pod ${this.key}: refreshing service account tokens: ${(err as Error).message}`);
          refresh.at = Date.now() + 10_000;
        }
        if (!this.terminated) this.refreshTokensAt(refresh.at);
      },
      Math.max(0, at - Date.now()),
    );
  }

  private event(type: "Normal" | "Warning", reason: string, message: string): void {
    recordEvent(this.deps.client, "kubelet", { ...this.pod, apiVersion: "v1", kind: "Pod" }, type, reason, message);
  }

  private startProbes(c: Container, id: string): void {
    this.stopProbes(c.name);
    // No state for a container without probes (most of them): a Map entry and a timer list per pod add up.
    if (!c.startupProbe && !c.livenessProbe && !c.readinessProbe) return;
    const state: ProbeState = { timers: [], containerId: id };
    this.probes.set(c.name, state);
    const namedPorts = Object.fromEntries((c.ports ?? []).filter((p) => p.name).map((p) => [p.name!, p.containerPort]));
    const target = {
      host: this.sandbox?.ip || "127.0.0.1",
      namedPorts,
      exec: async (cmd: string[], timeoutMs: number) => (await this.deps.runtime.exec(id, cmd, { timeoutMs })).exitCode,
    };
    const schedule = (kind: "liveness" | "readiness" | "startup", probe: Probe, initialHealthy: boolean) => {
      const counter = new ProbeCounter(probe, initialHealthy);
      state[kind] = counter;
      let lastFailure = "";
      const unhealthy = (message: string) =>
        recordEvent(this.deps.client, "kubelet", this.pod, "Warning", "Unhealthy", message);
      const tick = async () => {
        if (!this.probes.has(c.name) || this.probes.get(c.name) !== state) return;
        const startupPending = kind !== "startup" && state.startup && !state.startup.healthy;
        if (!startupPending) {
          const r = await (this.deps.runtime.probe ? this.deps.runtime.probe(id, kind) : runProbe(probe, target)).catch(
            (e) => ({ ok: false, message: String(e) }),
          );
          // Readiness and startup failures are told once per distinct message (upstream tells each, aggregated).
          if (kind !== "liveness" && !r.ok && r.message !== lastFailure)
            unhealthy(`${kind === "startup" ? "Startup" : "Readiness"} probe failed: ${r.message}`);
          lastFailure = r.ok ? "" : r.message;
          if (counter.record(r.ok)) {
            if (kind === "liveness" && !counter.healthy) {
              unhealthy(`Liveness probe failed: ${r.message}`);
              await this.change(
                this.deps.runtime.stopContainer(id, this.pod.spec.terminationGracePeriodSeconds ?? 30),
              ).catch(() => {});
            }
            if (kind === "startup" && !counter.healthy)
              await this.change(this.deps.runtime.stopContainer(id, 1)).catch(() => {});
            this.kick();
          }
        }
        state.timers.push(setTimeout(tick, (probe.periodSeconds ?? 10) * 1000));
      };
      state.timers.push(setTimeout(tick, (probe.initialDelaySeconds ?? 0) * 1000));
    };
    if (c.startupProbe) schedule("startup", c.startupProbe as Probe, false);
    if (c.livenessProbe) schedule("liveness", c.livenessProbe as Probe, true);
    if (c.readinessProbe) schedule("readiness", c.readinessProbe as Probe, false);
  }

  private stopProbes(name?: string): void {
    for (const [n, s] of this.probes) {
      if (name && n !== name) continue;
      for (const t of s.timers) clearTimeout(t);
      this.probes.delete(n);
    }
  }

  private statusOf(c: Container, infos: ContainerInfo[]): ContainerStatus {
    const mine = infos
      .filter((x) => x.kind === "app" && x.containerName === c.name)
      .sort((a, b) => b.restartCount - a.restartCount);
    const cur = mine[0];
    const prev = mine[1];
    const term = (i: ContainerInfo) => ({
      terminated: {
        exitCode: i.exitCode ?? 0,
        reason: i.oomKilled ? "OOMKilled" : i.exitCode === 0 ? "Completed" : "Error",
        startedAt: rfc3339(i.startedAt),
        finishedAt: rfc3339(i.finishedAt),
        containerID: `docker://${i.id}`,
      },
    });
    const waiting = this.waiting.get(c.name);
    const probe = this.probes.get(c.name);
    let state: ContainerStatus["state"];
    if (waiting) state = { waiting };
    else if (!cur) state = { waiting: { reason: "ContainerCreating" } };
    else if (cur.state === "running") state = { running: { startedAt: rfc3339(cur.startedAt) } };
    else if (cur.state === "exited") state = term(cur) as ContainerStatus["state"];
    else state = { waiting: { reason: "ContainerCreating" } };
    const started = !!state.running && (!probe?.startup || probe.startup.healthy);
    const ready = started && (!probe?.readiness || probe.readiness.healthy);
    const last = waiting && cur?.state === "exited" ? term(cur) : prev?.state === "exited" ? term(prev) : {};
    return {
      name: c.name,
      state,
      lastState: last as ContainerStatus["lastState"],
      ready,
      started,
      restartCount: cur?.restartCount ?? 0,
      image: c.image,
      imageID: cur?.imageId ?? "",
      ...(cur ? { containerID: `docker://${cur.id}` } : {}),
    } as ContainerStatus;
  }

  /** @param infos the pod's containers as the sync saw and left them. */
  private async writeStatus(initDone: boolean, infos: ContainerInfo[]): Promise<void> {
    const spec = this.pod.spec;
    const statuses = spec.containers.map((c) => this.statusOf(c, infos));
    const initStatuses = (spec.initContainers ?? []).map((c) => this.statusOf(c, infos));
    const names = spec.containers.map((c) => c.name);
    const initFailed =
      spec.restartPolicy === "Never" &&
      initStatuses.some((s) => s.state.terminated && s.state.terminated.exitCode !== 0);
    const phase = initFailed
      ? "Failed"
      : podPhase(names, statuses, (spec.restartPolicy ?? "Always") as RestartPolicy, !initDone);
    const now = rfc3339();
    const conditions = podConditions(phase, statuses, names, this.pod.status?.conditions, now).map((c) =>
      c.type === "Initialized" && !initDone ? { ...c, status: "False", reason: "ContainersNotInitialized" } : c,
    );
    const status = {
      phase,
      conditions,
      hostIP: this.deps.nodeIP,
      hostIPs: [{ ip: this.deps.nodeIP }],
      podIP: this.sandbox?.ip || undefined,
      podIPs: this.sandbox?.ip ? [{ ip: this.sandbox.ip }] : undefined,
      startTime: this.pod.status?.startTime ?? now,
      containerStatuses: statuses,
      ...(initStatuses.length ? { initContainerStatuses: initStatuses } : {}),
      qosClass: this.pod.status?.qosClass,
    };
    const text = JSON.stringify(status, (k, v) =>
      k === "lastTransitionTime" || k === "lastProbeTime" ? undefined : v,
    );
    const hash = Bun.hash(text);
    if (hash === this.lastStatus) return;
    await this.deps.client
      .resource("pods", this.pod.metadata!.namespace)
      .patch(this.pod.metadata!.name!, { status }, "merge", { subresource: "status" })
      .then(() => {
        this.lastStatus = hash;
        if (phase === "Running" && this.seenAt !== undefined) {
          this.deps.podStarted?.((performance.now() - this.seenAt) / 1000);
          this.seenAt = undefined;
        }
      })
      .catch(ignore(isNotFound));
    if (isPodPhaseTerminal(phase)) this.stopProbes();
  }

  /** Stops syncing and probing, leaving the containers running (kubelet shutdown). */
  async detach(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.tokenTimer) clearTimeout(this.tokenTimer);
    this.stopProbes();
    // A sync may be waiting out a container's grace period; shutting down does not wait for that.
    await Promise.race([this.loop, new Promise((r) => setTimeout(r, 2000))]);
  }

  /** Removes the pod's containers from outside a sync (pod deleted from the API, kubelet cleaning up). */
  async shutdown(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.tokenTimer) clearTimeout(this.tokenTimer);
    await this.loop;
    await this.terminate(false);
  }

  /** Stops everything (SIGTERM, then kill after the grace period) and, if asked, finishes the API deletion. */
  async terminate(finishDeletion: boolean): Promise<void> {
    if (this.terminated) return;
    this.terminated = true;
    this.stopProbes();
    if (this.timer) clearTimeout(this.timer);
    if (this.tokenTimer) clearTimeout(this.tokenTimer);
    const grace = this.pod.metadata?.deletionGracePeriodSeconds ?? this.pod.spec.terminationGracePeriodSeconds ?? 30;
    const all = await this.containers().catch(() => [] as ContainerInfo[]);
    if (finishDeletion)
      for (const c of all.filter((c) => c.kind === "app" && c.state === "running"))
        this.event("Normal", "Killing", `Stopping container ${c.containerName}`);
    await Promise.all(
      all
        .filter((c) => c.kind === "app" && c.state === "running")
        .map((c) => this.deps.runtime.stopContainer(c.id, grace).catch(() => {})),
    );
    for (const c of all.filter((c) => c.kind === "app")) await this.deps.runtime.removeContainer(c.id).catch(() => {});
    for (const c of all.filter((c) => c.kind === "infra"))
      await this.deps.runtime.removeContainer(c.id).catch(() => {});
    removePodDir(this.deps.dataDir, this.uid);
    this.deps.backoff.forget(`${this.uid}/`);
    if (finishDeletion)
      await this.deps.client
        .resource("pods", this.pod.metadata!.namespace)
        .delete(this.pod.metadata!.name!, { gracePeriodSeconds: 0, preconditions: { uid: this.uid } })
        .catch(ignore(isNotFound, isConflict));
  }
}
