// The API server's Prometheus metrics, with kube-apiserver's names, labels and buckets
// (apiserver/pkg/endpoints/metrics, storage/etcd3/metrics): requests by verb, group, version,
// resource, subresource, scope, component and code; their latency; requests in flight;
// long-running requests and watchers; objects per resource; store latency per operation and type.
// The hot path does no label hashing: a request's label children are found in a Map by one string.
import { whenBodyEnds } from "./body-end.ts";
import type { MiddlewareHandler } from "hono";
import type { KindDef } from "../../api/types.ts";
import type { Store } from "../../store/types.ts";
import { Gauge, type Registry } from "../metrics/hub.ts";
import {
  type CounterChild,
  CounterVec,
  type GaugeChild,
  GaugeVec,
  type HistogramChild,
  HistogramVec,
} from "../metrics/vec.ts";
import { kindPrefix } from "./paths.ts";

// apiserver_request_duration_seconds and etcd_request_duration_seconds share these (upstream).
const LATENCY_BUCKETS = [
  0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60,
];
const CONNECT_SUBRESOURCES = new Set(["log", "exec", "portforward", "attach", "proxy"]);
/** Non-resource paths reported by name; any other is "other" (bounded cardinality). */
const NAMED_PATHS = new Set(["/healthz", "/livez", "/readyz", "/version", "/metrics", "/api", "/apis", "/openapi/v2"]);
const COMPONENT = "apiserver";
const STORE_OPERATIONS = ["get", "list", "create", "update", "delete"];
const URL_CACHE_SIZE = 4096;

export interface Series {
  duration: HistogramChild;
  /** By status code. */
  total: CounterChild[];
  labels: string[];
  long?: GaugeChild;
  watchers?: GaugeChild;
  /** Watch, exec, attach, port-forward, proxy or log follow: not in flight, counted while open. */
  longRunning: boolean;
}

export interface ApiServerMetricsOptions {
  /** The kind a group, version and resource name serves, if any. */
  lookup: (group: string, version: string, resource: string) => KindDef | undefined;
  /** Served resources that are not kinds (metrics.k8s.io, reviews). */
  extraResource: (group: string, resource: string) => boolean;
  /** Kinds whose objects apiserver_storage_objects counts. */
  kinds: () => KindDef[];
  store: Store;
}

export class ApiServerMetrics {
  private readonly total: CounterVec;
  private readonly duration: HistogramVec;
  private readonly longRunning: GaugeVec;
  private readonly watchers: GaugeVec;
  private readonly etcd: HistogramVec;
  private readonly series = new Map<string, Series>();
  /** Series by method and URL (see seriesFor); bounded, cleared when full. */
  private readonly byUrl = new Map<string, Series>();
  /** Series of named objects' subresource URLs by their nameTemplate; bounded, cleared when full. */
  private readonly byTemplate = new Map<string, Series>();
  /** By type, then by operation (STORE_OPERATIONS' index). */
  private readonly etcdSeries = new Map<string, HistogramChild[]>();
  private inFlight = [0, 0];
  private peak = [0, 0];

  constructor(
    registry: Registry,
    private readonly opts: ApiServerMetricsOptions,
  ) {
    const registers = [registry];
    this.total = new CounterVec(
      "apiserver_request_total",
      "Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.",
      ["verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component", "code"],
      registry,
    );
    this.duration = new HistogramVec(
      "apiserver_request_duration_seconds",
      "Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.",
      ["verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component"],
      LATENCY_BUCKETS,
      registry,
    );
    this.longRunning = new GaugeVec(
      "apiserver_longrunning_requests",
      "Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component. Not all requests are tracked this way.",
      ["verb", "group", "version", "resource", "subresource", "scope", "component"],
      registry,
    );
    this.watchers = new GaugeVec(
      "apiserver_registered_watchers",
      "Number of currently registered watchers for a given resources",
      ["group", "version", "kind"],
      registry,
    );
    const self = this;
    new Gauge({
      name: "apiserver_current_inflight_requests",
      help: "Maximal number of currently used inflight request limit of this apiserver per request kind in last second.",
      labelNames: ["request_kind"],
      registers,
      collect() {
        // The peak since the last scrape, as upstream reports the peak of the last second.
        this.set({ request_kind: "readOnly" }, self.peak[0]!);
        this.set({ request_kind: "mutating" }, self.peak[1]!);
        self.peak = [...self.inFlight];
      },
    });
    new Gauge({
      name: "apiserver_storage_objects",
      help: "Number of stored objects at the time of last check split by kind. In case of a fetching error, the value will be -1.",
      labelNames: ["resource"],
      registers,
      async collect() {
        this.reset();
        const seen = new Set<string>();
        for (const kind of self.opts.kinds()) {
          const prefix = kindPrefix(kind);
          if (seen.has(prefix)) continue;
          seen.add(prefix);
          const count = await self.opts.store
            .list(prefix, { limit: 1 })
            .then((r) => r.kvs.length + (r.remaining ?? 0))
            .catch(() => -1);
          this.set({ resource: prefix.slice(10, -1) }, count);
        }
      },
    });
    this.etcd = new HistogramVec(
      "etcd_request_duration_seconds",
      "Etcd request latency in seconds for each operation and object type.",
      ["operation", "type"],
      LATENCY_BUCKETS,
      registry,
    );
  }

  /** Hono middleware measuring every request (put it first, so 401s and 403s count too). */
  middleware(): MiddlewareHandler {
    return async (c, next) => {
      const res = await this.measure(c.req.raw, async () => {
        await next();
        return c.res;
      });
      // Only a long-running answer is replaced (setting c.res copies the response).
      if (res !== c.res) c.res = res;
    };
  }

  /** Serves `handle` measured (the middleware's work, for requests served without the hono app). */
  async measure(req: Request, handle: () => Promise<Response>): Promise<Response> {
    const start = performance.now();
    const s = this.seriesFor(req);
    const kind = this.begin(req, s);
    let res: Response;
    try {
      res = await handle();
    } finally {
      if (!s.longRunning) this.inFlight[kind]!--;
    }
    return this.done(s, start, res);
  }

  /** measure() for a request answered in the same turn (no promise, no await). */
  measureNow(req: Request, handle: () => Response, series?: Series): Response {
    const start = performance.now();
    const s = series ?? this.seriesFor(req);
    const kind = this.begin(req, s);
    let res: Response;
    try {
      res = handle();
    } finally {
      if (!s.longRunning) this.inFlight[kind]!--;
    }
    return this.done(s, start, res);
  }

  /** Counts the request in flight; returns its kind (0 read-only, 1 mutating). */
  private begin(req: Request, s: Series): number {
    const kind = req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS" ? 0 : 1;
    if (!s.longRunning && ++this.inFlight[kind]! > this.peak[kind]!) this.peak[kind] = this.inFlight[kind]!;
    return kind;
  }

  private done(s: Series, start: number, res: Response): Response {
    const code = res.status;
    let total = s.total[code];
    if (!total) s.total[code] = total = this.total.with(...s.labels, String(code));
    total.inc();
    s.duration.observe((performance.now() - start) / 1000);
    return s.longRunning && res.body && code < 300 ? this.held(res, s) : res;
  }

  /** A response whose body counts as a long-running request (and a watcher) until it ends. */
  private held(res: Response, s: Series): Response {
    const [verb, , group, version, resource, subresource, scope] = s.labels;
    s.long ??= this.longRunning.with(verb!, group!, version!, resource!, subresource!, scope!, COMPONENT);
    s.long.inc();
    s.watchers?.inc();
    return whenBodyEnds(res, () => {
      s.long!.dec();
      s.watchers?.dec();
    });
  }

  /**
   * The series measureNow() counts a request in, for a caller that keeps it per URL (what a
   * request's method and URL text name does not change).
   */
  seriesNow(req: Request): Series {
    return this.seriesFor(req);
  }

  /** The etcd_request_duration_seconds child a store get of `key` is timed in (for a caller that keeps it). */
  storeGetSeries(key: string): HistogramChild {
    return this.storeSeries(0, key);
  }

  /**
   * The series of a request, found by its method and URL text alone when that URL was seen before
   * (a client polling one object, a controller's relists): no parsing, no label joins. Only requests
   * of served resources are kept: a path that is "other" now may be a custom resource's later.
   */
  private seriesFor(req: Request): Series {
    const method = req.method;
    const head = method === "PATCH" ? `PATCH ${req.headers.get("content-type")} ` : `${method} `;
    const url = req.url;
    const key = head + url;
    const cached = this.byUrl.get(key);
    if (cached) return cached;
    // A named object's subresource (a pod's binding): each object has its own URL, seen once; its
    // series is that of the URL with any other name in its place.
    const template = nameTemplate(url);
    const tkey = template === undefined ? undefined : head + template;
    if (tkey !== undefined) {
      const t = this.byTemplate.get(tkey);
      if (t) return t;
    }
    const [s, known, r] = this.seriesOf(req);
    if (known) {
      // Only when the name is the segment the template replaced and the subresource the last one:
      // then the path before and after it says all the labels do (see nameTemplate).
      const named = tkey !== undefined && r.name !== "" && r.subresource !== "" && r.lastIsSubresource;
      const cache = named ? this.byTemplate : this.byUrl;
      if (cache.size >= URL_CACHE_SIZE) cache.clear();
      cache.set(named ? tkey : key, s);
    }
    return s;
  }

  /** The label children of a request (made once per distinct label set), and whether it is a served resource's. */
  private seriesOf(req: Request): [Series, boolean, Shape] {
    const r = classify(req.method, req.url);
    const kind = r.resource === "" ? undefined : this.opts.lookup(r.group, r.version, r.resource);
    const known = kind !== undefined || (r.resource !== "" && this.opts.extraResource(r.group, r.resource));
    let labels: string[];
    if (known) {
      const scope = r.name !== "" || req.method === "POST" ? "resource" : r.namespace !== "" ? "namespace" : "cluster";
      const sub = r.subresource;
      let verb = req.method === "GET" || req.method === "HEAD" ? (scope === "resource" ? "GET" : "LIST") : req.method;
      if (r.watch) verb = "WATCH";
      else if (req.method === "PATCH" && req.headers.get("content-type") === "application/apply-patch+yaml")
        verb = "APPLY";
      if (sub !== "" && CONNECT_SUBRESOURCES.has(sub)) verb = "CONNECT";
      labels = [verb, r.dryRun, r.group, r.version, r.resource, sub, scope];
    } else {
      labels = [req.method, r.dryRun, "", "", "", NAMED_PATHS.has(r.path) ? r.path : "other", ""];
    }
    const key = labels.join("\0") + (r.longRunning ? "\0long" : "");
    let s = this.series.get(key);
    if (!s) {
      s = {
        duration: this.duration.with(...labels, COMPONENT),
        total: [],
        labels: [...labels, COMPONENT],
        longRunning: r.longRunning,
      };
      if (r.watch && kind) s.watchers = this.watchers.with(kind.group ?? "", kind.version, kind.kind);
      this.series.set(key, s);
    }
    return [s, known, r];
  }

  /** The store with every get, list, create, update and delete timed by operation and resource. */
  instrumentStore(store: Store): Store {
    const done = (op: number, key: string, start: number) => this.observeStore(op, key, performance.now() - start);
    const getNow = store.getNow?.bind(store);
    return {
      ...(getNow && {
        getNow(key: string) {
          const t = performance.now();
          try {
            return getNow(key);
          } finally {
            done(0, key, t);
          }
        },
      }),
      async get(key) {
        const t = performance.now();
        try {
          return await store.get(key);
        } finally {
          done(0, key, t);
        }
      },
      async list(prefix, opts) {
        const t = performance.now();
        try {
          return await store.list(prefix, opts);
        } finally {
          done(1, prefix, t);
        }
      },
      async create(key, value, opts) {
        const t = performance.now();
        try {
          return await store.create(key, value, opts);
        } finally {
          done(2, key, t);
        }
      },
      async update(key, value, expected) {
        const t = performance.now();
        try {
          return await store.update(key, value, expected);
        } finally {
          done(3, key, t);
        }
      },
      async delete(key, expected) {
        const t = performance.now();
        try {
          return await store.delete(key, expected);
        } finally {
          done(4, key, t);
        }
      },
      currentRevision: () => store.currentRevision(),
      watch: (prefix, opts) => store.watch(prefix, opts),
      compact: (revision) => store.compact(revision),
      compactedRevision: () => store.compactedRevision(),
      close: () => store.close(),
    };
  }

  private observeStore(op: number, key: string, ms: number): void {
    this.storeSeries(op, key).observe(ms / 1000);
  }

  private storeSeries(op: number, key: string): HistogramChild {
    // "/registry/<resource>[.<group>]/...": the type label is "<resource>[.<group>]", as upstream's.
    const end = key.indexOf("/", 10);
    const type = end > 10 ? key.slice(10, end) : key.slice(10);
    let children = this.etcdSeries.get(type);
    if (!children) {
      children = [];
      this.etcdSeries.set(type, children);
    }
    let h = children[op];
    if (!h) children[op] = h = this.etcd.with(STORE_OPERATIONS[op]!, type);
    return h;
  }
}

/**
 * The URL with the next-to-last segment of its path replaced by "\0" (undefined when that segment is
 * empty or the path is shorter). When classify read that segment as the object's name and the last
 * one as its subresource, any URL with the same template names the same resource and subresource:
 * classify decides group, version, watch, namespace and resource from segments before the name and
 * the length (the namespace check reads the resource or, for namespaces/NAME/status, the last
 * segment), and of the name only that it is not empty.
 */
function nameTemplate(url: string): string | undefined {
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  if (pathStart < 0) return undefined;
  const q = url.indexOf("?", pathStart);
  const end = q < 0 ? url.length : q;
  const last = url.lastIndexOf("/", end - 1);
  if (last <= pathStart) return undefined;
  const prev = url.lastIndexOf("/", last - 1);
  if (prev < pathStart || last - prev < 2) return undefined;
  return `${url.slice(0, prev + 1)}\0${url.slice(last)}`;
}

interface Shape {
  path: string;
  group: string;
  version: string;
  namespace: string;
  resource: string;
  name: string;
  subresource: string;
  watch: boolean;
  longRunning: boolean;
  dryRun: string;
  /** The path ends with the subresource (nothing after it): what seriesFor's name templates need. */
  lastIsSubresource: boolean;
}

const TRUE = /^(1|t|T|true|TRUE|True)$/;

/**
 * What the metrics need of a request, read from its URL text as kube-apiserver's RequestInfo
 * parses it, without a URL object (this runs for every request).
 */
export function classify(method: string, rawUrl: string): Shape {
  const q = rawUrl.indexOf("?");
  const pathStart = rawUrl.indexOf("/", rawUrl.indexOf("//") + 2);
  const path = rawUrl.slice(pathStart, q < 0 ? undefined : q);
  const query = q < 0 ? undefined : new URLSearchParams(rawUrl.slice(q + 1));
  const shape: Shape = {
    path,
    group: "",
    version: "",
    namespace: "",
    resource: "",
    name: "",
    subresource: "",
    watch: false,
    longRunning: false,
    dryRun: query?.has("dryRun") ? query.getAll("dryRun").sort().join(",") : "",
    lastIsSubresource: false,
  };
  const segs = path.split("/");
  let i: number;
  if (segs[1] === "api" && segs.length >= 4) {
    shape.version = segs[2]!;
    i = 3;
  } else if (segs[1] === "apis" && segs.length >= 5) {
    shape.group = segs[2]!;
    shape.version = segs[3]!;
    i = 4;
  } else return shape;
  if (segs[i] === "watch") {
    shape.watch = true;
    i++;
  }
  if (segs[i] === "namespaces" && segs.length > i + 2 && segs[i + 2] !== "status" && segs[i + 2] !== "finalize") {
    shape.namespace = segs[i + 1]!;
    i += 2;
  }
  shape.resource = segs[i] ?? "";
  shape.name = segs[i + 1] ?? "";
  shape.subresource = segs[i + 2] ?? "";
  shape.lastIsSubresource = segs.length === i + 3;
  if (query && !shape.name && method === "GET" && TRUE.test(query.get("watch") ?? "")) shape.watch = true;
  // Upstream's LongRunningRequestCheck: watches, and the attach, exec, proxy, log and portforward subresources.
  shape.longRunning = shape.watch || CONNECT_SUBRESOURCES.has(shape.subresource);
  return shape;
}
