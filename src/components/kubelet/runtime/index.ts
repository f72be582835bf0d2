// Entry point of the kubelet's runtime layer: the contract, both implementations, and
// `createRuntime` which picks one from `--runtime engine|sim` and `--container-socket`.

import { connectEngine } from "./engine.ts";
import { SimRuntime, type SimOptions } from "./sim.ts";
import type { ContainerRuntime } from "./types.ts";

export * from "./types.ts";
export {
  EngineRuntime,
  connectEngine,
  findEngineSocket,
  pingSocket,
  socketCandidates,
  START_HINT,
  splitRef,
} from "./engine.ts";
export { SimRuntime, type SimOptions } from "./sim.ts";

export interface CreateRuntimeOptions {
  runtime: "engine" | "sim";
  /** --container-socket */
  containerSocket?: string;
  env?: Record<string, string | undefined>;
  sim?: SimOptions;
}

/** The runtime a node uses; for "engine" it throws RuntimeUnavailableError (one line) when no engine answers. */
export async function createRuntime(opts: CreateRuntimeOptions): Promise<ContainerRuntime> {
  if (opts.runtime === "sim") return new SimRuntime(opts.sim);
  const rt = await connectEngine({ flag: opts.containerSocket, env: opts.env });
  await rt.ensurePauseImage();
  return rt;
}
