// Events expire, as in Kubernetes (--event-ttl, one hour by default): without this the store
// would keep every Scheduled/Started/Pulled event forever.
import { isNotFound, keyOf, splitKey } from "../../../client/index.ts";
import { Controller } from "../base.ts";

export class EventTTLController extends Controller {
  readonly name = "event-ttl";
  private timer: ReturnType<typeof setInterval> | undefined;
  private get ttlMs(): number {
    return Number(this.ctx.settings.eventTTLSeconds ?? 3600) * 1000;
  }

  setup(): void {
    this.ctx.informers.get("events");
  }

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
    for (const ev of this.ctx.informers.get("events").list()) {
      const last = Date.parse(String(ev.lastTimestamp ?? ev.eventTime ?? ev.metadata?.creationTimestamp ?? ""));
      if (!(last < cutoff)) continue;
      const { namespace, name } = splitKey(keyOf(ev));
      await this.ctx.client.resource("events", namespace).delete(name).catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
    }
  }
}
