// A kubelet's metrics, per node: its own (pkg/kubelet/metrics: running pods and containers, pod
// start duration) at /metrics, and cAdvisor's per-container CPU and memory at /metrics/cadvisor,
// read from the container engine's stats API when scraped.
import { Registry } from "../metrics/hub.ts";
import { HistogramVec, Snapshot } from "../metrics/vec.ts";
import { type ContainerInfo, type ContainerRuntime, LABELS } from "./runtime/index.ts";

const POD_START_BUCKETS = [
  0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600,
];

export class KubeletMetrics {
  readonly kubelet = new Registry();
  readonly cadvisor = new Registry();
  private readonly podStart;

  constructor(
    private readonly node: string,
    private readonly runtime: ContainerRuntime,
  ) {
    this.podStart = new HistogramVec(
      "kubelet_pod_start_duration_seconds",
      "Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run",
      [],
      POD_START_BUCKETS,
      this.kubelet,
    ).with();
    new Snapshot(
      "kubelet_running_pods",
      "Number of pods that have a running pod sandbox",
      "gauge",
      this.kubelet,
      async () => {
        const sandboxes = (await this.containers()).filter((c) => c.kind === "infra" && c.state === "running");
        return [{ labels: {}, value: new Set(sandboxes.map((c) => c.podUid)).size }];
      },
    );
    new Snapshot(
      "kubelet_running_containers",
      "Number of containers currently running",
      "gauge",
      this.kubelet,
      async () => {
        const byState = new Map<string, number>();
        for (const c of await this.containers())
          if (c.kind === "app") byState.set(c.state, (byState.get(c.state) ?? 0) + 1);
        return [...byState].map(([state, value]) => ({ labels: { container_state: state }, value }));
      },
    );
    const usage = (pick: (cpuSeconds: number, memory: number) => number) => async () => {
      const running = (await this.containers()).filter((c) => c.kind === "app" && c.state === "running");
      const samples = await Promise.all(
        running.map(async (c) => {
          const s = await this.runtime.stats(c.id).catch(() => undefined);
          return s && { labels: cadvisorLabels(c), value: pick(s.cpuNanos / 1e9, s.memoryBytes) };
        }),
      );
      return samples.filter((s) => s !== undefined);
    };
    new Snapshot(
      "container_cpu_usage_seconds_total",
      "Cumulative cpu time consumed in seconds.",
      "counter",
      this.cadvisor,
      usage((cpu) => cpu),
    );
    new Snapshot(
      "container_memory_working_set_bytes",
      "Current working set in bytes.",
      "gauge",
      this.cadvisor,
      usage((_, memory) => memory),
    );
  }

  /** A pod this kubelet first saw `seconds` ago is running. */
  podStarted = (seconds: number): void => this.podStart.observe(seconds);

  private listed: { at: number; list: Promise<ContainerInfo[]> } | undefined;
  /** One container list per scrape (the metrics of one scrape share it). */
  private containers(): Promise<ContainerInfo[]> {
    if (!this.listed || performance.now() - this.listed.at > 1000)
      this.listed = { at: performance.now(), list: this.runtime.listContainers({ [LABELS.node]: this.node }) };
    return this.listed.list;
  }
}

/** cAdvisor's labels for a container of a pod, as the kubelet's cAdvisor endpoint has them. */
function cadvisorLabels(c: ContainerInfo): Record<string, string> {
  return {
    container: c.containerName,
    id: `/kubepods/pod${c.podUid}/${c.id}`,
    image: c.image,
    name: c.runtimeName,
    namespace: c.namespace,
    pod: c.podName,
  };
}
