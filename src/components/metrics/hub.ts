// Prometheus metrics for the components of one process (prom-client). Each component keeps its
// own registry, as each upstream binary does; the hub gathers the control plane's (API server,
// store, scheduler, controllers, proxy, DNS, and the process itself) for the API server's
// /metrics, since they share one process here. Kubelets serve theirs from their own server.
import { collectDefaultMetrics, Registry } from "prom-client";

export { Counter, Gauge, Histogram, Registry } from "prom-client";

/** The content type of the text exposition format (what Prometheus asks for). */
export const EXPOSITION_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** What the hub gathers: a registry, or the text of one kept elsewhere (the scheduler's thread). */
export interface MetricsSource {
  metrics(): Promise<string>;
}

export class MetricsHub {
  private readonly registries: MetricsSource[] = [];

  constructor() {
    const proc = new Registry();
    // process_* and nodejs_* (cpu, memory, fds, event loop lag, heap), like Go's process collector.
    collectDefaultMetrics({ register: proc });
    this.registries.push(proc);
  }

  /** A registry for one component; what it registers is part of the API server's /metrics. */
  registry(): Registry {
    const r = new Registry();
    this.registries.push(r);
    return r;
  }

  /** Adds a source of exposition text that is not a registry of this thread (another thread's). */
  add(source: MetricsSource): void {
    this.registries.push(source);
  }

  /** Forgets a component's registry or source (it stopped). */
  remove(r: MetricsSource): void {
    const i = this.registries.indexOf(r);
    if (i >= 0) this.registries.splice(i, 1);
  }

  /** The text exposition of every registry, in the order they were made. */
  async text(): Promise<string> {
    return (await Promise.all(this.registries.map((r) => r.metrics()))).filter(Boolean).join("\n");
  }
}

/** Serves a registry (or several) as Prometheus text. */
export async function exposition(...registries: Registry[]): Promise<Response> {
  const text = (await Promise.all(registries.map((r) => r.metrics()))).filter(Boolean).join("\n");
  return new Response(text, { headers: { "content-type": EXPOSITION_TYPE } });
}
