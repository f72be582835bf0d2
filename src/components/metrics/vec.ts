// Metric vectors for hot paths. prom-client's labelled children hash and validate their labels on
// every inc/observe; these children are plain numbers made once per label set, and prom-client's
// Registry formats them at scrape time (it takes any metric with a name and get()).
import type { Registry } from "prom-client";

type Labels = Record<string, string>;
type Sample = { metricName?: string; labels: Labels; value: number };

abstract class Vec<C> {
  private readonly children = new Map<string, { labels: Labels; child: C }>();
  abstract readonly type: "counter" | "gauge" | "histogram";

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  protected abstract make(): C;

  /** The child for these label values (in labelNames order), made on first use: keep it. */
  with(...values: string[]): C {
    const key = values.join("\0");
    let entry = this.children.get(key);
    if (!entry) {
      const labels: Labels = {};
      for (const [i, n] of this.labelNames.entries()) labels[n] = values[i] ?? "";
      entry = { labels, child: this.make() };
      this.children.set(key, entry);
    }
    return entry.child;
  }

  protected entries(): Iterable<{ labels: Labels; child: C }> {
    return this.children.values();
  }

  abstract get(): { name: string; help: string; type: string; values: Sample[]; aggregator: string };
}

export class CounterChild {
  value = 0;
  inc(n = 1): void {
    this.value += n;
  }
}

export class CounterVec extends Vec<CounterChild> {
  readonly type = "counter";
  protected make() {
    return new CounterChild();
  }
  get() {
    const values = [...this.entries()].map(({ labels, child }) => ({ labels, value: child.value }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: "sum" };
  }
}

export class GaugeChild {
  value = 0;
  inc(n = 1): void {
    this.value += n;
  }
  dec(n = 1): void {
    this.value -= n;
  }
  set(n: number): void {
    this.value = n;
  }
}

export class GaugeVec extends Vec<GaugeChild> {
  readonly type = "gauge";
  protected make() {
    return new GaugeChild();
  }
  get() {
    const values = [...this.entries()].map(({ labels, child }) => ({ labels, value: child.value }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: "sum" };
  }
}

export class HistogramChild {
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(v: number): void {
    let i = 0;
    while (i < this.bounds.length && v > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

export class HistogramVec extends Vec<HistogramChild> {
  readonly type = "histogram";
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly buckets: readonly number[],
    registry: Registry,
  ) {
    super(name, help, labelNames, registry);
  }
  protected make() {
    return new HistogramChild(this.buckets);
  }
  get() {
    const values: Sample[] = [];
    for (const { labels, child } of this.entries()) {
      let cumulative = 0;
      for (let i = 0; i <= this.buckets.length; i++) {
        cumulative += child.counts[i]!;
        const le = i < this.buckets.length ? String(this.buckets[i]) : "+Inf";
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_sum`, labels, value: child.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: child.count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: "sum" };
  }
}

/** Prometheus's exponential buckets: count bounds from start, each factor times the last. */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start * factor ** i);
}

/** A metric read at scrape time (queue depths, counters kept elsewhere, container stats). */
export class Snapshot {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge",
    registry: Registry,
    private readonly read: () => Sample[] | Promise<Sample[]>,
  ) {
    registry.registerMetric(this as never);
  }
  async get() {
    return { name: this.name, help: this.help, type: this.type, values: await this.read(), aggregator: "sum" };
  }
}
