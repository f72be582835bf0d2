// The data dir's modes are enforced at every start: a dir that existed before with loose modes
// (0755 dir, 0644 database and keys) is 0700 / 0600 once the API server has booted on it.
import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootApiServer } from "../../src/components/apiserver/boot.ts";

const dir = mkdtempSync(join(tmpdir(), "kube-modes-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const mode = (p: string) => statSync(join(dir, p)).mode & 0o777;

test("an existing data dir with loose modes is tightened at start; pod dirs are left alone", async () => {
  const first = await bootApiServer({ dataDir: dir, host: "127.0.0.1", port: 0 });
  await first.stop();
  chmodSync(dir, 0o755);
  for (const f of ["kube.db", "token", "sa.key", "pki/ca.crt", "pki/apiserver.key"]) chmodSync(join(dir, f), 0o644);
  chmodSync(join(dir, "pki"), 0o755);
  writeFileSync(join(dir, "kubeconfig"), "apiVersion: v1\n", { mode: 0o644 });
  mkdirSync(join(dir, "pods", "x"), { recursive: true, mode: 0o777 });
  chmodSync(join(dir, "pods", "x"), 0o777);
  expect(mode("kube.db")).toBe(0o644);

  const second = await bootApiServer({ dataDir: dir, host: "127.0.0.1", port: 0 });
  try {
    expect(mode(".")).toBe(0o700);
    for (const f of [
      "kube.db",
      "token",
      "sa.key",
      "kubeconfig",
      "pki/ca.crt",
      "pki/apiserver.crt",
      "pki/apiserver.key",
    ])
      expect([f, mode(f)]).toEqual([f, 0o600]);
    expect(mode("pki")).toBe(0o700);
    expect(mode("pods/x")).toBe(0o777);
  } finally {
    await second.stop();
  }
});
