// Events expire, as in Kubernetes (--event-ttl, one hour by default): without this the store
// would keep every Scheduled/Started/Pulled event forever. Upstream leaves this to etcd leases;
// here a sweep pages through the events and deletes the expired ones, so that no process holds
// every event in memory (an informer over events grew by tens of MB a minute under churn).
// The expired events of a page are deleted together (a bounded number at a time, which the store
// commits in one group): one at a time, a sweep fell behind under churn (events twice the TTL old
// piled up while pods were made at ~40 events/s on a loaded machine).
import type { Event } from "../../../api/kinds/core.ts";
import { isConflict, isNotFound, ignore } from "../../../client/index.ts";
import { Controller } from "../base.ts";

/** Deletes in flight at once during a sweep. */
const SWEEP_CONCURRENCY = 32;

export class EventTTLController extends Controller {
  readonly name = "event-ttl";
  private stopTimer = () => {};

  setup(): void {}

  override run(workers = 1): void {
    super.run(workers);
    this.stopTimer = this.ctx.clock.every(Math.min(60_000, Math.max(100, this.ctx.config.eventTtlMs / 4)), () =>
      this.queue.add("sweep"),
    );
  }

  override async stop(): Promise<void> {
    this.stopTimer();
    await super.stop();
  }

  async reconcile(): Promise<void> {
    const cutoff = this.ctx.clock.now() - this.ctx.config.eventTtlMs;
    const events = this.ctx.client.resource<Event>("events");
    let cont: string | undefined;
    do {
      const page = await events.list({ limit: 500, continue: cont });
      const expired = page.items.filter(
        (ev) => Date.parse(String(ev.lastTimestamp ?? ev.eventTime ?? ev.metadata?.creationTimestamp ?? "")) < cutoff,
      );
      for (let i = 0; i < expired.length; i += SWEEP_CONCURRENCY)
        await Promise.all(
          expired.slice(i, i + SWEEP_CONCURRENCY).map((ev) =>
            this.ctx.client
              .resource("events", ev.metadata!.namespace)
              .delete(ev.metadata!.name!, { preconditions: { resourceVersion: ev.metadata!.resourceVersion } })
              .catch(ignore(isNotFound, isConflict)),
          ),
        );
      cont = page.metadata.continue || undefined;
    } while (cont);
  }
}
