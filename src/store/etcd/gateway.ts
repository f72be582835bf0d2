// A small client for etcd v3's JSON gRPC gateway (POST /v3/kv/range, /v3/kv/txn, /v3/watch ...),
// which every etcd member serves on its client port. Chosen over the `etcd3` npm package (gRPC):
// that package reads its .proto files from node_modules at run time, so `bun build --compile`'s
// single binary could not carry it; the gateway needs only fetch (HTTP/1.1 + TLS client certs).
// Keys and values travel base64-encoded, int64s as strings, enum and zero fields may be omitted.
import { readFileSync } from "node:fs";
import { StoreError, StoreUnavailableError } from "../types.ts";

export interface EtcdTlsFiles {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export interface RawKv {
  key?: string;
  value?: string;
  create_revision?: string;
  mod_revision?: string;
}
export interface Header {
  revision?: string;
}

/** etcd refused a request (its gRPC status message), as opposed to not answering. */
export class EtcdError extends StoreError {
  override name = "EtcdError";
  constructor(
    message: string,
    readonly grpcCode?: number,
  ) {
    super(message);
  }
}

export const b64 = (s: string): string => Buffer.from(s, "utf8").toString("base64");
export const unb64 = (s: string | undefined): string => (s ? Buffer.from(s, "base64").toString("utf8") : "");

/** The first key after every key that starts with prefix (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, "utf8");
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      const end = Buffer.from(bytes.subarray(0, i + 1));
      end[i]! += 1;
      return end.toString("base64");
    }
  }
  return Buffer.from([0]).toString("base64"); // every key
}

/** gRPC codes that mean "not now" rather than "no": Unavailable (no leader, no quorum) and DeadlineExceeded. */
const UNAVAILABLE = new Set([4, 14]);

export class Gateway {
  private current = 0;
  private readonly tls: { ca?: string; cert?: string; key?: string } | undefined;
  /** Said after a failed TLS handshake without a client certificate: etcd with --client-cert-auth just hangs up. */
  private readonly handshakeHint: string;

  constructor(
    readonly endpoints: string[],
    tlsFiles: EtcdTlsFiles = {},
  ) {
    if (endpoints.length === 0) throw new StoreError("no etcd endpoint given");
    const read = (f?: string) => (f ? readFileSync(f, "utf8") : undefined);
    const tls = { ca: read(tlsFiles.caFile), cert: read(tlsFiles.certFile), key: read(tlsFiles.keyFile) };
    this.tls = tls.ca || tls.cert ? tls : undefined;
    this.handshakeHint = this.tls && !tls.cert ? " (does etcd require a client certificate? --etcd-certfile)" : "";
  }

  private fetchInit(body: unknown, signal?: AbortSignal): RequestInit {
    return {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal,
      ...(this.tls ? { tls: this.tls } : {}),
    } as RequestInit;
  }

  /**
   * Sends one request, moving on to the next endpoint when one does not answer (a member that
   * refuses answers: its error is final). Returns the response of the endpoint that answered.
   */
  async open(path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    let lastErr: unknown;
    let refusal: string | undefined; // what a member without a quorum said: more telling than "connection refused"
    for (let tried = 0; tried < this.endpoints.length; tried++) {
      const endpoint = this.endpoints[this.current]!;
      try {
        const res = await fetch(`${endpoint}/v3${path}`, this.fetchInit(body, signal));
        if (res.ok) return res;
        const text = await res.text();
        let err: { message?: string; error?: string; code?: number } = {};
        try {
          err = JSON.parse(text);
        } catch {}
        // 503: this member lost its quorum or leader; another one may have it.
        if (res.status === 503 && tried + 1 < this.endpoints.length) {
          this.current = (this.current + 1) % this.endpoints.length;
          refusal = `etcd ${endpoint}: ${err.message ?? err.error ?? text}`;
          continue;
        }
        const message = `etcd: ${err.message ?? err.error ?? `HTTP ${res.status} ${text}`}`;
        if (res.status === 503 || UNAVAILABLE.has(err.code ?? 0)) throw new StoreUnavailableError(message);
        throw new EtcdError(message, err.code);
      } catch (err) {
        if (err instanceof StoreError || signal?.aborted) throw err;
        lastErr = err;
        this.current = (this.current + 1) % this.endpoints.length;
      }
    }
    const why = (lastErr as Error)?.message ?? String(lastErr);
    const hint = /handshake/i.test(why) ? this.handshakeHint : "";
    throw new StoreUnavailableError(refusal ?? `etcd unreachable (${this.endpoints.join(", ")}): ${why}${hint}`);
  }

  async call<T>(path: string, body: unknown): Promise<T & { header?: Header }> {
    return (await (await this.open(path, body)).json()) as T & { header?: Header };
  }
}
