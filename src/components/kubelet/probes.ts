// Liveness, readiness and startup probes: running one check (httpGet, tcpSocket, exec, grpc) and the
// threshold bookkeeping that turns single results into a verdict, as the kubelet's prober does.

import { grpcProbe } from "./grpc-probe.ts";

import type { Probe } from "../../api/kinds/pod.ts";
export type { Probe };

export interface ProbeTarget {
  /** Address the probe connects to (the pod IP). */
  host: string;
  /** The container's named ports, to resolve `port: "http"`. */
  namedPorts: Record<string, number>;
  /** Runs a command in the container; resolves to its exit code. */
  exec(command: string[], timeoutMs: number): Promise<number>;
}

export interface ProbeOutcome {
  ok: boolean;
  message: string;
}

function resolvePort(port: number | string, target: ProbeTarget): number {
  if (typeof port === "number") return port;
  if (/^\d+$/.test(port)) return Number(port);
  const named = target.namedPorts[port];
  if (named === undefined) throw new Error(`port "${port}" is not a named port of the container`);
  return named;
}

async function httpProbe(
  p: NonNullable<Probe["httpGet"]>,
  target: ProbeTarget,
  timeoutMs: number,
): Promise<ProbeOutcome> {
  const port = resolvePort(p.port, target);
  const scheme = (p.scheme ?? "HTTP").toLowerCase();
  const path = p.path?.startsWith("/") ? p.path : `/${p.path ?? ""}`;
  const url = `${scheme}://${p.host || target.host}:${port}${path}`;
  const headers: Record<string, string> = { "User-Agent": "kube-probe/1.30" };
  for (const h of p.httpHeaders ?? []) headers[h.name] = h.value;
  const res = await fetch(url, {
    headers,
    signal: AbortSignal.timeout(timeoutMs),
    redirect: "manual",
    tls: { rejectUnauthorized: false },
  } as RequestInit);
  await res.arrayBuffer().catch(() => undefined);
  if (res.status >= 200 && res.status < 400)
    return { ok: true, message: `HTTP probe succeeded with statuscode: ${res.status}` };
  return { ok: false, message: `HTTP probe failed with statuscode: ${res.status}` };
}

function tcpProbe(p: NonNullable<Probe["tcpSocket"]>, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const port = resolvePort(p.port, target);
  const host = p.host || target.host;
  return new Promise((resolve) => {
    let settled = false;
    const done = (o: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    const timer = setTimeout(() => done({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` }), timeoutMs);
    Bun.connect({
      hostname: host,
      port,
      socket: {
        open(s) {
          s.end();
          done({ ok: true, message: "" });
        },
        data() {},
        error(_s, err) {
          done({ ok: false, message: `dial tcp ${host}:${port}: ${err.message}` });
        },
        connectError(_s, err) {
          done({ ok: false, message: `dial tcp ${host}:${port}: connect: ${err.message}` });
        },
      },
    }).catch((err: Error) => done({ ok: false, message: `dial tcp ${host}:${port}: ${err.message}` }));
  });
}

/** Runs one probe once; never throws. */
export async function runProbe(probe: Probe, target: ProbeTarget): Promise<ProbeOutcome> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  try {
    if (probe.exec) {
      const code = await target.exec(probe.exec.command, timeoutMs);
      return code === 0
        ? { ok: true, message: "" }
        : { ok: false, message: `command ${JSON.stringify(probe.exec.command)} exited with ${code}` };
    }
    if (probe.httpGet) return await httpProbe(probe.httpGet, target, timeoutMs);
    if (probe.tcpSocket) return await tcpProbe(probe.tcpSocket, target, timeoutMs);
    if (probe.grpc)
      return await grpcProbe(target.host, probe.grpc.port, probe.grpc.service ?? "", probe.timeoutSeconds ?? 1);
    return { ok: false, message: "probe has no handler (httpGet, tcpSocket, exec or grpc)" };
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Success/failure thresholds: the verdict flips to healthy after successThreshold consecutive
 * successes and to unhealthy after failureThreshold consecutive failures.
 */
export class ProbeCounter {
  private successes = 0;
  private failures = 0;
  constructor(
    private readonly probe: Probe,
    public healthy: boolean,
  ) {}

  /** Records a result; returns true when the verdict changed. */
  record(ok: boolean): boolean {
    if (ok) {
      this.failures = 0;
      this.successes++;
      if (!this.healthy && this.successes >= (this.probe.successThreshold ?? 1)) return (this.healthy = true);
    } else {
      this.successes = 0;
      this.failures++;
      if (this.healthy && this.failures >= (this.probe.failureThreshold ?? 3)) {
        this.healthy = false;
        return true;
      }
    }
    return false;
  }
}
