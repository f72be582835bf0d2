// A real container runtime that answers late, as a loaded engine does: each create, start, stop,
// remove, list or inspect is done at once (a read describes the containers as they were then),
// and its answer is handed back only after a delay, so answers arrive stale and out of order.
import type { ContainerRuntime } from "../../src/components/kubelet/runtime/index.ts";

const LAGGED = new Set([
  "listContainers",
  "inspect",
  "createPodSandbox",
  "createContainer",
  "startContainer",
  "stopContainer",
  "removeContainer",
]);

/** `lagMs(op)`: how long the answer of call `op` (a ContainerRuntime method) is held back. */
export function laggingRuntime(inner: ContainerRuntime, lagMs: (op: string) => number): ContainerRuntime {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      if (!LAGGED.has(String(prop))) return value.bind(target);
      return async (...args: unknown[]) => {
        const answer = await value.apply(target, args);
        const lag = lagMs(String(prop));
        // Holding an answer back is what this helper is for (an engine that is slow to reply).
        if (lag > 0) await Bun.sleep(lag);
        return answer;
      };
    },
  });
}
