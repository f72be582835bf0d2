// kube up sizes JSC's heap for itself (src/cli/heap-size.ts): it starts over in place (same pid)
// with BUN_JSC_forceRAMSize set, unless the variable is set already. The compiled binary's case is
// in test/binary/binary.test.ts.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { totalmem } from "node:os";
import { startKube } from "../../bench/lib/kube-up.ts";
import { HEAP_RAM_BYTES } from "../../src/cli/heap-size.ts";

const sim = ["--runtime", "sim", "--sim-nodes", "1", "--disable", "ingress,proxy"];
const ramSize = (pid: number) =>
  readFileSync(`/proc/${pid}/environ`, "utf8")
    .split("\0")
    .filter((e) => e.startsWith("BUN_JSC_forceRAMSize="));

test("kube up serves from the process it was started as, its heap sized for 2 GB", async () => {
  // (The runner's own environment has no BUN_JSC_forceRAMSize: the first assertion would fail otherwise.)
  const k = await startKube(sim);
  try {
    expect(ramSize(k.pid)).toEqual([`BUN_JSC_forceRAMSize=${Math.min(totalmem(), HEAP_RAM_BYTES)}`]);
    const cmdline = readFileSync(`/proc/${k.pid}/cmdline`, "utf8").split("\0");
    expect(cmdline.slice(1, 3)).toEqual([expect.stringMatching(/src\/main\.ts$/), "up"]);
  } finally {
    await k.stop();
  }
  expect(await k.exited).toBe(0);
});

test("a BUN_JSC_forceRAMSize of the user's own is kept", async () => {
  const k = await startKube(sim, { env: { BUN_JSC_forceRAMSize: String(3 * 1024 ** 3) } });
  try {
    expect(ramSize(k.pid)).toEqual([`BUN_JSC_forceRAMSize=${3 * 1024 ** 3}`]);
  } finally {
    await k.stop();
  }
});
