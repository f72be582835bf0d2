// scripts/podman-setup.sh: quick and quiet when the engine and images are there; one clear line
// and a failure when no engine answers and it may not install one.

import { expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const script = resolve(import.meta.dir, "../../../../scripts/podman-setup.sh");

test("run again with everything in place, it only checks: exit 0, one line, no package installed", () => {
  Bun.spawnSync(["bash", script]); // first run may install or import
  // A second run must not reach for the package manager: apt-get and dpkg are shims that leave a mark.
  const shims = mkdtempSync(join(tmpdir(), "setup-shims-"));
  const mark = join(shims, "called");
  for (const tool of ["apt-get", "apt"]) {
    writeFileSync(join(shims, tool), `#!/bin/sh\necho "$0 $*" >> ${mark}\nexit 1\n`, { mode: 0o755 });
  }
  try {
    const r = Bun.spawnSync(["bash", script], {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, PATH: `${shims}:${process.env.PATH ?? "/usr/bin:/bin"}` },
    });
    expect(r.stderr.toString()).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout.toString()).toMatch(/^podman-setup: engine ready on \S+\n$/);
    expect(existsSync(mark) ? readFileSync(mark, "utf8") : "").toBe("");
  } finally {
    rmSync(shims, { recursive: true, force: true });
  }
});

const canDropRoot = process.getuid?.() === 0 && Bun.which("runuser") !== null;
test.skipIf(!canDropRoot)(
  "as a user who can neither reach the socket nor install, it says what to do and fails (needs root to run as nobody)",
  () => {
    const r = Bun.spawnSync(["runuser", "-u", "nobody", "--", "bash", script], {
      stdout: "pipe",
      stderr: "pipe",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      cwd: "/tmp",
    });
    expect(r.exitCode).not.toBe(0);
    const lines = r.stderr.toString().trim().split("\n");
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain("no container engine answers");
    expect(lines[0]).toContain("podman system service");
  },
);
