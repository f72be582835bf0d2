// Test helper: the real API server over a real SQLite store in a temp dir, reachable in-process
// and over HTTP on port 0. Also a transport that can cut the network in front of it, to test
// reconnects. Only tests import this (it reaches past the client's import boundary on purpose).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApiServer, type ApiServer, type ApiServerOptions } from "../components/apiserver/index.ts";
import { openStore } from "../store/index.ts";
import type { Store } from "../store/types.ts";
import { httpTransport, inProcessTransport, type Transport } from "./transport.ts";

export interface TestCluster {
  api: ApiServer;
  store: Store;
  token: string;
  inProcess: Transport;
  http: Transport;
  url: string;
  close(): Promise<void>;
}

export async function startCluster(opts: Pick<ApiServerOptions, "kubeletProxy"> = {}): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), "kube-client-"));
  const store = await openStore({ dataDir: dir });
  const token = "test-token";
  const api = createApiServer({ store, token, ...opts });
  await api.ready;
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: api.fetch, idleTimeout: 0 });
  const url = `http://127.0.0.1:${server.port}`;
  return {
    api,
    store,
    token,
    url,
    inProcess: inProcessTransport(api.fetch, token),
    http: httpTransport(url, token),
    async close() {
      await server.stop(true);
      api.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A transport whose network can be cut: cutting fails requests and breaks open response bodies. */
export function cuttableTransport(inner: Transport): Transport & { cut(): void; heal(): void; requests: number } {
  let up = true;
  const open = new Map<ReadableStreamDefaultController<Uint8Array>, ReadableStreamDefaultReader<Uint8Array>>();
  const t = {
    baseUrl: inner.baseUrl,
    requests: 0,
    cut() {
      up = false;
      for (const [c, reader] of open) {
        c.error(new TypeError("network cut"));
        reader.cancel().catch(() => {});
      }
      open.clear();
    },
    heal() {
      up = true;
    },
    async fetch(req: Request): Promise<Response> {
      t.requests++;
      if (!up) throw new TypeError("network cut");
      const res = await inner.fetch(req);
      if (!res.body) return res;
      const reader = res.body.getReader();
      let ctl!: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({
        start: (c) => {
          ctl = c;
          open.set(c, reader);
        },
        async pull(c) {
          try {
            const { done, value } = await reader.read();
            if (done) {
              open.delete(c);
              c.close();
            } else c.enqueue(value);
          } catch (err) {
            open.delete(c);
            c.error(err);
          }
        },
        cancel: () => {
          open.delete(ctl);
          return reader.cancel();
        },
      });
      return new Response(body, { status: res.status, headers: res.headers });
    },
  };
  return t;
}

/** Resolves when cond() holds; fails after the deadline. */
export async function until(cond: () => boolean, what = "condition", ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
