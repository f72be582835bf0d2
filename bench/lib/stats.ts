// Small helpers the benchmarks share: percentiles, rates and temp dirs.
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const round = (n: number, digits = 0) => Number(n.toFixed(digits));

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `kube-bench-${prefix}-`));
}

export function peakRssMb(): number {
  return Math.round(process.memoryUsage().rss / 2 ** 20);
}

/** CPU time (user + system) a process has used, in seconds, from /proc (clock ticks of 1/100 s). */
export function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** CPU time (user + system) of one thread of this process (the main thread's id is the pid), in ms (ticks of 10 ms). */
export function threadCpuMs(tid = process.pid): number {
  const f = readFileSync(`/proc/self/task/${tid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** CPU time (user + system) of this process's threads named `name` (Bun's workers are "Worker"), in ms. */
export function threadsCpuMs(name: string): number {
  let ms = 0;
  for (const tid of readdirSync("/proc/self/task"))
    try {
      if (readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim() === name) ms += threadCpuMs(Number(tid));
    } catch {
      // the thread ended
    }
  return ms;
}
