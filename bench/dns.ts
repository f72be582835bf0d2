// Cluster DNS: queries per second and p99 latency for cluster names (A records of 1000 services)
// against the kube DNS server, and the same load against a minimal UDP responder on the same DNS
// library answering one fixed record, in the same run. Each server runs in its own process; the
// load (on loopback only) keeps WINDOW queries in flight from one socket for DURATION_MS.
import dgram from "node:dgram";
import { join } from "node:path";
import dnsPacket from "dns-packet";
import { percentile, round } from "./lib/stats.ts";
import { SERVICES, serviceName } from "./lib/dns-child.ts";

const WINDOW = 32;
const DURATION_MS = 4000;
const LOST_MS = 500;

async function startChild(kind: "kube" | "ref"): Promise<{ port: number; stop(): void }> {
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "lib/dns-child.ts"), kind], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!/ready (\d+)/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`dns child ${kind} exited`);
    text += new TextDecoder().decode(value);
  }
  return { port: Number(text.match(/ready (\d+)/)![1]), stop: () => proc.kill() };
}

async function load(port: number): Promise<{ qps: number; p99: number; lost: number }> {
  const socket = dgram.createSocket("udp4");
  const inflight = new Map<number, number>();
  const latencies: number[] = [];
  let lost = 0;
  let nextId = 0;
  const end = performance.now() + DURATION_MS;
  const send = () => {
    if (performance.now() >= end) return;
    const id = nextId++ & 0xffff;
    const name = serviceName(Math.floor(Math.random() * SERVICES));
    inflight.set(id, performance.now());
    socket.send(
      dnsPacket.encode({ type: "query", id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: "A", name }] }),
      port,
      "127.0.0.1",
    );
  };
  socket.on("message", (msg) => {
    const id = msg.readUInt16BE(0);
    const t0 = inflight.get(id);
    if (t0 === undefined) return;
    inflight.delete(id);
    latencies.push(performance.now() - t0);
    send();
  });
  // A query with no answer frees its slot after LOST_MS.
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const [id, t0] of inflight)
      if (now - t0 > LOST_MS) {
        inflight.delete(id);
        lost++;
        send();
      }
  }, 50);
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", r));
  const t0 = performance.now();
  for (let i = 0; i < WINDOW; i++) send();
  while (performance.now() < end || (inflight.size && performance.now() < end + LOST_MS))
    await new Promise((r) => setTimeout(r, 50));
  clearInterval(sweep);
  socket.close();
  return { qps: latencies.length / ((performance.now() - t0) / 1000), p99: percentile(latencies, 99), lost };
}

export default async function run(): Promise<void> {
  const results: Record<string, { qps: number; p99: number; lost: number }> = {};
  for (const kind of ["ref", "kube"] as const) {
    const child = await startChild(kind);
    try {
      await load(child.port); // warm-up
      results[kind] = await load(child.port);
    } finally {
      child.stop();
    }
    console.log(
      `${kind}: ${round(results[kind]!.qps)} queries/s, p99 ${round(results[kind]!.p99, 2)} ms, ${results[kind]!.lost} lost`,
    );
  }
  const kube = results.kube!;
  const ref = results.ref!;
  console.log(
    `dns: qps=${round(kube.qps)} ref_qps=${round(ref.qps)} ratio=${round(kube.qps / ref.qps, 2)} p99_ms=${round(kube.p99, 2)}`,
  );
}
