// component-base's workqueue metrics for controllers' queues: depth, adds and retries per queue
// name, read from the queues' own counters when scraped (nothing is added to a queue's work).
import type { WorkQueue } from "../../client/index.ts";
import type { Registry } from "./hub.ts";
import { Snapshot } from "./vec.ts";

export function registerWorkqueueMetrics(registry: Registry, queues: () => { name: string; queue: WorkQueue }[]): void {
  const each = (value: (q: WorkQueue) => number) => () =>
    queues().map(({ name, queue }) => ({ labels: { name }, value: value(queue) }));
  new Snapshot(
    "workqueue_depth",
    "Current depth of workqueue",
    "gauge",
    registry,
    each((q) => q.len()),
  );
  new Snapshot(
    "workqueue_adds_total",
    "Total number of adds handled by workqueue",
    "counter",
    registry,
    each((q) => q.adds),
  );
  new Snapshot(
    "workqueue_retries_total",
    "Total number of retries handled by workqueue",
    "counter",
    registry,
    each((q) => q.retries),
  );
}
