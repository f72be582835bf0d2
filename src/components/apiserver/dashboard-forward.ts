// Port-forward for the dashboard. A browser cannot listen on a port, so the API server does it on
// the page's behalf, as `kubectl port-forward` would on the user's machine: it checks the page's
// token may `create pods/portforward` for the pod (the check the port-forward upgrade makes), opens
// a listener on 127.0.0.1 on a free port of this host, and carries each connection to the pod
// through the pod's kubelet, as the portforward subresource does (one kubelet WebSocket per
// connection). The listener closes when the page stops it, when its watch socket (the session)
// closes, or when the pod goes (deleted, replaced, finished). Each new connection is authorized
// again, so a revoked permission stops new connections at once.
import net from "node:net";
import type { Pod } from "../../api/kinds/pod.ts";
import type { KubeObject } from "../../api/types.ts";
import { HttpError } from "./errors.ts";
import { openKubeletPortStream } from "./portforward.ts";

export interface ForwardDeps {
  /** Authenticates the bearer token of the request and authorizes it (a portforward upgrade); throws an HttpError. */
  authorize(req: Request): Promise<void>;
  /** The pod, or undefined when it does not exist. */
  pod(namespace: string, name: string): Promise<KubeObject | undefined>;
  /** Something happened to the pod (a watch of its key): the forward checks it at once, not at the next poll. */
  podChanges?(namespace: string, name: string, signal: AbortSignal): AsyncIterable<unknown>;
  /** The kubelet's port-forward WebSocket URL for the pod (ws://.../portForward/NS/NAME) and its credential. */
  kubelet(pod: KubeObject): Promise<{ target: string; token: string }>;
}

export interface Forward {
  /** The local port on 127.0.0.1. */
  port: number;
  close(why?: string): void;
}

/** How often a forward checks that its pod is still there. */
const POD_CHECK_MS = 2000;

/** Why the pod cannot be forwarded to any more (or now), or undefined when it can. */
function goneReason(pod: Partial<Pod> | undefined, uid: string | undefined, name: string): string | undefined {
  if (!pod || (uid && pod.metadata?.uid !== uid)) return `pod ${name} is gone`;
  if (pod.metadata?.deletionTimestamp) return `pod ${name} is being deleted`;
  const phase = pod.status?.phase ?? "Unknown";
  if (phase !== "Running") return `unable to forward port because pod is not running. Current status=${phase}`;
  return undefined;
}

export async function openForward(
  deps: ForwardDeps,
  token: string,
  target: { namespace: string; pod: string; port: number },
  ended: (why: string) => void,
): Promise<Forward> {
  const { namespace, pod: name, port } = target;
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new HttpError(400, "BadRequest", `invalid port: ${port}`);
  const authorize = () =>
    deps.authorize(
      new Request(
        `http://in-process/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/portforward?ports=${port}`,
        { headers: { authorization: `Bearer ${token}` } },
      ),
    );
  await authorize();
  const first = await deps.pod(namespace, name);
  if (!first) throw new HttpError(404, "NotFound", `pods "${name}" not found`);
  const refused = goneReason(first, undefined, name);
  if (refused) throw new HttpError(400, "BadRequest", refused);
  const uid = first.metadata?.uid;

  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    void bridge(socket);
  });
  const bridge = async (socket: net.Socket) => {
    const early: Uint8Array[] = [];
    let up: WebSocket | undefined;
    const toPod = (bytes: Uint8Array) => (up?.readyState === WebSocket.OPEN ? up.send(bytes) : early.push(bytes));
    socket.on("data", (d: Buffer) => toPod(new Uint8Array(d)));
    socket.on("end", () => toPod(new Uint8Array(0))); // the kubelet half-closes to the pod
    socket.on("close", () => up?.close());
    try {
      await authorize();
      const pod = await deps.pod(namespace, name);
      const gone = goneReason(pod, uid, name);
      if (gone) throw new Error(gone);
      const ep = await deps.kubelet(pod!);
      if (socket.destroyed) return;
      up = openKubeletPortStream(ep.target, ep.token, port);
    } catch {
      socket.destroy();
      return;
    }
    up.onopen = () => {
      for (const m of early.splice(0)) up!.send(m);
    };
    up.onmessage = (ev) => socket.write(new Uint8Array(ev.data as ArrayBuffer));
    up.onclose = () => socket.end();
    up.onerror = () => socket.destroy();
  };
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e) =>
      reject(new HttpError(500, "InternalError", `unable to listen on a local port: ${e.message}`)),
    );
    server.listen(0, "127.0.0.1", () => resolve());
  });
  let open = true;
  const changes = new AbortController();
  const close = (why = "stopped") => {
    if (!open) return;
    open = false;
    clearInterval(watch);
    changes.abort();
    server.close();
    for (const s of sockets) s.destroy();
    ended(why);
  };
  const check = async () => {
    const gone = goneReason(await deps.pod(namespace, name).catch(() => first), uid, name);
    if (gone) close(gone);
  };
  const watch = setInterval(check, POD_CHECK_MS);
  watch.unref?.();
  if (deps.podChanges)
    void (async () => {
      for await (const _ of deps.podChanges!(namespace, name, changes.signal)) await check();
    })().catch(() => {}); // the poll above still runs
  return { port: (server.address() as net.AddressInfo).port, close };
}
