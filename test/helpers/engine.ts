// For tests that need real containers: runs scripts/podman-setup.sh once per process (it starts
// Podman and imports localhost/busybox:latest when missing) and finds the engine's socket.
// A missing engine fails the test with the script's own message: in CI it is a failure, not a skip.

import { resolve } from "node:path";
import { findEngineSocket } from "../../src/components/kubelet/runtime/engine-socket.ts";

export const BUSYBOX_IMAGE = "localhost/busybox:latest";

let ready: Promise<string> | null = null;

/** The engine socket path, once the engine answers and the busybox image exists. */
export function ensureEngine(): Promise<string> {
  ready ??= (async () => {
    const script = resolve(import.meta.dir, "../../scripts/podman-setup.sh");
    const r = Bun.spawnSync(["bash", script], { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) {
      throw new Error(`container engine not available: ${r.stderr.toString().trim() || r.stdout.toString().trim()}`);
    }
    return findEngineSocket();
  })();
  return ready;
}
