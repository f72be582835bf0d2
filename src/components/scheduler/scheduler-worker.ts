// The scheduler's thread (thread.ts starts it): the same SchedulerLoop, reaching the API server on
// the main thread over the MessagePort it is given (portTransport). Says "ready" once loaded.
import { createClient, portTransport } from "../../client/index.ts";
import { Registry } from "../metrics/hub.ts";
import { SchedulerLoop } from "./index.ts";
import type { ToMain, ToWorker } from "./thread.ts";

declare const self: Worker;
const post = (m: ToMain) => self.postMessage(m);
const log = (message: string) => post({ t: "log", message });
let scheduler: SchedulerLoop | undefined;
let registry: Registry | undefined;

// What the main thread's process would report: this thread's own failures reach the log.
process.on("unhandledRejection", (err) => log(`unhandled rejection: ${(err as Error)?.stack ?? String(err)}`));

self.onmessage = async (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  switch (m.t) {
    case "start":
      try {
        registry = m.metrics ? new Registry() : undefined;
        scheduler = new SchedulerLoop(createClient(portTransport(m.port)), log, registry);
        await scheduler.start();
        post({ t: "started" });
      } catch (err) {
        post({ t: "failed", error: (err as Error).message });
      }
      return;
    case "stop":
      await scheduler?.stop().catch((err: Error) => log(`stopping: ${err.message}`));
      post({ t: "stopped" });
      return;
    case "metrics":
      post({ t: "metrics", id: m.id, text: registry ? await registry.metrics() : "" });
      return;
    case "stats":
      post({
        t: "stats",
        id: m.id,
        stats: {
          decisions: { ...(scheduler?.decisions ?? { ms: 0 }) },
          preemption: { ...(scheduler?.preemption ?? { ms: 0, runs: 0 }) },
        },
      });
      return;
  }
};
post({ t: "ready" });
