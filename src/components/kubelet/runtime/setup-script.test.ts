// scripts/podman-setup.sh: quick and quiet when the engine and images are there; one clear line
// and a failure when no engine answers and it may not install one.

import { expect, test } from "bun:test";
import { resolve } from "node:path";

const script = resolve(import.meta.dir, "../../../../scripts/podman-setup.sh");

test("run again with everything in place, it only checks: exit 0, one line, well under a second or two", () => {
  Bun.spawnSync(["bash", script]); // first run may install or import
  const t0 = performance.now();
  const r = Bun.spawnSync(["bash", script], { stdout: "pipe", stderr: "pipe" });
  expect(r.stderr.toString()).toBe("");
  expect(r.exitCode).toBe(0);
  expect(r.stdout.toString()).toMatch(/^podman-setup: engine ready on \S+\n$/);
  expect(performance.now() - t0).toBeLessThan(3000);
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
