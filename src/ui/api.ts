// The dashboard's API access: every call carries the session's bearer token, errors become the
// server's Status message, and watches (list, then watch from its resourceVersion) reconnect
// with backoff, relisting, whenever the stream ends: the page outlives an API server restart.
export interface K8sObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
    generation?: number;
    deletionTimestamp?: string;
    managedFields?: unknown;
  };
  // biome-ignore lint/suspicious/noExplicitAny: objects of every kind are read field by field
  spec?: any;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  status?: any;
  [k: string]: unknown;
}

export interface StatusBody {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
  }
}

export type Unauthorized = () => void;

/** Browsers cannot set headers on a WebSocket: the token is offered as a subprotocol, as kube-apiserver accepts. */
export const BEARER_PROTOCOL_PREFIX = "base64url.bearer.authorization.k8s.io.";
export const base64url = (s: string) =>
  btoa(String.fromCharCode(...new TextEncoder().encode(s)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
export const wsUrl = (path: string) => `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;

type WatchEvent = { type: string; object: K8sObject & StatusBody };

/**
 * All of a page's watches over one WebSocket (see the server's dashboard-watch.ts): a browser
 * keeps six connections per server, and each plain watch would hold one.
 */
class WatchMux {
  private ws?: WebSocket;
  private opening?: Promise<WebSocket>;
  private readonly open = new Map<
    string,
    { event(e: WatchEvent): void; end(err?: Error): void; forwarding?(port: number): void }
  >();
  private next = 0;
  constructor(private readonly token: string) {}

  private connect(): Promise<WebSocket> {
    if (this.ws?.readyState === WebSocket.OPEN) return Promise.resolve(this.ws);
    this.opening ??= new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(wsUrl("/ui/watch"), [
        "watch.dashboard.kube",
        BEARER_PROTOCOL_PREFIX + base64url(this.token),
      ]);
      ws.onopen = () => {
        this.ws = ws;
        this.opening = undefined;
        resolve(ws);
      };
      ws.onclose = () => {
        if (this.ws === ws) this.ws = undefined;
        this.opening = undefined;
        reject(new Error("the watch connection to the API server closed"));
        const open = [...this.open.values()];
        this.open.clear();
        for (const h of open) h.end(new Error("the watch connection to the API server closed"));
      };
      ws.onmessage = (ev) => {
        const m = JSON.parse(String(ev.data)) as {
          id: string;
          event?: WatchEvent;
          forwarding?: { port: number };
          end?: boolean;
          reason?: string;
          code?: number;
          status?: StatusBody;
        };
        const h = this.open.get(m.id);
        if (!h) return;
        if (m.event) return h.event(m.event);
        if (m.forwarding) return h.forwarding?.(m.forwarding.port);
        this.open.delete(m.id);
        h.end(
          m.code
            ? new ApiError(m.code, m.status?.message ?? `watch failed with ${m.code}`, m.status?.reason)
            : m.reason
              ? new Error(m.reason)
              : undefined,
        );
      };
    });
    return this.opening;
  }

  /** Watches `path` until the stream ends (resolves), fails (rejects) or `signal` aborts. */
  async watch(path: string, signal: AbortSignal, onEvent: (e: WatchEvent) => void): Promise<void> {
    const ws = await this.connect();
    const id = String(++this.next);
    return new Promise<void>((resolve, reject) => {
      this.open.set(id, { event: onEvent, end: (err) => (err ? reject(err) : resolve()) });
      ws.send(JSON.stringify({ id, path }));
      signal.addEventListener("abort", () => {
        if (!this.open.delete(id)) return;
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ id }));
        resolve();
      });
    });
  }

  /**
   * Asks the API server to forward a port of 127.0.0.1 on its host to the pod's port (see the
   * server's dashboard-forward.ts). Resolves with the local port once listening; `ended` is called
   * once when the forward ends (stopped, the pod gone, the connection to the server lost).
   */
  async forward(target: ForwardTarget, ended: (why?: string) => void): Promise<{ port: number; stop(): void }> {
    const ws = await this.connect();
    const id = String(++this.next);
    return new Promise((resolve, reject) => {
      let started = false;
      let over = false;
      const finish = (why?: string) => {
        if (!over) ended(why);
        over = true;
      };
      this.open.set(id, {
        event() {},
        forwarding: (port) => {
          started = true;
          resolve({
            port,
            stop: () => {
              if (this.open.delete(id) && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ id }));
              finish();
            },
          });
        },
        end: (err) => (started ? finish(err?.message) : reject(err ?? new Error("the port-forward ended"))),
      });
      ws.send(JSON.stringify({ id, forward: target }));
    });
  }
}

export interface ForwardTarget {
  namespace: string;
  pod: string;
  port: number;
}

export interface PortForward {
  key: string;
  target: ForwardTarget;
  /** The port on 127.0.0.1 of the API server's host. */
  port: number;
  /** Why it ended (stopped, the pod gone, the server connection lost); undefined while it runs. */
  ended?: string;
  stop(): void;
}

/** A session: the token and what to do when the server stops accepting it. */
export class Api {
  private readonly mux: WatchMux;
  constructor(
    readonly token: string,
    private readonly onUnauthorized: Unauthorized,
  ) {
    this.mux = new WatchMux(token);
  }

  watch(path: string, signal: AbortSignal, onEvent: (e: WatchEvent) => void): Promise<void> {
    return this.mux.watch(path, signal, onEvent);
  }

  /** The page's port-forwards by "namespace/pod:port": they outlive the panel that started them. */
  readonly forwards = new Map<string, PortForward>();
  private readonly forwardListeners = new Set<() => void>();

  /** Calls `on` whenever a port-forward starts or ends; returns the unsubscribe. */
  onForwards(on: () => void): () => void {
    this.forwardListeners.add(on);
    return () => this.forwardListeners.delete(on);
  }

  /** Starts a port-forward (again, if one of the same pod and port ended). Rejects with the server's message. */
  async startForward(target: ForwardTarget): Promise<PortForward> {
    const key = `${target.namespace}/${target.pod}:${target.port}`;
    const had = this.forwards.get(key);
    if (had && !had.ended) return had;
    const changed = () => {
      for (const on of this.forwardListeners) on();
    };
    const f: PortForward = { key, target, port: 0, stop() {} };
    const started = await this.mux.forward(target, (why) => {
      f.ended = why ?? "stopped";
      changed();
    });
    f.port = started.port;
    f.stop = started.stop;
    this.forwards.set(key, f);
    changed();
    return f;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.token}`, accept: "application/json", ...extra };
  }

  async request(method: string, path: string, body?: string, contentType?: string): Promise<Response> {
    const res = await fetch(path, {
      method,
      headers: this.headers(contentType ? { "content-type": contentType } : {}),
      body,
    });
    if (res.status === 401) this.onUnauthorized();
    if (!res.ok) throw await errorOf(res);
    return res;
  }

  async get<T = K8sObject>(path: string): Promise<T> {
    return (await this.request("GET", path)).json() as Promise<T>;
  }

  async send<T = K8sObject>(method: string, path: string, body: unknown, contentType = "application/json"): Promise<T> {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    return (await this.request(method, path, text, contentType)).json() as Promise<T>;
  }

  mergePatch(path: string, patch: unknown): Promise<K8sObject> {
    return this.send("PATCH", path, patch, "application/merge-patch+json");
  }

  /** Server-side apply of YAML text, as the dashboard's field manager. */
  apply(path: string, yamlText: string): Promise<K8sObject> {
    return this.send(
      "PATCH",
      `${path}?fieldManager=kube-dashboard&force=true`,
      yamlText,
      "application/apply-patch+yaml",
    );
  }

  remove(path: string): Promise<unknown> {
    return this.send("DELETE", path, { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Background" });
  }

  /** Streams a response body line by line until `signal` aborts or the stream ends. */
  async lines(path: string, signal: AbortSignal, onLine: (line: string) => void): Promise<void> {
    const res = await fetch(path, { headers: this.headers(), signal });
    if (res.status === 401) this.onUnauthorized();
    if (!res.ok || !res.body) throw await errorOf(res);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let i = buf.indexOf("\n");
      while (i >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
        i = buf.indexOf("\n");
      }
    }
    if (buf) onLine(buf);
  }
}

export async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => "");
  try {
    const s = JSON.parse(text) as StatusBody;
    if (s.message) return new ApiError(res.status, s.message, s.reason);
  } catch {}
  return new ApiError(res.status, text || `${res.status} ${res.statusText}`);
}

export const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

export interface WatchHandlers {
  /** The whole list (after every (re)list). */
  reset(items: K8sObject[]): void;
  event(type: "ADDED" | "MODIFIED" | "DELETED", obj: K8sObject): void;
  /** Connected (undefined) or why not, while retrying. */
  state(error: string | undefined): void;
}

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000];

/** Lists and watches `listPath` until the returned function is called. */
export function watchList(api: Api, listPath: string, h: WatchHandlers): () => void {
  const ctrl = new AbortController();
  let attempt = 0;
  const sep = listPath.includes("?") ? "&" : "?";
  const run = async () => {
    while (!ctrl.signal.aborted) {
      try {
        const list = await api.get<{ items: K8sObject[]; metadata: { resourceVersion: string } }>(listPath);
        h.reset(list.items ?? []);
        h.state(undefined);
        attempt = 0;
        const rv = list.metadata.resourceVersion;
        // An ERROR (410 Gone: compacted) ends the stream; the loop lists again.
        await api.watch(`${listPath}${sep}allowWatchBookmarks=true&resourceVersion=${rv}`, ctrl.signal, (ev) => {
          if (ev.type === "ADDED" || ev.type === "MODIFIED" || ev.type === "DELETED") h.event(ev.type, ev.object);
        });
      } catch (err) {
        if (ctrl.signal.aborted) return;
        h.state(messageOf(err));
        if (err instanceof ApiError && err.code === 403) return;
        const wait = BACKOFF_MS[Math.min(attempt++, BACKOFF_MS.length - 1)]!;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  };
  void run();
  return () => ctrl.abort();
}
