// `bun run bench restart`: time to ready after a SIGKILL with 100k objects in the store, against
// opening the same SQLite file and reading every row, in the same run. Also the longest the
// event loop stalls right after ready (a /readyz probe every 10 ms for 3 s), since a server that
// is "ready" but frozen by its controllers' initial lists is not ready for a user.
import { Database } from "bun:sqlite";
import { randomUUID } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../src/store/sqlite/store.ts";
import { percentile, round, tempDir } from "./lib/stats.ts";

const OBJECTS = Number(process.env.RESTART_OBJECTS ?? 100_000);

async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

function spawnUp(dataDir: string, port: number) {
  return Bun.spawn(
    [
      process.execPath,
      join(import.meta.dir, "../src/main.ts"),
      "up",
      "--runtime",
      "sim",
      "--sim-nodes",
      "3",
      "--node-name",
      "restart",
      "--data-dir",
      dataDir,
      "--port",
      String(port),
      "--disable",
      "ingress",
    ],
    { stdout: "pipe", stderr: "inherit" },
  );
}

/** Waits until every component has started ("kube is up" on stdout) and /readyz answers. */
async function untilUp(proc: ReturnType<typeof spawnUp>, dataDir: string, port: number): Promise<void> {
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let out = "";
  const deadline = Date.now() + 120_000;
  while (!out.includes("kube is up")) {
    const { value, done } = await reader.read();
    if (done || Date.now() > deadline) throw new Error(`kube up did not come up: ${out}`);
    out += new TextDecoder().decode(value);
  }
  (async () => {
    while (!(await reader.read()).done) {}
  })();
  const ca = readFileSync(join(dataDir, "pki", "ca.crt"), "utf8");
  while (
    !(await fetch(`https://127.0.0.1:${port}/readyz`, { tls: { ca } } as RequestInit).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (Date.now() > deadline) throw new Error("readyz never ok");
  }
}

/** CPU time (user + system) a process has used so far, from /proc: unlike ready_ms, it hardly depends on the machine's load. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in USER_HZ (100 on Linux)
}

/** The longest /readyz round trip over `ms`, probing every 10 ms. */
async function longestStall(dataDir: string, port: number, ms: number): Promise<number> {
  const ca = readFileSync(join(dataDir, "pki", "ca.crt"), "utf8");
  const rtts: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t = performance.now();
    await fetch(`https://127.0.0.1:${port}/readyz`, { tls: { ca } } as RequestInit).then((r) => r.arrayBuffer());
    rtts.push(performance.now() - t);
    await Bun.sleep(10);
  }
  return Math.max(...rtts);
}

export async function fill(dataDir: string): Promise<void> {
  const store = await SqliteStore.open({ dataDir });
  const data = { "app.properties": "x".repeat(200) };
  for (let i = 0; i < OBJECTS; i += 1000) {
    const writes: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(OBJECTS, i + 1000); j++) {
      const ns = `ns-${j % 20}`;
      const name = `cm-${j}`;
      const obj = {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name, namespace: ns, uid: randomUUID(), creationTimestamp: "2026-11-30T00:00:00Z" },
        data,
      };
      writes.push(store.create(`/registry/configmaps/${ns}/${name}`, JSON.stringify(obj)));
    }
    await Promise.all(writes);
  }
  await store.close();
}

export default async function main(): Promise<void> {
  const dataDir = tempDir("restart");
  try {
    // A first start lays out the data dir (PKI, token, namespaces); then the objects go in.
    let port = await freePort();
    let proc = spawnUp(dataDir, port);
    await untilUp(proc, dataDir, port);
    proc.kill("SIGTERM");
    await proc.exited;
    await fill(dataDir);
    // Up once more, then killed: the restart below is a crash recovery.
    port = await freePort();
    proc = spawnUp(dataDir, port);
    await untilUp(proc, dataDir, port);
    proc.kill("SIGKILL");
    await proc.exited;

    const readyRuns: number[] = [];
    const readyCpu: number[] = [];
    const stalls: number[] = [];
    for (let i = 0; i < 3; i++) {
      port = await freePort();
      const t0 = performance.now();
      proc = spawnUp(dataDir, port);
      await untilUp(proc, dataDir, port);
      readyRuns.push(performance.now() - t0);
      readyCpu.push(cpuMs(proc.pid));
      stalls.push(await longestStall(dataDir, port, 3000));
      proc.kill("SIGKILL");
      await proc.exited;
    }

    const readRuns: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const db = new Database(join(dataDir, "kube.db"), { readonly: true });
      let bytes = 0;
      for (const row of db.query("SELECT key, value FROM kv").iterate() as Iterable<{ key: string; value: string }>)
        bytes += row.value.length;
      db.close();
      readRuns.push(performance.now() - t0);
      if (bytes === 0) throw new Error("read nothing");
    }
    const ready = round(percentile(readyRuns, 50));
    const readAll = round(percentile(readRuns, 50));
    console.log(
      `ready runs: ${readyRuns.map((r) => round(r)).join(", ")} ms (CPU ${readyCpu.join(", ")} ms); load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}; longest stall after ready: ${stalls.map((s) => round(s)).join(", ")} ms`,
    );
    console.log(
      `restart: objects=${OBJECTS} ready_ms=${ready} read_all_ms=${readAll} ratio=${round(ready / readAll, 2)} stall_ms=${round(Math.max(...stalls))} ready_cpu_ms=${round(percentile(readyCpu, 50))}`,
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
