// HTTP to the Docker Engine API on a unix socket: plain requests through Bun's fetch({ unix }),
// and "hijacked" connections (exec start with stdin) over a raw socket speaking HTTP/1.1, since
// fetch cannot hand back the connection after an upgrade.

import type { Socket } from "bun";
import { concat } from "./mux.ts";
import { RuntimeError } from "./types.ts";

export const API_VERSION = "v1.41";

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  json?: unknown;
  body?: Uint8Array;
  contentType?: string;
  signal?: AbortSignal;
}

export class EngineHttp {
  constructor(readonly socketPath: string) {}

  url(path: string, query?: RequestOptions["query"]): string {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) q.set(k, String(v));
    const qs = q.toString();
    return `http://d/${API_VERSION}${path}${qs ? `?${qs}` : ""}`;
  }

  async request(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = {};
    let body: BodyInit | undefined;
    if (opts.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(opts.json);
    } else if (opts.body) {
      headers["content-type"] = opts.contentType ?? "application/octet-stream";
      body = opts.body as unknown as BodyInit;
    }
    return fetch(this.url(path, opts.query), {
      method,
      headers,
      body,
      signal: opts.signal,
      unix: this.socketPath,
    } as RequestInit);
  }

  /** The parsed JSON answer; a status >= 400 becomes RuntimeError (caller maps 404). */
  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    if (res.status >= 400) throw await errorOf(res);
    const text = await res.text();
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** Like json() but discards the body; 304 (already started/stopped) counts as success. */
  async call(method: string, path: string, opts: RequestOptions = {}): Promise<void> {
    const res = await this.request(method, path, opts);
    if (res.status >= 400) throw await errorOf(res);
    await res.arrayBuffer();
  }

  /** POSTs `json` and returns the raw connection once the engine switches to streaming. */
  async hijack(path: string, json: unknown): Promise<RawConn> {
    const conn = new RawConn();
    await conn.open(this.socketPath);
    const body = JSON.stringify(json);
    conn.write(
      `POST /${API_VERSION}${path} HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n` +
        `Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    const head = await conn.readHead();
    const status = Number(head.split(" ")[1]);
    if (status !== 101 && status !== 200) {
      conn.close();
      throw new RuntimeError(status, `engine refused ${path}: ${head.split("\r\n")[0]}`);
    }
    return conn;
  }
}

export async function errorOf(res: Response): Promise<RuntimeError> {
  const text = await res.text();
  let message = text;
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? text;
  } catch {}
  return new RuntimeError(res.status, message.trim() || `HTTP ${res.status}`);
}

/** A raw unix-socket connection: write bytes, read chunks as an async iterable. */
export class RawConn {
  private socket: Socket<undefined> | null = null;
  private queue: Uint8Array[] = [];
  private ended = false;
  private error: Error | null = null;
  private wake: (() => void) | null = null;
  private unsent: Uint8Array[] = [];
  private endAfterFlush = false;

  async open(path: string): Promise<void> {
    this.socket = await Bun.connect({
      unix: path,
      allowHalfOpen: true,
      socket: {
        data: (_s, data) => {
          this.queue.push(new Uint8Array(data));
          this.notify();
        },
        drain: () => this.flush(),
        end: () => {
          this.ended = true;
          this.notify();
        },
        close: () => {
          this.ended = true;
          this.notify();
        },
        error: (_s, err) => {
          this.error = err;
          this.ended = true;
          this.notify();
        },
      },
    });
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  write(data: Uint8Array | string): void {
    this.unsent.push(typeof data === "string" ? new TextEncoder().encode(data) : data);
    this.flush();
  }

  private flush(): void {
    const s = this.socket;
    if (!s) return;
    while (this.unsent.length > 0) {
      const chunk = this.unsent[0];
      const n = s.write(chunk);
      if (n < 0) return; // closed
      if (n < chunk.length) {
        this.unsent[0] = chunk.subarray(n);
        return; // the drain callback resumes
      }
      this.unsent.shift();
    }
    if (this.endAfterFlush) {
      this.endAfterFlush = false;
      s.shutdown();
    }
  }

  /** Sends end-of-file once everything written has gone out. */
  closeWrite(): void {
    this.endAfterFlush = true;
    this.flush();
  }

  close(): void {
    this.socket?.end();
    this.ended = true;
    this.notify();
  }

  /** Reads up to the end of the HTTP response head; the rest stays queued as stream data. */
  async readHead(): Promise<string> {
    let buf: Uint8Array = new Uint8Array(0);
    for (;;) {
      const chunk = await this.next();
      if (!chunk) throw new RuntimeError(502, "engine closed the connection before answering");
      buf = concat(buf, chunk);
      const end = indexOfCrlf2(buf);
      if (end >= 0) {
        const rest = buf.subarray(end + 4);
        if (rest.length > 0) this.queue.unshift(rest);
        return new TextDecoder().decode(buf.subarray(0, end));
      }
    }
  }

  private async next(): Promise<Uint8Array | null> {
    for (;;) {
      const c = this.queue.shift();
      if (c) return c;
      if (this.ended) {
        if (this.error) throw this.error;
        return null;
      }
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      const c = await this.next();
      if (!c) return;
      yield c;
    }
  }
}

function indexOfCrlf2(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++)
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  return -1;
}
