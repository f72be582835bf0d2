// Snapshots of a live cluster: `kube snapshot save` while writes stream in gives a consistent
// copy (a gap-free prefix of the acknowledged writes), restore refuses a running cluster's dir and
// brings the objects back in another, and `kube up --snapshot-interval` keeps the newest N.
import { afterAll, expect, test } from "bun:test";
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { startKube, type RunningKube } from "../../bench/lib/kube-up.ts";
import { tempDir } from "../../bench/lib/stats.ts";
import { createClient, httpTransport } from "../../src/client/index.ts";
import { waitFor } from "../helpers/wait.ts";

const MAIN = join(import.meta.dir, "../../src/main.ts");
const dirs: string[] = [];
const running: RunningKube[] = [];
afterAll(async () => {
  for (const k of running) await k.stop().catch(() => {});
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const dir = (name: string) => {
  const d = tempDir(name);
  dirs.push(d);
  return d;
};

async function kube(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const p = Bun.spawn([process.execPath, MAIN, ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

const sim = (node: string) => [
  "--runtime",
  "sim",
  "--sim-nodes",
  "1",
  "--node-name",
  `${node}-${process.pid}`,
  "--disable",
  "ingress,proxy",
];
const clientOf = (k: RunningKube) => createClient(httpTransport(k.url, k.token, { ca: k.ca }));

test(
  "a snapshot taken under writes is a gap-free prefix of them; restore refuses a live dir and restores into " +
    "another",
  async () => {
    const source = dir("snap-src");
    const k = await startKube(sim("snap"), { dataDir: source, keepDataDir: true });
    running.push(k);
    const cms = clientOf(k).resource("configmaps", "default");

    // One writer, one write at a time: the i-th acknowledged write is cm-i.
    let acked = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        await cms.create({
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: `cm-${acked}` },
          data: { i: String(acked) },
        });
        acked++;
      }
    })();
    await waitFor("some writes", () => acked >= 50);
    const before = acked;
    const file = join(dir("snap-out"), "snap.db");
    const saved = await kube(["snapshot", "save", file, "--data-dir", source]);
    await waitFor("more writes after the snapshot", () => acked >= before + 50);
    writing = false;
    await writer;
    expect(saved.err).toBe("");
    expect(saved.code).toBe(0);
    expect(saved.out).toMatch(/^snapshot .*snap\.db saved \(revision \d+, \d+ bytes\)\n$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const refused = await kube(["snapshot", "restore", file, "--data-dir", source]);
    expect(refused.code).toBe(1);
    expect(refused.err.trim()).toBe(
      `error: data dir ${source} is in use by a running kube (pid ${k.pid}); stop it first (kube down)`,
    );

    const target = dir("snap-restored");
    const restored = await kube(["snapshot", "restore", file, "--data-dir", target]);
    expect(restored.err).toBe("");
    expect(restored.code).toBe(0);
    // The restored cluster starts on the snapshot; it brings its own credentials (none were in the snapshot).
    const r = await startKube(sim("restored"), { dataDir: target, keepDataDir: true });
    running.push(r);
    const names = (
      (await clientOf(r).resource("configmaps", "default").list()).items as { metadata: { name: string } }[]
    )
      .map((c) => c.metadata.name)
      .filter((n) => n.startsWith("cm-"))
      .map((n) => Number(n.slice(3)))
      .sort((a, b) => a - b);
    expect(names.length).toBeGreaterThanOrEqual(before);
    expect(names.length).toBeLessThan(acked);
    expect(names).toEqual(names.map((_, i) => i));
  },
);

test("kube up --snapshot-interval keeps the newest --snapshot-retain snapshots; bad values are one-line errors", async () => {
  const data = dir("snap-sched");
  const k = await startKube([...sim("sched"), "--snapshot-interval", "1s", "--snapshot-retain", "2"], {
    dataDir: data,
    keepDataDir: true,
  });
  running.push(k);
  const snaps = join(data, "snapshots");
  const list = () =>
    existsSync(snaps)
      ? readdirSync(snaps)
          .filter((f) => f.endsWith(".db"))
          .sort()
      : [];
  const first = await waitFor("two snapshots", () => (list().length === 2 ? list() : undefined), 30_000);
  // A later one replaces the oldest; never more than two are kept.
  const later = await waitFor(
    "a newer snapshot",
    () => (list().some((f) => !first.includes(f)) ? list() : undefined),
    30_000,
  );
  expect(later.length).toBe(2);
  expect(later).toContain(first[1]!);

  const bad = await kube(["up", "--data-dir", dir("snap-bad"), "--snapshot-interval", "soon"]);
  expect(bad.code).toBe(1);
  expect(bad.err.trim()).toBe('error: --snapshot-interval must be a duration such as 30m or 6h, got "soon"');
  const missing = await kube(["snapshot", "restore", join(data, "nope.db"), "--data-dir", dir("snap-none")]);
  expect(missing.code).toBe(1);
  expect(missing.err.trim()).toBe(`error: ${join(data, "nope.db")} does not exist`);
});
