// The gRPC probe: one grpc.health.v1.Health/Check call on the pod IP, with upstream's
// (pkg/probe/grpc) outcomes and messages. The transport is @grpc/grpc-js; the two tiny messages
// (HealthCheckRequest{service}, HealthCheckResponse{status}) are encoded here by hand.
import type { ServiceError } from "@grpc/grpc-js";
import type { ProbeOutcome } from "./probes.ts";

const USER_AGENT = "kube-probe/1.30";
const METHOD = "/grpc.health.v1.Health/Check";
/** HealthCheckResponse.ServingStatus names, by number. */
const SERVING_STATUS = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"];
/** Go's codes.Code names, by number, as status errors print them. */
const CODE_NAMES = [
  "OK",
  "Canceled",
  "Unknown",
  "InvalidArgument",
  "DeadlineExceeded",
  "NotFound",
  "AlreadyExists",
  "PermissionDenied",
  "ResourceExhausted",
  "FailedPrecondition",
  "Aborted",
  "OutOfRange",
  "Unimplemented",
  "Internal",
  "Unavailable",
  "DataLoss",
  "Unauthenticated",
];

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** HealthCheckRequest: field 1 (service, string); the empty string is not written, as proto3 does. */
export function encodeRequest(service: string): Buffer {
  const s = Buffer.from(service, "utf8");
  return s.length ? Buffer.concat([Buffer.from([0x0a, ...varint(s.length)]), s]) : Buffer.alloc(0);
}

/** HealthCheckResponse's status (field 1, varint); absent means 0 (UNKNOWN). Unknown fields are skipped. */
export function decodeResponse(b: Buffer): number {
  let i = 0;
  let status = 0;
  const readVarint = () => {
    let v = 0;
    for (let shift = 0; i < b.length; shift += 7) {
      const byte = b[i++]!;
      v += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return v;
    }
    throw new Error("truncated HealthCheckResponse");
  };
  while (i < b.length) {
    const tag = readVarint();
    const wire = tag & 7;
    if (wire === 0) {
      const v = readVarint();
      if (tag >>> 3 === 1) status = v;
    } else if (wire === 2) {
      const len = readVarint(); // not `i += readVarint()`: that reads i before the call moves it
      i += len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`bad wire type ${wire} in HealthCheckResponse`);
  }
  return status;
}

/** time.Duration's String() for whole seconds: 1s, 1m0s, 1h0m5s. */
function goDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h ? `${h}h${m}m${s}s` : m ? `${m}m${s}s` : `${s}s`;
}

/** Connects (blocking, as upstream dials WithBlock) and calls Check once; never throws. */
export async function grpcProbe(
  host: string,
  port: number,
  service: string,
  timeoutSeconds: number,
): Promise<ProbeOutcome> {
  // Loaded on the first gRPC probe: most nodes never run one, and the library costs start-up time.
  const { Client, credentials, Metadata, status: Code } = await import("@grpc/grpc-js");
  const addr = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  const timeout = goDuration(timeoutSeconds);
  const deadline = Date.now() + timeoutSeconds * 1000;
  const client = new Client(addr, credentials.createInsecure(), { "grpc.primary_user_agent": USER_AGENT });
  return new Promise<ProbeOutcome>((resolve) => {
    client.waitForReady(deadline, (err) => {
      if (err)
        return resolve({
          ok: false,
          message: `timeout: failed to connect service "${addr}" within ${timeout}: context deadline exceeded`,
        });
      client.makeUnaryRequest(
        METHOD,
        encodeRequest,
        decodeResponse,
        service,
        new Metadata(),
        { deadline },
        (e: ServiceError | null, status?: number) => {
          if (e) {
            if (e.code === Code.UNIMPLEMENTED)
              return resolve({
                ok: false,
                message: `error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${e.details}`,
              });
            if (e.code === Code.DEADLINE_EXCEEDED)
              return resolve({ ok: false, message: `timeout: health rpc did not complete within ${timeout}` });
            return resolve({
              ok: false,
              message: `error: health rpc probe failed: rpc error: code = ${CODE_NAMES[e.code] ?? `Code(${e.code})`} desc = ${e.details}`,
            });
          }
          if (status !== 1)
            return resolve({
              ok: false,
              message: `service unhealthy (responded with "${SERVING_STATUS[status ?? 0] ?? String(status)}")`,
            });
          resolve({ ok: true, message: "service healthy" });
        },
      );
    });
  }).finally(() => client.close());
}
