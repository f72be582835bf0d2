// The scheduler on a thread of its own (scheduler-worker.ts), as upstream's kube-scheduler is a
// process of its own: its informers decode the watches, its decisions run there, and this thread
// only serves its requests (servePort, through the scheduler's own client: its identity, priority
// level, admission and audit as before). Its log lines, its metrics (for /metrics) and its
// figures for benchmarks come over the worker's messages.
import type { Client } from "../../client/index.ts";
import { servePort } from "../../client/index.ts";
import type { MetricsHub } from "../metrics/hub.ts";

export interface SchedulerStats {
  decisions: { ms: number };
  preemption: { ms: number; runs: number };
}

export type ToWorker =
  | { t: "start"; port: MessagePort; metrics: boolean }
  | { t: "stop" }
  | { t: "metrics"; id: number }
  | { t: "stats"; id: number };
export type ToMain =
  | { t: "ready" }
  | { t: "started" }
  | { t: "failed"; error: string }
  | { t: "log"; message: string }
  | { t: "stopped" }
  | { t: "metrics"; id: number; text: string }
  | { t: "stats"; id: number; stats: SchedulerStats };

/** The thread could not run at all (a build without its entry point, say): schedule on this thread instead. */
export class ThreadUnavailable extends Error {}

export interface SchedulerThread {
  stats(): Promise<SchedulerStats>;
  stop(): Promise<void>;
}

/** How long a stop waits for the thread to end its loop and watches before it is terminated. */
const STOP_MS = 5_000;
/** How long a scrape waits for the thread's metrics. */
const SCRAPE_MS = 2_000;

export async function startSchedulerThread(
  client: Client,
  log: (msg: string) => void,
  hub?: MetricsHub,
): Promise<SchedulerThread> {
  let worker: Worker;
  try {
    worker = new Worker(new URL("./scheduler-worker.ts", import.meta.url).href);
  } catch (err) {
    throw new ThreadUnavailable(`scheduler thread: ${(err as Error).message}`);
  }
  const { port1, port2 } = new MessageChannel();
  const stopServing = servePort(port1, client.transport);
  let nextId = 1;
  const asked = new Map<number, (m: ToMain) => void>();
  const ask = <R>(m: ToWorker & { id: number }, read: (a: ToMain) => R, timeoutMs: number, fallback: R) =>
    new Promise<R>((resolve) => {
      const t = setTimeout(() => {
        asked.delete(m.id);
        resolve(fallback);
      }, timeoutMs);
      asked.set(m.id, (a) => {
        clearTimeout(t);
        resolve(read(a));
      });
      worker.postMessage(m);
    });
  let ready = false;
  let ended = false;
  const stopped = Promise.withResolvers<void>();
  const started = Promise.withResolvers<void>();
  worker.onmessage = (e: MessageEvent<ToMain>) => {
    const m = e.data;
    switch (m.t) {
      case "ready":
        ready = true;
        worker.postMessage({ t: "start", port: port2, metrics: hub !== undefined } satisfies ToWorker, [port2]);
        return;
      case "started":
        started.resolve();
        return;
      case "failed":
        started.reject(new Error(m.error));
        return;
      case "log":
        log(m.message);
        return;
      case "stopped":
        stopped.resolve();
        return;
      case "metrics":
      case "stats":
        asked.get(m.id)?.(m);
        asked.delete(m.id);
        return;
    }
  };
  worker.onerror = (e: ErrorEvent) => {
    if (!ready) started.reject(new ThreadUnavailable(`scheduler thread: ${e.message}`));
    // After a start this is a bug in the scheduler: say so (the thread ends; the process goes on).
    else log(`scheduler thread failed: ${e.message}`);
  };
  worker.addEventListener("close", () => {
    ended = true;
    stopped.resolve();
    started.reject(new Error("the scheduler thread ended"));
  });
  const source = hub && {
    metrics: () =>
      ended
        ? Promise.resolve("")
        : ask({ t: "metrics", id: nextId++ }, (a) => (a.t === "metrics" ? a.text : ""), SCRAPE_MS, ""),
  };
  const end = () => {
    if (source) hub?.remove(source);
    stopServing();
    worker.terminate();
  };
  try {
    await started.promise;
  } catch (err) {
    end();
    throw err;
  }
  if (source) hub?.add(source);
  return {
    stats: () =>
      ask({ t: "stats", id: nextId++ }, (a) => (a.t === "stats" ? a.stats : undefined), SCRAPE_MS, undefined).then(
        (s) => s ?? { decisions: { ms: 0 }, preemption: { ms: 0, runs: 0 } },
      ),
    async stop() {
      if (!ended) {
        worker.postMessage({ t: "stop" } satisfies ToWorker);
        const timer = setTimeout(() => stopped.resolve(), STOP_MS);
        await stopped.promise;
        clearTimeout(timer);
      }
      end();
    },
  };
}
