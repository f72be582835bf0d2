// The pod infra ("pause") image, built locally from the static busybox so that no registry is
// needed: a root filesystem holding /bin/busybox with `sh` and `sleep`, imported as an image.

import { existsSync, readFileSync } from "node:fs";
import { buildTar, type TarEntry } from "./tar.ts";

/** Where the busybox-static package puts its binary. */
export const BUSYBOX_PATHS = ["/bin/busybox", "/usr/bin/busybox"];

/**
 * What the infra container runs: sleep forever, and exit at once on SIGTERM/SIGINT (PID 1 has no
 * default signal handlers, so without the trap every stop would wait for the SIGKILL timeout).
 */
export const PAUSE_COMMAND = ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 86400 & wait $!; done"];

export function findBusybox(): string {
  const p = BUSYBOX_PATHS.find((p) => existsSync(p));
  if (!p)
    throw new Error(
      `no static busybox at ${BUSYBOX_PATHS.join(" or ")}: install busybox-static (scripts/podman-setup.sh does)`,
    );
  return p;
}

/** The rootfs tar of the pause image. */
export function pauseRootfs(busybox = findBusybox()): Uint8Array {
  const entries: TarEntry[] = [
    { type: "dir", path: "bin" },
    { type: "file", path: "bin/busybox", data: new Uint8Array(readFileSync(busybox)), mode: 0o755 },
    { type: "symlink", path: "bin/sh", target: "busybox" },
    { type: "symlink", path: "bin/sleep", target: "busybox" },
  ];
  for (const d of ["dev", "etc", "proc", "sys", "tmp"])
    entries.push({ type: "dir", path: d, mode: d === "tmp" ? 0o1777 : 0o755 });
  return buildTar(entries);
}
