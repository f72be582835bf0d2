// Reaching a pod's kubelet for pods/log and pods/exec, as the real API server does: the node
// object says where its kubelet listens (InternalIP, daemonEndpoints port) and the kubelet's
// HMAC key shared with the kubelets (util/kubelet-auth.ts); logs are streamed through, exec WebSockets are bridged frame by frame.
import { logParams, Query } from "./query.ts";
import type { Node } from "../../api/kinds/core.ts";
import type { Pod } from "../../api/kinds/pod.ts";
import type { KubeObject } from "../../api/types.ts";
import type { Server, ServerWebSocket } from "bun";
import { contained } from "../../util/websocket.ts";
import { HttpError, statusResponse } from "./errors.ts";
import type { Objects } from "./objects.ts";
import type { KindDef } from "../../api/types.ts";
import { kubeletCredential, newNonce, PROOF_PATH, proofValid } from "../../util/kubelet-auth.ts";
import { PORTFORWARD_PROTOCOL, PortForwardSession, type PortForwardData } from "./portforward.ts";

export interface Endpoint {
  base: string;
  token: string;
}

export async function kubeletOf(objects: Objects, nodes: KindDef, pod: KubeObject, key: Uint8Array): Promise<Endpoint> {
  const nodeName = (pod as Pod).spec?.nodeName;
  if (!nodeName) throw new HttpError(400, "BadRequest", `pod ${pod.metadata?.name} does not have a host assigned`);
  return kubeletOfNode((await objects.get(nodes, undefined, nodeName)).obj, key);
}

/**
 * Where a node's kubelet listens (from the Node object), once it has proved it is that node's
 * kubelet by signing a fresh nonce; and the credential to call it with. Nothing else is sent to an
 * endpoint that cannot sign: a Node pointing at another local service gets a 503.
 */
export async function kubeletOfNode(node: KubeObject, key: Uint8Array): Promise<Endpoint> {
  const nodeName = node.metadata?.name ?? "";
  const status = (node as Node).status;
  const port = status?.daemonEndpoints?.kubeletEndpoint?.Port;
  const ip = status?.addresses?.find((a) => a.type === "InternalIP")?.address ?? "127.0.0.1";
  if (!port)
    throw new HttpError(503, "ServiceUnavailable", `the kubelet of node ${nodeName} does not serve logs or exec`);
  // The node's InternalIP: loopback for this machine's kubelets, the --node-ip of another machine's
  // (kube agent). Nothing but the challenge goes there before the kubelet proves itself.
  const base = `http://${ip}:${port}`;
  const nonce = newNonce();
  const res = await fetch(`${base}${PROOF_PATH}?node=${encodeURIComponent(nodeName)}&nonce=${nonce}`, {
    signal: AbortSignal.timeout(5000),
  }).catch(() => undefined);
  const proof = res?.ok ? (await res.text()).trim() : (await res?.body?.cancel(), "");
  if (!proofValid(key, nodeName, nonce, proof))
    throw new HttpError(
      503,
      "ServiceUnavailable",
      `the kubelet of node ${nodeName} at ${ip}:${port} did not prove itself`,
    );
  return { base, token: kubeletCredential(key, nodeName) };
}

function containerOf(pod: KubeObject, requested: string | null): string {
  const containers = ((pod as Pod).spec?.containers ?? []).map((c) => c.name);
  if (requested) {
    if (!containers.includes(requested))
      throw new HttpError(400, "BadRequest", `container ${requested} is not valid for pod ${pod.metadata?.name}`);
    return requested;
  }
  if (containers.length !== 1)
    throw new HttpError(
      400,
      "BadRequest",
      `a container name must be specified for pod ${pod.metadata?.name}, choose one of: [${containers.join(" ")}]`,
    );
  return containers[0]!;
}

export function createKubeletProxy(objects: Objects, nodes: KindDef, key: Uint8Array) {
  return async (req: Request, pod: KubeObject, sub: string): Promise<Response> => {
    const q = new URL(req.url).searchParams;
    const ep = await kubeletOf(objects, nodes, pod, key);
    const ns = pod.metadata!.namespace!;
    if (sub === "portforward")
      throw new HttpError(
        400,
        "BadRequest",
        "Upgrade request required: port-forward needs a WebSocket (kubectl 1.31+, or KUBECTL_PORT_FORWARD_WEBSOCKETS=true on 1.30); plain SPDY upgrades are not served",
      );
    const container = containerOf(pod, q.get("container"));
    if (sub === "log") {
      // Decoded and checked here as the API server does; the kubelet gets canonical values.
      const pass = new URLSearchParams();
      for (const [k, v] of Object.entries(logParams(new Query(q), pod.metadata!.name!)))
        if (v !== undefined && v !== false) pass.set(k, String(v));
      const res = await fetch(`${ep.base}/containerLogs/${ns}/${pod.metadata!.name}/${container}?${pass}`, {
        headers: { authorization: `Bearer ${ep.token}` },
        signal: req.signal,
      });
      return new Response(res.body, {
        status: res.status,
        headers: { "content-type": res.headers.get("content-type") ?? "text/plain" },
      });
    }
    throw new HttpError(
      400,
      "BadRequest",
      `Upgrade request required: ${sub} needs a WebSocket (kubectl 1.30+ or KUBECTL_REMOTE_COMMAND_WEBSOCKETS=true)`,
    );
  };
}

/** GET nodes/{name}/proxy/{path}: a read-only pass-through to the node's kubelet (stats for `kube top`). */
export async function proxyToNode(
  objects: Objects,
  nodes: KindDef,
  nodeName: string,
  path: string,
  req: Request,
  key: Uint8Array,
): Promise<Response> {
  const ep = await kubeletOf(objects, nodes, { spec: { nodeName } } as KubeObject, key);
  const res = await fetch(`${ep.base}/${path}${new URL(req.url).search}`, {
    headers: { authorization: `Bearer ${ep.token}` },
    signal: req.signal,
  });
  return new Response(res.body, {
    status: res.status,
    headers: { "content-type": res.headers.get("content-type") ?? "application/json" },
  });
}

interface BridgeData {
  kind: "exec";
  target: string;
  token: string;
  protocol: string;
  upstream?: WebSocket;
  pending: (string | ArrayBuffer | Uint8Array)[];
}

/**
 * WebSocket exec/attach: called from Bun.serve's fetch before the hono app. Returns undefined
 * when the request is not an exec upgrade (the app handles it), a Response on errors.
 */
export async function maybeUpgradeExec(
  req: Request,
  server: Server<unknown>,
  objects: Objects,
  kinds: { pods: KindDef; nodes: KindDef },
  authorize: (req: Request) => Promise<void>,
  key: Uint8Array,
): Promise<Response | undefined | "upgraded"> {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return undefined;
  const url = new URL(req.url);
  const m = url.pathname.match(/^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach|portforward)$/);
  if (!m) return undefined;
  try {
    await authorize(req);
    const pod = (await objects.get(kinds.pods, m[1], m[2]!)).obj;
    const ep = await kubeletOf(objects, kinds.nodes, pod, key);
    const offeredProtocols = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((s) => s.trim());
    if (m[3] === "portforward") {
      if (!offeredProtocols.includes(PORTFORWARD_PROTOCOL))
        throw new HttpError(
          400,
          "BadRequest",
          `port-forward needs the ${PORTFORWARD_PROTOCOL} WebSocket protocol (kubectl 1.31+)`,
        );
      const ports = url.searchParams
        .getAll("ports")
        .flatMap((p) => p.split(","))
        .map(Number);
      if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535))
        throw new HttpError(400, "BadRequest", `invalid ports: ${url.searchParams.getAll("ports").join(",")}`);
      const target = `${ep.base.replace(/^http/, "ws")}/portForward/${m[1]}/${m[2]}`;
      const data: PortForwardData = { kind: "portforward", target, token: ep.token, ports };
      return server.upgrade(req, { headers: { "Sec-WebSocket-Protocol": PORTFORWARD_PROTOCOL }, data })
        ? "upgraded"
        : statusResponse(new HttpError(400, "BadRequest", "WebSocket upgrade failed"));
    }
    const container = containerOf(pod, url.searchParams.get("container"));
    const protocol = ["v5.channel.k8s.io", "v4.channel.k8s.io"].find((p) => offeredProtocols.includes(p));
    if (!protocol)
      throw new HttpError(
        400,
        "BadRequest",
        "exec needs the v5.channel.k8s.io or v4.channel.k8s.io WebSocket protocol",
      );
    const target = `${ep.base.replace(/^http/, "ws")}/${m[3]}/${m[1]}/${m[2]}/${container}?${url.searchParams}`;
    const data: BridgeData = { kind: "exec", target, token: ep.token, protocol, pending: [] };
    return server.upgrade(req, { headers: { "Sec-WebSocket-Protocol": protocol }, data })
      ? "upgraded"
      : statusResponse(new HttpError(400, "BadRequest", "WebSocket upgrade failed"));
  } catch (err) {
    return statusResponse(err);
  }
}

const execHandlers = {
  open(ws: ServerWebSocket<BridgeData>) {
    const d = ws.data;
    const up = new WebSocket(d.target, {
      protocols: [d.protocol],
      headers: { authorization: `Bearer ${d.token}` },
    } as unknown as string[]);
    up.binaryType = "arraybuffer";
    d.upstream = up;
    up.onopen = () => {
      for (const m of d.pending) up.send(m);
      d.pending = [];
    };
    up.onmessage = (ev) => ws.send(new Uint8Array(ev.data as ArrayBuffer));
    up.onclose = (ev) => ws.close(ev.code === 1005 ? 1000 : ev.code, ev.reason);
    up.onerror = () => ws.close(1011, "kubelet connection failed");
  },
  message(ws: ServerWebSocket<BridgeData>, message: string | Buffer) {
    const up = ws.data.upstream;
    const m = typeof message === "string" ? message : new Uint8Array(message);
    if (up && up.readyState === WebSocket.OPEN) up.send(m);
    else ws.data.pending.push(m);
  },
  close(ws: ServerWebSocket<BridgeData>) {
    ws.data.upstream?.close();
  },
};

type Upgraded = ServerWebSocket<BridgeData> | ServerWebSocket<PortForwardData>;
const isPortForward = (ws: Upgraded): ws is ServerWebSocket<PortForwardData> => ws.data.kind === "portforward";

/** Bun.serve's websocket handlers for the API server: exec/attach bridges and port-forward sessions. */
export const execBridge = contained({
  open(ws: Upgraded) {
    if (isPortForward(ws)) ws.data.session = new PortForwardSession(ws);
    else execHandlers.open(ws);
  },
  message(ws: Upgraded, message: string | Buffer) {
    if (isPortForward(ws))
      ws.data.session?.receive(
        typeof message === "string" ? new TextEncoder().encode(message) : new Uint8Array(message),
      );
    else execHandlers.message(ws, message);
  },
  close(ws: Upgraded) {
    if (isPortForward(ws)) ws.data.session?.close();
    else execHandlers.close(ws);
  },
});
