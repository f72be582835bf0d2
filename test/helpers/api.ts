// A real API server over a real SQLite store in a temp dir, for tests: in-process requests
// through `request`, or HTTP with `listen()` when the test is about sockets or real kubectl.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../../src/store/index.ts";
import { createApiServer, serve, type ApiServer, type ApiServerOptions } from "../../src/components/apiserver/index.ts";
import type { Store } from "../../src/store/types.ts";
import { createTlsMaterial, type TlsMaterial } from "../../src/components/apiserver/tls.ts";
import type { FlowControlOptions } from "../../src/components/apiserver/flowcontrol.ts";

let tlsOnce: Promise<TlsMaterial> | undefined;
/** One CA and serving certificate for loopback, shared by the tests of a process. */
export const testTls = () => (tlsOnce ??= createTlsMaterial(["127.0.0.1", "localhost"]));

export const TEST_TOKEN = "test-token";

export interface TestApi {
  dir: string;
  store: Store;
  fetch: (req: Request) => Promise<Response>;
  /** A token acting as one of the cluster's own identities (see ApiServer.tokenFor). */
  tokenFor: ApiServer["tokenFor"];
  /** The key kubelets of this API server prove themselves with. */
  kubeletKey: Uint8Array;
  /** The hub its /metrics serves (components started beside it add their registries). */
  metrics: ApiServer["metrics"];
  /** How many whole-collection LISTs it is writing now. */
  streamingLists: ApiServer["streamingLists"];
  /** In-process request with the token; body objects are sent as JSON. */
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  json<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: T }>;
  /** Serves HTTPS on 127.0.0.1 (kubectl sends tokens only over TLS); ca is the PEM to trust. */
  listen(flowControl?: FlowControlOptions): Promise<{ url: string; ca: string; stop(): Promise<void> }>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startTestApi(
  opts: Partial<ApiServerOptions> & { compactWindow?: number } = {},
): Promise<TestApi> {
  const dir = mkdtempSync(join(tmpdir(), "kube-api-"));
  const store = await openStore({ dataDir: dir, compactWindow: opts.compactWindow });
  const api = createApiServer({ store, token: TEST_TOKEN, ...opts });
  await api.ready;
  const servers: { stop(): Promise<void> }[] = [];
  const request = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${TEST_TOKEN}`, ...headers } };
    if (body !== undefined) {
      init.body = typeof body === "string" ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)["content-type"] ??= "application/json";
    }
    return api.fetch(new Request(`http://in-process${path}`, init));
  };
  const close = async () => {
    for (const s of servers) await s.stop();
    api.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    dir,
    store,
    fetch: api.fetch,
    tokenFor: (user) => api.tokenFor(user),
    kubeletKey: api.kubeletKey,
    metrics: api.metrics,
    streamingLists: () => api.streamingLists(),
    request,
    async json(method, path, body, headers) {
      const res = await request(method, path, body, headers);
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async listen(flowControl?: FlowControlOptions) {
      const tls = await testTls();
      const s = await serve(api, { hostname: "127.0.0.1", port: 0, tls, adminToken: TEST_TOKEN, flowControl });
      servers.push(s);
      return { url: `https://127.0.0.1:${s.port}`, ca: tls.ca, stop: () => s.stop() };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Reads newline-delimited JSON watch events until `until` returns true or the deadline passes. */
export async function readWatch(res: Response, until: (events: any[]) => boolean, timeoutMs = 5000): Promise<any[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: any[] = [];
  let buf = "";
  const deadline = Date.now() + timeoutMs;
  try {
    while (!until(events)) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`watch condition not met in ${timeoutMs}ms; got ${JSON.stringify(events.map((e) => e.type))}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const r = await Promise.race([
        reader.read(),
        new Promise<"timeout">((res) => (timer = setTimeout(() => res("timeout"), left))),
      ]);
      clearTimeout(timer);
      if (r === "timeout") continue;
      if (r.done) break;
      buf += decoder.decode(r.value, { stream: true });
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (line) events.push(JSON.parse(line));
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return events;
}

export function pod(
  name: string,
  extra: { labels?: Record<string, string>; nodeName?: string; image?: string } = {},
): any {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: extra.labels },
    spec: {
      containers: [{ name: "c", image: extra.image ?? "localhost/busybox:latest" }],
      ...(extra.nodeName ? { nodeName: extra.nodeName } : {}),
    },
  };
}
