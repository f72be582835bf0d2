// Events expire, as in Kubernetes (--event-ttl, one hour by default): without this the store
// would keep every Scheduled/Started/Pulled event forever. Upstream leaves this to etcd leases;
// here a sweep pages through the events and deletes the expired ones, so that no process holds
// every event in memory (an informer over events grew by tens of MB a minute under churn).
import type { KubeObject } from "../../../api/types.ts";
import { isNotFound, ignore } from "../../../client/index.ts";
import { Controller } from "../base.ts";

export class EventTTLController extends Controller {
  readonly name = "event-ttl";
  private timer: ReturnType<typeof setInterval> | undefined;
  private get ttlMs(): number {
    return Number(this.ctx.settings.eventTTLSeconds ?? 3600) * 1000;
  }

  setup(): void {}

  override run(workers = 1): void {
    super.run(workers);
    this.timer = setInterval(() => this.queue.add("sweep"), Math.min(60_000, Math.max(100, this.ttlMs / 4)));
  }

  override async stop(): Promise<void> {
    clearInterval(this.timer);
    await super.stop();
  }

  async reconcile(): Promise<void> {
    const cutoff = Date.now() - this.ttlMs;
    const events = this.ctx.client.resource("events");
    let cont: string | undefined;
    do {
      const page = await events.list({ limit: 500, continue: cont });
      for (const ev of page.items as (KubeObject & { lastTimestamp?: string; eventTime?: string })[]) {
        const last = Date.parse(String(ev.lastTimestamp ?? ev.eventTime ?? ev.metadata?.creationTimestamp ?? ""));
        if (!(last < cutoff)) continue;
        await this.ctx.client
          .resource("events", ev.metadata!.namespace)
          .delete(ev.metadata!.name!)
          .catch(ignore(isNotFound));
      }
      cont = page.metadata.continue || undefined;
    } while (cont);
  }
}
