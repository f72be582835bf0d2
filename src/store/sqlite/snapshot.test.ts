// Scheduled snapshots keep the newest `retain`, and the dir never shows more than that: the oldest
// go before the new one appears under its name (a reader listing the dir in between saw retain + 1).
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, watch } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { waitFor } from "../../../test/helpers/wait.ts";
import { openStore } from "../index.ts";
import { listSnapshots, scheduledSnapshot } from "./snapshot.ts";

const root = mkdtempSync(join(tmpdir(), "kube-snapshot-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const isSnapshot = (f: string) => /^kube-snapshot-.*Z\.db$/.test(f);

test("scheduled snapshots keep the newest retain, never more at any moment; a failed one removes nothing", async () => {
  const data = join(root, "data");
  const dir = join(root, "snapshots");
  const store = await openStore({ dataDir: data });
  await store.create("/registry/configmaps/default/a", JSON.stringify({ metadata: { name: "a" } }));
  await store.close();

  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
  const first = await scheduledSnapshot(data, dir, 2, at(1));
  // Replays the directory's changes in the order they happened (each name appears once and goes
  // once): the most snapshots a reader listing the dir could have seen at any moment.
  const shown = new Set(readdirSync(dir).filter(isSnapshot));
  let most = shown.size;
  const watcher = watch(dir, (_, name) => {
    if (!name || !isSnapshot(name)) return;
    if (!shown.delete(name)) shown.add(name);
    most = Math.max(most, shown.size);
  });
  try {
    const second = await scheduledSnapshot(data, dir, 2, at(2));
    const third = await scheduledSnapshot(data, dir, 2, at(3));
    expect(listSnapshots(dir)).toEqual([third, second]);
    expect(listSnapshots(dir)).not.toContain(first);
    await waitFor(
      "the dir's changes reported",
      () => (shown.size === 2 && shown.has(basename(third)) ? true : undefined),
      10_000,
    );
  } finally {
    watcher.close();
  }
  expect(most).toBe(2);

  await expect(scheduledSnapshot(join(root, "no-cluster"), dir, 1)).rejects.toThrow("no cluster in");
  expect(listSnapshots(dir)).toHaveLength(2);
});
