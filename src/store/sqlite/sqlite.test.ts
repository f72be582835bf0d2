// The Store contract against bun:sqlite, plus what only a real process can show: the data
// dir lock against another process, and crash safety under SIGKILL.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { storeContract } from "../../../test/store/contract.ts";
import { openStore } from "../index.ts";
import { LockedError } from "../types.ts";

storeContract({ describe, test }, (dir, opts) => openStore({ dataDir: dir, ...opts }));

const child = (dir: string, script: string) =>
  Bun.spawn([process.execPath, "-e", `import { openStore } from ${JSON.stringify(join(import.meta.dir, "../index.ts"))}; const s = await openStore({ dataDir: ${JSON.stringify(dir)} }); ${script}`], { stdout: "pipe", stderr: "pipe" });

async function readUntil(stream: ReadableStream<Uint8Array>, pred: (text: string) => boolean): Promise<string> {
  const reader = stream.getReader();
  let text = "";
  while (!pred(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return text;
}

describe("process ownership and crashes", () => {
  test("a second process opening the data dir is refused with a message naming the holder", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kube-lock-"));
    const holder = child(dir, `console.log("open"); await new Promise(() => {});`);
    await readUntil(holder.stdout, (t) => t.includes("open"));
    const err = await openStore({ dataDir: dir }).catch((e) => e);
    holder.kill();
    await holder.exited;
    expect(err).toBeInstanceOf(LockedError);
    expect(err.message).toBe(`data dir ${dir} is in use by another kube process (pid ${holder.pid})`);
    const after = await openStore({ dataDir: dir });
    await after.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("SIGKILL in the middle of writes loses no acknowledged write and keeps revisions continuous", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kube-crash-"));
    const writer = child(dir, `for (let i = 0; ; i++) { const kv = await s.create("/k/" + String(i).padStart(8, "0"), "v" + i); console.log(kv.modRevision); }`);
    const text = await readUntil(writer.stdout, (t) => t.split("\n").length > 2000);
    writer.kill("SIGKILL");
    await writer.exited;
    const acked = text.split("\n").filter((l) => /^\d+$/.test(l)).map(Number);
    const s = await openStore({ dataDir: dir });
    const list = await s.list("/k/");
    const revs = list.kvs.map((kv) => kv.modRevision);
    expect(revs.length).toBeGreaterThanOrEqual(acked.length);
    expect(revs.slice(0, acked.length)).toEqual(acked);
    expect(revs).toEqual(revs.map((_, i) => i + 1));
    const next = await s.create("/after", "x");
    expect(next.modRevision).toBe(revs.length + 1);
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
