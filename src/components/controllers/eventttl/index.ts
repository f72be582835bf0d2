// Events expire, as in Kubernetes (--event-ttl, one hour by default): without this the store
// would keep every Scheduled/Started/Pulled event forever. Upstream leaves this to etcd leases;
// here a sweep pages through the events and deletes the expired ones, so that no process holds
// every event in memory (an informer over events grew by tens of MB a minute under churn).
// The expired events of a page are deleted together (a bounded number at a time, which the store
// commits in one group): one at a time, a sweep fell behind under churn (events twice the TTL old
// piled up while pods were made at ~40 events/s on a loaded machine).
// A sweep also notes the oldest event it left: none can expire before that one does (events made
// since are newer), so the sweeps until then list nothing. Listing every minute anyway read the
// whole store's events each time: some 400k of them at 100k pods, to delete none within the TTL.
import type { Event } from "../../../api/kinds/core.ts";
import { isConflict, isNotFound, ignore } from "../../../client/index.ts";
import { Controller } from "../base.ts";

/** Deletes in flight at once during a sweep. */
const SWEEP_CONCURRENCY = 32;

export class EventTTLController extends Controller {
  readonly name = "event-ttl";
  private stopTimer = () => {};
  /** No event expires before this (ms): the oldest event the last whole sweep left, plus the TTL. */
  private nextExpiry = 0;

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
    const now = this.ctx.clock.now();
    if (now < this.nextExpiry) return;
    const ttl = this.ctx.config.eventTtlMs;
    const cutoff = now - ttl;
    // Events written from now on are newer than this; one changed while we delete it is looked at again next time.
    let oldest = now;
    const events = this.ctx.client.resource<Event>("events");
    let cont: string | undefined;
    do {
      const page = await events.list({ limit: 500, continue: cont });
      const expired: Event[] = [];
      for (const ev of page.items) {
        const at = Date.parse(String(ev.lastTimestamp ?? ev.eventTime ?? ev.metadata?.creationTimestamp ?? ""));
        if (at < cutoff) expired.push(ev);
        else if (at < oldest) oldest = at;
      }
      for (let i = 0; i < expired.length; i += SWEEP_CONCURRENCY)
        await Promise.all(
          expired.slice(i, i + SWEEP_CONCURRENCY).map((ev) =>
            this.ctx.client
              .resource("events", ev.metadata!.namespace)
              .delete(ev.metadata!.name!, { preconditions: { resourceVersion: ev.metadata!.resourceVersion } })
              .catch((err) => {
                if (isConflict(err)) oldest = Number.NEGATIVE_INFINITY;
                else ignore(isNotFound)(err);
              }),
          ),
        );
      cont = page.metadata.continue || undefined;
    } while (cont);
    this.nextExpiry = oldest + ttl;
  }
}
