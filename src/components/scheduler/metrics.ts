// kube-scheduler's metrics (pkg/scheduler/metrics): attempts and their duration by result and
// profile, and pods waiting in the queue.
import type { Registry } from "../metrics/hub.ts";
import {
  type CounterChild,
  CounterVec,
  exponentialBuckets,
  type HistogramChild,
  HistogramVec,
  Snapshot,
} from "../metrics/vec.ts";

export type AttemptResult = "scheduled" | "unschedulable" | "error";
const PROFILE = "default-scheduler";

export class SchedulerMetrics {
  private readonly attempts: Record<AttemptResult, { total: CounterChild; duration: HistogramChild }>;

  constructor(registry: Registry, queue: () => { active: number; unschedulable: number }) {
    const total = new CounterVec(
      "scheduler_schedule_attempts_total",
      "Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could not be scheduled, while 'error' means an internal scheduler problem.",
      ["result", "profile"],
      registry,
    );
    const duration = new HistogramVec(
      "scheduler_scheduling_attempt_duration_seconds",
      "Scheduling attempt latency in seconds (scheduling algorithm + binding)",
      ["result", "profile"],
      exponentialBuckets(0.001, 2, 15),
      registry,
    );
    const of = (r: AttemptResult) => ({ total: total.with(r, PROFILE), duration: duration.with(r, PROFILE) });
    this.attempts = { scheduled: of("scheduled"), unschedulable: of("unschedulable"), error: of("error") };
    new Snapshot(
      "scheduler_pending_pods",
      "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods that the scheduler attempted to schedule and failed; 'gated' is the number of unschedulable pods that the scheduler never attempted to schedule because they are gated.",
      "gauge",
      registry,
      () => {
        const q = queue();
        return [
          { labels: { queue: "active" }, value: q.active },
          { labels: { queue: "backoff" }, value: 0 },
          { labels: { queue: "unschedulable" }, value: q.unschedulable },
          { labels: { queue: "gated" }, value: 0 },
        ];
      },
    );
  }

  /** One scheduling attempt that began at `start` (performance.now()). */
  attempt(result: AttemptResult, start: number): void {
    const a = this.attempts[result];
    a.total.inc();
    a.duration.observe((performance.now() - start) / 1000);
  }
}
