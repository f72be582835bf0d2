// Finding the container engine's API socket: --container-socket, DOCKER_HOST (unix://), then the
// usual places Podman and Docker listen on. The first that answers /_ping wins.

import { existsSync } from "node:fs";
import { API_VERSION } from "./engine-http.ts";
import { RuntimeUnavailableError } from "./types.ts";

export interface FindSocketOptions {
  /** The --container-socket flag; when given, it is the only place tried. */
  flag?: string;
  env?: Record<string, string | undefined>;
  /** Per-socket ping timeout. */
  timeoutMs?: number;
}

export const START_HINT =
  "start Podman with `podman system service --time=0 unix:///run/podman/podman.sock &` (scripts/podman-setup.sh installs and starts it), or use --runtime sim";

/** The sockets to try, in order. */
export function socketCandidates(opts: FindSocketOptions = {}): string[] {
  if (opts.flag) return [opts.flag.replace(/^unix:\/\//, "")];
  const env = opts.env ?? process.env;
  const out: string[] = [];
  const dh = env.DOCKER_HOST;
  if (dh?.startsWith("unix://")) out.push(dh.slice("unix://".length));
  out.push("/run/podman/podman.sock");
  if (env.XDG_RUNTIME_DIR) out.push(`${env.XDG_RUNTIME_DIR}/podman/podman.sock`);
  out.push("/var/run/docker.sock");
  return [...new Set(out)];
}

/** True when an engine answers `GET /_ping` with OK on this socket. */
export async function pingSocket(path: string, timeoutMs = 2000): Promise<boolean> {
  if (!existsSync(path)) return false;
  try {
    const res = await fetch(`http://d/${API_VERSION}/_ping`, {
      unix: path,
      signal: AbortSignal.timeout(timeoutMs),
    } as RequestInit);
    return res.ok && (await res.text()).trim() === "OK";
  } catch {
    return false;
  }
}

/** The first socket that answers; RuntimeUnavailableError (one line: what was tried, how to fix) otherwise. */
export async function findEngineSocket(opts: FindSocketOptions = {}): Promise<string> {
  const tried = socketCandidates(opts);
  for (const path of tried) if (await pingSocket(path, opts.timeoutMs)) return path;
  throw new RuntimeUnavailableError(tried, `no container engine answers (tried ${tried.join(", ")}); ${START_HINT}`);
}
