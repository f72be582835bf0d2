// The kubelet's own HTTP server (loopback; it serves the API server, see util/kubelet-auth.ts, and callers a
// SubjectAccessReview allows on nodes/proxy and the like, see auth.ts): container logs, exec and
// port-forward, which the API server reaches for pods/log, pods/exec and pods/portforward. Exec speaks the Kubernetes channel protocol
// over a WebSocket (v5/v4.channel.k8s.io): byte 0 = channel, status JSON on channel 3.
import type { NodeStats, PodStats, Summary } from "../../api/stats.ts";
import { contained } from "../../util/websocket.ts";
import { randomBytes } from "node:crypto";
import { credentialValid, kubeletProof, PROOF_PATH } from "../../util/kubelet-auth.ts";
import type { ServerWebSocket } from "bun";
import { podAddress, portForwardHandlers, type PortForwardConn } from "./port-forward.ts";
import { LABELS, type ContainerInfo, type ContainerRuntime, type ExecSession } from "./runtime/index.ts";
import { exposition } from "../metrics/hub.ts";
import type { KubeletMetrics } from "./metrics.ts";

export interface KubeletServerOptions {
  /** Where it listens: 127.0.0.1 unless the node has another address (--node-ip). */
  hostname?: string;
  /** This process's nodes and their runtimes. */
  runtimes: () => Iterable<[string, ContainerRuntime]>;
  log: (m: string) => void;
  /** Each served node's key (util/kubelet-auth.ts), which only the API server also knows. Random when absent. */
  keyOf?: (node: string) => Uint8Array | undefined;
  /** A node's metrics (/metrics, /metrics/cadvisor); absent when metrics are off. */
  metrics?: (node: string) => KubeletMetrics | undefined;
  /** Decides other callers (TokenReview + SubjectAccessReview); without it only the API server is served. */
  authorizer?: { check(req: Request, url: URL): Promise<Response | undefined> };
}

export interface KubeletServer {
  port: number;
  stop(): Promise<void>;
}

async function findContainer(
  runtimes: Iterable<[string, ContainerRuntime]>,
  ns: string,
  pod: string,
  container: string | undefined,
  previous: boolean,
): Promise<{ runtime: ContainerRuntime; info: ContainerInfo } | undefined> {
  for (const [node, runtime] of runtimes) {
    const list = (
      await runtime.listContainers(
        { [LABELS.podName]: pod, [LABELS.podNamespace]: ns, [LABELS.node]: node },
        { detail: false },
      )
    ).filter((c) => c.kind === "app");
    if (list.length === 0) continue;
    const name = container ?? list[0]!.containerName;
    const mine = list.filter((c) => c.containerName === name).sort((a, b) => b.restartCount - a.restartCount);
    const info = previous ? mine[1] : mine[0];
    if (info) return { runtime, info };
  }
  return undefined;
}

/** The kubelet summary API (a subset): cumulative CPU and working-set memory per container. */
async function summary(runtimes: Iterable<[string, ContainerRuntime]>): Promise<Summary> {
  const nodes: NodeStats[] = [];
  const pods: PodStats[] = [];
  for (const [node, runtime] of runtimes) {
    const running = (await runtime.listContainers({ [LABELS.node]: node })).filter(
      (c) => c.kind === "app" && c.state === "running",
    );
    const byPod = new Map<string, PodStats>();
    let cpu = 0;
    let mem = 0;
    await Promise.all(
      running.map(async (c) => {
        const s = await runtime.stats(c.id).catch(() => undefined);
        if (!s) return;
        cpu += s.cpuNanos;
        mem += s.memoryBytes;
        const pod =
          byPod.get(c.podUid) ??
          byPod
            .set(c.podUid, { podRef: { name: c.podName, namespace: c.namespace, uid: c.podUid }, containers: [] })
            .get(c.podUid)!;
        pod.containers.push({
          name: c.containerName,
          cpu: { time: new Date(s.timestamp).toISOString(), usageCoreNanoSeconds: s.cpuNanos },
          memory: { time: new Date(s.timestamp).toISOString(), workingSetBytes: s.memoryBytes },
        });
      }),
    );
    nodes.push({ nodeName: node, cpu: { usageCoreNanoSeconds: cpu }, memory: { workingSetBytes: mem } });
    pods.push(...byPod.values());
  }
  return { node: nodes[0], nodes, pods };
}

const status = (code: number, message: string) =>
  Response.json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, code }, { status: code });

interface ExecData {
  kind?: "exec";
  runtime: ContainerRuntime;
  id: string;
  cmd: string[];
  stdin: boolean;
  tty: boolean;
  protocol: string;
  session?: ExecSession;
  /** Frames that arrived while the exec session was being set up. */
  early: Uint8Array[];
}

/** One frame from the client: stdin (0), a terminal resize (4), or stdin closed ([255, 0]). */
function handleFrame(s: ExecSession, bytes: Uint8Array): void {
  const channel = bytes[0];
  const body = bytes.subarray(1);
  if (channel === 0) s.write(body);
  else if (channel === 4) {
    try {
      const size = JSON.parse(new TextDecoder().decode(body)) as { Width: number; Height: number };
      void s.resize(size.Width, size.Height).catch(() => {});
    } catch {}
  } else if (channel === 255 && body[0] === 0) s.closeStdin();
}

function frame(channel: number, data: Uint8Array | string): Uint8Array {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const out = new Uint8Array(bytes.length + 1);
  out[0] = channel;
  out.set(bytes, 1);
  return out;
}

export async function startKubeletServer(opts: KubeletServerOptions): Promise<KubeletServer> {
  const random = randomBytes(32);
  const serves = (node: string) => [...opts.runtimes()].some(([n]) => n === node);
  const keyOf = (node: string) => (serves(node) ? (opts.keyOf?.(node) ?? random) : undefined);
  const server = Bun.serve<ExecData | PortForwardConn>({
    hostname: opts.hostname ?? "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(req, srv) {
      const url = new URL(req.url);
      // The API server's challenge: prove to be the kubelet of this node before it sends anything.
      if (url.pathname === PROOF_PATH) {
        const node = url.searchParams.get("node") ?? "";
        const nonce = url.searchParams.get("nonce") ?? "";
        const key = keyOf(node);
        return key && nonce.length >= 16 ? new Response(kubeletProof(key, node, nonce)) : status(404, "not found");
      }
      if (!credentialValid(keyOf, req.headers.get("authorization"))) {
        const refused = opts.authorizer
          ? await opts.authorizer.check(req, url).catch(() => new Response("Unauthorized", { status: 401 }))
          : status(401, "Unauthorized");
        if (refused) return refused;
      }
      const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
      const q = url.searchParams;
      if (parts[0] === "stats" && parts[1] === "summary") return Response.json(await summary(opts.runtimes()));
      if (
        parts[0] === "metrics" &&
        opts.metrics &&
        (parts.length === 1 || (parts[1] === "cadvisor" && parts.length === 2))
      ) {
        // The node the API server's credential names; another caller gets this process's first node.
        const node = /^Bearer \d+\.[A-Za-z0-9_-]+\.(.+)$/.exec(req.headers.get("authorization") ?? "")?.[1];
        const m = opts.metrics(node && serves(node) ? node : ([...opts.runtimes()][0]?.[0] ?? ""));
        if (m) return exposition(parts[1] === "cadvisor" ? m.cadvisor : m.kubelet);
      }
      if (parts[0] === "containerLogs" && parts.length >= 3) {
        const found = await findContainer(
          opts.runtimes(),
          parts[1]!,
          parts[2]!,
          parts[3],
          q.get("previous") === "true",
        );
        if (!found)
          return status(
            404,
            q.get("previous") === "true"
              ? `previous terminated container "${parts[3] ?? ""}" in pod "${parts[2]}" not found`
              : `container "${parts[3] ?? ""}" in pod "${parts[2]}" is not available`,
          );
        const abort = new AbortController();
        req.signal.addEventListener("abort", () => abort.abort());
        const since = q.get("sinceSeconds")
          ? Math.floor(Date.now() / 1000) - Number(q.get("sinceSeconds"))
          : q.get("sinceTime")
            ? Math.floor(Date.parse(q.get("sinceTime")!) / 1000)
            : undefined;
        const limit = q.get("limitBytes") ? Number(q.get("limitBytes")) : Infinity;
        const chunks = found.runtime.logs(found.info.id, {
          follow: q.get("follow") === "true",
          tail: q.get("tailLines") ? Number(q.get("tailLines")) : undefined,
          timestamps: q.get("timestamps") === "true",
          since,
          signal: abort.signal,
        });
        let sent = 0;
        const stream = new ReadableStream<Uint8Array>({
          async start(controller) {
            try {
              for await (const c of chunks) {
                const data = sent + c.data.length > limit ? c.data.subarray(0, limit - sent) : c.data;
                controller.enqueue(data);
                sent += data.length;
                if (sent >= limit) break;
              }
            } catch {}
            controller.close();
          },
          cancel() {
            abort.abort();
          },
        });
        return new Response(stream, { headers: { "content-type": "text/plain" } });
      }
      if ((parts[0] === "exec" || parts[0] === "attach") && parts.length >= 3) {
        const found = await findContainer(opts.runtimes(), parts[1]!, parts[2]!, parts[3], false);
        if (!found || found.info.state !== "running")
          return status(400, `container ${parts[3] ?? ""} is not running in pod ${parts[2]}`);
        const offered = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((s) => s.trim());
        const protocol =
          ["v5.channel.k8s.io", "v4.channel.k8s.io"].find((p) => offered.includes(p)) ?? "v4.channel.k8s.io";
        const cmd = parts[0] === "attach" ? ["sh"] : q.getAll("command");
        const ok = srv.upgrade(req, {
          headers: { "Sec-WebSocket-Protocol": protocol },
          data: {
            runtime: found.runtime,
            id: found.info.id,
            cmd,
            stdin: q.get("stdin") === "true",
            tty: q.get("tty") === "true",
            protocol,
            early: [],
          },
        });
        return ok ? undefined : status(400, "expected a WebSocket upgrade");
      }
      if (parts[0] === "portForward" && parts.length === 3) {
        const port = Number(q.get("port"));
        if (!Number.isInteger(port) || port < 1 || port > 65535) return status(400, `invalid port ${q.get("port")}`);
        const ip = await podAddress(opts.runtimes(), parts[1]!, parts[2]!);
        if (!ip) return status(400, `pod ${parts[2]} has no running sandbox with an address on this node`);
        const data: PortForwardConn = { kind: "portforward", ip, port, pod: parts[2]!, early: [] };
        return srv.upgrade(req, { data }) ? undefined : status(400, "expected a WebSocket upgrade");
      }
      return status(404, "not found");
    },
    websocket: contained({
      async open(ws: ServerWebSocket<ExecData | PortForwardConn>) {
        if (ws.data.kind === "portforward") return portForwardHandlers.open(ws as ServerWebSocket<PortForwardConn>);
        const d = ws.data as ExecData;
        try {
          const session = await d.runtime.execStream(d.id, d.cmd, {
            stdin: d.stdin,
            tty: d.tty,
            stdout: true,
            stderr: !d.tty,
          });
          d.session = session;
          for (const f of d.early) handleFrame(session, f);
          d.early = [];
          void (async () => {
            for await (const chunk of session.output) ws.send(frame(chunk.stream === "stderr" ? 2 : 1, chunk.data));
            const code = await session.exitCode;
            const st =
              code === 0
                ? { metadata: {}, status: "Success" }
                : {
                    metadata: {},
                    status: "Failure",
                    message: `command terminated with non-zero exit code: ${code}`,
                    reason: "NonZeroExitCode",
                    details: { causes: [{ reason: "ExitCode", message: String(code) }] },
                  };
            ws.send(frame(3, JSON.stringify(st)));
            ws.close(1000);
          })().catch((err) => {
            ws.send(frame(3, JSON.stringify({ metadata: {}, status: "Failure", message: String(err) })));
            ws.close(1000);
          });
        } catch (err) {
          ws.send(frame(3, JSON.stringify({ metadata: {}, status: "Failure", message: (err as Error).message })));
          ws.close(1000);
        }
      },
      message(ws: ServerWebSocket<ExecData | PortForwardConn>, message) {
        if (ws.data.kind === "portforward")
          return portForwardHandlers.message(ws as ServerWebSocket<PortForwardConn>, message);
        const bytes = typeof message === "string" ? new TextEncoder().encode(message) : new Uint8Array(message);
        if (bytes.length === 0) return;
        const d = ws.data as ExecData;
        if (d.session)
          handleFrame(d.session, bytes); // throws close only this connection (contained)
        else d.early.push(bytes.slice());
      },
      close(ws: ServerWebSocket<ExecData | PortForwardConn>) {
        if (ws.data.kind === "portforward") return portForwardHandlers.close(ws as ServerWebSocket<PortForwardConn>);
        (ws.data as ExecData).session?.close();
      },
    }),
  });
  return {
    port: server.port!,
    async stop() {
      await server.stop(true);
    },
  };
}
