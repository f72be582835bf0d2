// An event-loop probe preloaded into a benchmark's `kube up` process (`--preload`, set by startKube
// when KUBE_LOOP_PROBE=FILE is in the environment). Every 10 s it appends one JSON line to FILE:
// - the loop's turns longer than 2 ms, measured as the gaps of a 5 ms interval timer: their wall
//   time and the process CPU spent in them (cpu_*: what the turn cost, whatever the machine's load);
// - each write (not GET) over the socket: the time from Bun.serve's fetch to its Response, and the
//   process CPU spent meanwhile (write_cpu_*: how much other work the write waited behind).
// Debugging only: it wraps Bun.serve.
import { appendFileSync } from "node:fs";

const out = process.env.KUBE_LOOP_PROBE;
const t0 = performance.now();
const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
const turns: number[] = [];
const turnCpu: number[] = [];
let worst: { at: number; ms: number; cpu_ms: number }[] = [];
const writes: number[] = [];
const writeCpu: number[] = [];

const pct = (a: number[], p: number) => {
  if (!a.length) return 0;
  const s = [...a].sort((x, y) => x - y);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!);
};
const max = (a: number[]) => Math.round(a.reduce((m, x) => Math.max(m, x), 0));

if (out) {
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  setInterval(() => {
    const now = performance.now();
    const gap = now - last - 5;
    const cpu = process.cpuUsage();
    const c = cpuMs(cpu) - cpuMs(lastCpu);
    last = now;
    lastCpu = cpu;
    if (gap <= 2) return;
    turns.push(gap);
    turnCpu.push(c);
    if (gap > 100) worst.push({ at: Math.round((now - t0) / 1000), ms: Math.round(gap), cpu_ms: Math.round(c) });
  }, 5).unref();

  type Serve = typeof Bun.serve;
  type Options = { fetch: (this: unknown, req: Request, server: unknown) => unknown };
  const serve = Bun.serve;
  (Bun as { serve: Serve }).serve = ((opts: Options) =>
    serve({
      ...opts,
      fetch(req: Request, server: unknown) {
        if (req.method === "GET") return opts.fetch.call(this, req, server);
        const s = performance.now();
        const c = process.cpuUsage();
        const r = opts.fetch.call(this, req, server);
        void Promise.resolve(r).then(() => {
          writes.push(performance.now() - s);
          writeCpu.push(cpuMs(process.cpuUsage(c)));
        });
        return r;
      },
    } as Parameters<Serve>[0])) as Serve;

  setInterval(() => {
    const line = {
      t: Math.round((performance.now() - t0) / 1000),
      turns: turns.length,
      turn_sum_ms: Math.round(turns.reduce((a, b) => a + b, 0)),
      turn_p99_ms: pct(turns, 99),
      turn_max_ms: max(turns),
      turn_cpu_p99_ms: pct(turnCpu, 99),
      turn_cpu_max_ms: max(turnCpu),
      worst: worst.sort((a, b) => b.ms - a.ms).slice(0, 5),
      writes: writes.length,
      write_p50_ms: pct(writes, 50),
      write_p99_ms: pct(writes, 99),
      write_cpu_p50_ms: pct(writeCpu, 50),
      write_cpu_max_ms: max(writeCpu),
    };
    appendFileSync(out, `${JSON.stringify(line)}\n`);
    for (const a of [turns, turnCpu, writes, writeCpu]) a.length = 0;
    worst = [];
  }, 10_000).unref();
}
