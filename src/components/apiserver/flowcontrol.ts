// Overload protection at the API server's socket, kube-apiserver's max-in-flight limits and API
// Priority and Fairness in small. Requests that carry the cluster's admin token are exempt (as
// upstream exempts system:masters), and the cluster's own components never reach this gate (they
// call the app in process). Everyone else shares a budget of requests in flight (read-only and
// mutating counted apart, as --max-requests-inflight / --max-mutating-requests-inflight), of which
// one client (one credential, a flow) may hold at most a fair share; beyond it a request waits in
// its client's short queue, and beyond that it gets upstream's 429 with Retry-After. Watches and
// other long-running requests are not in flight but counted per client.

import { whenBodyEnds } from "./body-end.ts";

export interface FlowControlOptions {
  /** Read-only requests in flight at once, over all non-exempt clients. Default 400. */
  maxReadOnly?: number;
  /** Mutating requests in flight at once. Default 200. */
  maxMutating?: number;
  /** Share of each budget one client may hold. Default 1/4. */
  clientShare?: number;
  /** Requests a client may have waiting for a seat. Default 50. */
  queueLength?: number;
  /** How long a request may wait for a seat before its 429. Default 15 s. */
  queueWaitMs?: number;
  /** Watches and other long-running requests one client may hold open. Default 100. */
  maxLongRunningPerClient?: number;
}

type Budget = {
  limit: number;
  perClient: number;
  inFlight: number;
  byClient: Map<string, number>;
  waiting: Map<string, (() => void)[]>;
};

const NO_QUERY = new URLSearchParams();
const LONG_RUNNING_SUBRESOURCES = new Set(["exec", "attach", "portforward", "proxy"]);

/** Whether a request is long-running in kube-apiserver's sense (watch, exec, attach, port-forward, proxy, log follow). */
export function isLongRunning(req: Request, url: URL): boolean {
  return isLongRunningPath(req, url.pathname, url.searchParams);
}

function isLongRunningPath(req: Request, pathname: string, q: URLSearchParams): boolean {
  if (/^(1|t|T|true|TRUE|True)$/.test(q.get("watch") ?? "") || pathname.includes("/watch/")) return true;
  if (pathname.endsWith("/log") && /^(1|t|T|true|TRUE|True)$/.test(q.get("follow") ?? "")) return true;
  const segs = pathname.split("/");
  return (
    segs.some((s) => LONG_RUNNING_SUBRESOURCES.has(s)) ||
    (req.headers.get("upgrade") ?? "").toLowerCase() === "websocket"
  );
}

export class FlowControl {
  private readonly readOnly: Budget;
  private readonly mutating: Budget;
  private readonly longRunning = new Map<string, number>();
  private readonly queueLength: number;
  private readonly queueWaitMs: number;
  private readonly maxLongRunning: number;

  constructor(
    private readonly exempt: (req: Request) => boolean,
    opts: FlowControlOptions = {},
  ) {
    const share = opts.clientShare ?? 0.25;
    const budget = (limit: number): Budget => ({
      limit,
      perClient: Math.max(1, Math.floor(limit * share)),
      inFlight: 0,
      byClient: new Map(),
      waiting: new Map(),
    });
    this.readOnly = budget(opts.maxReadOnly ?? 400);
    this.mutating = budget(opts.maxMutating ?? 200);
    this.queueLength = opts.queueLength ?? 50;
    this.queueWaitMs = opts.queueWaitMs ?? 15_000;
    this.maxLongRunning = opts.maxLongRunningPerClient ?? 100;
  }

  /** Serves `handle` within the budgets, or answers 429. */
  run(req: Request, handle: () => Promise<Response>): Promise<Response> {
    return this.exempt(req) ? handle() : this.limited(req, handle);
  }

  /**
   * Serves a request whose `handle` answers without waiting, if it may run at once (exempt, or a
   * read-only seat free with no one queued for one); undefined (nothing run) otherwise, and for a
   * URL with a query. Such a request holds its seat for no time at all: nothing is taken.
   */
  runNow(req: Request, handle: (req: Request) => Response | undefined): Response | undefined {
    if (this.exempt(req)) return handle(req);
    const url = req.url;
    if (req.method !== "GET" || url.includes("?")) return undefined;
    if (this.readOnly.waiting.size > 0 || !this.fits(this.readOnly, req.headers.get("authorization") || "anonymous"))
      return undefined;
    const path = url.slice(url.indexOf("/", url.indexOf("//") + 2));
    return isLongRunningPath(req, path, NO_QUERY) ? undefined : handle(req);
  }

  private async limited(req: Request, handle: () => Promise<Response>): Promise<Response> {
    const url = new URL(req.url);
    const client = req.headers.get("authorization") || "anonymous";
    if (isLongRunning(req, url)) return this.runLong(client, handle);
    const budget = ["GET", "HEAD", "OPTIONS"].includes(req.method.toUpperCase()) ? this.readOnly : this.mutating;
    if (!(await this.acquire(budget, client))) return tooManyRequests();
    try {
      return await handle();
    } finally {
      this.release(budget, client);
    }
  }

  private async runLong(client: string, handle: () => Promise<Response>): Promise<Response> {
    const open = this.longRunning.get(client) ?? 0;
    if (open >= this.maxLongRunning) return tooManyRequests();
    this.longRunning.set(client, open + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const n = (this.longRunning.get(client) ?? 1) - 1;
      if (n > 0) this.longRunning.set(client, n);
      else this.longRunning.delete(client);
    };
    let res: Response;
    try {
      res = await handle();
    } catch (err) {
      release();
      throw err;
    }
    // Held until the body ends or the client goes away (no body: released at once).
    return whenBodyEnds(res, release);
  }

  private acquire(b: Budget, client: string): Promise<boolean> | boolean {
    if (this.fits(b, client)) {
      this.take(b, client);
      return true;
    }
    const queue = b.waiting.get(client) ?? [];
    if (queue.length >= this.queueLength) return false;
    b.waiting.set(client, queue);
    return new Promise<boolean>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.take(b, client);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const q = b.waiting.get(client);
        const i = q?.indexOf(wake) ?? -1;
        if (i >= 0) q!.splice(i, 1);
        if (q && q.length === 0) b.waiting.delete(client);
        resolve(false);
      }, this.queueWaitMs);
      queue.push(wake);
    });
  }

  private fits(b: Budget, client: string): boolean {
    return b.inFlight < b.limit && (b.byClient.get(client) ?? 0) < b.perClient;
  }

  private take(b: Budget, client: string): void {
    b.inFlight++;
    b.byClient.set(client, (b.byClient.get(client) ?? 0) + 1);
  }

  private release(b: Budget, client: string): void {
    b.inFlight--;
    const n = (b.byClient.get(client) ?? 1) - 1;
    if (n > 0) b.byClient.set(client, n);
    else b.byClient.delete(client);
    // Wake the longest-waiting client that now fits: clients take turns, one request each.
    for (const [waiter, queue] of b.waiting) {
      if (!this.fits(b, waiter)) continue;
      const wake = queue.shift()!;
      b.waiting.delete(waiter);
      if (queue.length) b.waiting.set(waiter, queue); // to the back of the line
      wake();
      return;
    }
  }
}

/** kube-apiserver's answer when a priority level is full. */
export function tooManyRequests(): Response {
  const status = {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: "Too many requests, please try again later.",
    reason: "TooManyRequests",
    details: { retryAfterSeconds: 1 },
    code: 429,
  };
  return new Response(`${JSON.stringify(status)}\n`, {
    status: 429,
    headers: { "content-type": "application/json", "retry-after": "1" },
  });
}
