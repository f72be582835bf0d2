// The tar writer's output is read back by the system's tar.
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildTar } from "./tar.ts";

test("a tar of a directory, a file and a symlink unpacks with the system tar", () => {
  const dir = mkdtempSync(join(tmpdir(), "kube-tar-"));
  try {
    const data = new Uint8Array(1000).map((_, i) => i % 251);
    const tar = buildTar([
      { type: "dir", path: "bin" },
      { type: "file", path: "bin/prog", data, mode: 0o755 },
      { type: "symlink", path: "bin/alias", target: "prog" },
    ]);
    writeFileSync(join(dir, "a.tar"), tar);
    const r = Bun.spawnSync(["tar", "-C", dir, "-xf", join(dir, "a.tar")]);
    expect(r.exitCode).toBe(0);
    expect(new Uint8Array(readFileSync(join(dir, "bin/prog")))).toEqual(data);
    expect(statSync(join(dir, "bin/prog")).mode & 0o777).toBe(0o755);
    expect(readlinkSync(join(dir, "bin/alias"))).toBe("prog");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
