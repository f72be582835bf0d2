// `kube port-forward TYPE/NAME [LOCAL:]REMOTE...`: local TCP ports forwarded to a pod, as kubectl
// does it (SPDY/3.1 in a WebSocket to pods/portforward): each local connection opens an error
// stream and a data stream on the one tunnel. Deployments and other workloads forward to their
// first running pod; services to a pod behind them, from the service port to its target port.
import type { CAC } from "cac";
import net from "node:net";
import { selectorToString } from "../api/selectors.ts";
import type { KubeObject } from "../api/types.ts";
import { FrameReader, FrameWriter, PING, type Frame } from "../client/spdy.ts";
import { cliContext, resourceName, targets, withGlobals, type CliContext, type GlobalOptions } from "./context.ts";
import { action, CliError } from "./fail.ts";

type Pod = KubeObject & {
  spec?: { containers?: { ports?: { name?: string; containerPort: number }[] }[] };
  status?: { phase?: string };
};
type Svc = KubeObject & {
  spec?: { selector?: Record<string, string>; ports?: { name?: string; port: number; targetPort?: number | string }[] };
};

interface Mapping {
  local: number;
  remote: number;
}

export function registerPortForward(cli: CAC): void {
  withGlobals(cli.command("port-forward <target> [...ports]", "Forward local ports to a pod"))
    .option("--address <address>", "Local address to listen on", { default: "127.0.0.1" })
    .action(
      action(async (target: string, ports: string[], opts: GlobalOptions & { address?: string }) => {
        if (!ports.length) throw new CliError("at least 1 PORT is required for port-forward");
        const ctx = cliContext(opts);
        const { pod, remote } = await resolveTarget(ctx, target, ports.map(parsePort));
        await forward(ctx, pod, remote, opts.address ?? "127.0.0.1");
      }),
    );
}

function parsePort(spec: string): { local?: number; remote: string } {
  const [a, b] = spec.includes(":") ? spec.split(":") : [spec, spec];
  const local = a === "" ? 0 : Number(a);
  if (!Number.isInteger(local) || local < 0 || local > 65535 || !b)
    throw new CliError(`invalid port mapping "${spec}"`);
  return { local, remote: b };
}

async function resolveTarget(
  ctx: CliContext,
  target: string,
  ports: { local?: number; remote: string }[],
): Promise<{ pod: Pod; remote: Mapping[] }> {
  const { client, namespace } = ctx;
  let pod: Pod;
  let svc: Svc | undefined;
  if (!target.includes("/") || /^pods?\//.test(target))
    pod = (await client.resource("pods", namespace).get(target.replace(/^pods?\//, ""))) as Pod;
  else {
    const [t] = targets([target]);
    const owner = (await client.resource(resourceName(t!.kind), namespace).get(t!.names[0]!)) as KubeObject & {
      spec?: { selector?: unknown };
    };
    const selector =
      t!.kind.resource === "services"
        ? Object.entries((svc = owner as Svc).spec?.selector ?? {})
            .map(([k, v]) => `${k}=${v}`)
            .join(",")
        : selectorToString(owner.spec?.selector as never);
    const pods = ((await client.resource("pods", namespace).list({ labelSelector: selector })).items as Pod[]).filter(
      (p) => p.status?.phase === "Running" && !p.metadata?.deletionTimestamp,
    );
    if (!pods.length) throw new CliError(`no running pods found for ${target}`);
    pod = pods[0]!;
  }
  if (pod.status?.phase !== "Running")
    throw new CliError(
      `unable to forward port because pod is not running. Current status=${pod.status?.phase ?? "Unknown"}`,
    );
  const named = (name: string) =>
    pod.spec?.containers?.flatMap((c) => c.ports ?? []).find((p) => p.name === name)?.containerPort;
  const remote = ports.map((p) => {
    let port: number | undefined = Number(p.remote);
    if (svc) {
      const sp = svc.spec?.ports?.find((x) => x.port === port || x.name === p.remote);
      if (!sp) throw new CliError(`Service ${svc.metadata?.name} does not have a service port ${p.remote}`);
      const tp = sp.targetPort ?? sp.port;
      port = typeof tp === "number" ? tp : /^\d+$/.test(tp) ? Number(tp) : named(tp);
    } else if (!Number.isInteger(port)) port = named(p.remote);
    if (!port || port < 1 || port > 65535)
      throw new CliError(`Pod '${pod.metadata?.name}' does not have a named port '${p.remote}'`);
    return { local: p.local ?? port, remote: port };
  });
  return { pod, remote };
}

async function forward(
  { creds, namespace }: CliContext,
  pod: Pod,
  mappings: Mapping[],
  address: string,
): Promise<never> {
  const q = new URLSearchParams(mappings.map((m) => ["ports", String(m.remote)]));
  const url = `${creds.server.replace(/^http/, "ws")}/api/v1/namespaces/${namespace}/pods/${pod.metadata!.name}/portforward?${q}`;
  // Bun refuses "/" in a subprotocol name, so the header is set by hand.
  const ws = new WebSocket(url, {
    headers: {
      "sec-websocket-protocol": "SPDY/3.1+portforward.k8s.io",
      ...(creds.token ? { authorization: `Bearer ${creds.token}` } : {}),
    },
    tls: creds.ca ? { ca: creds.ca } : undefined,
  } as unknown as string[]);
  ws.binaryType = "arraybuffer";
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new CliError(`error upgrading connection to pod ${pod.metadata!.name}`));
  });
  const reader = new FrameReader();
  const writer = new FrameWriter();
  const sockets = new Map<number, { socket: net.Socket; remote: number; error?: boolean }>();
  let nextStream = 1;
  let requestId = 0;
  ws.onmessage = (ev) => {
    let frames: Frame[];
    try {
      frames = reader.push(new Uint8Array(ev.data as ArrayBuffer));
    } catch (err) {
      // A malformed frame from the server ends the session with its reason, not a stack trace.
      console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
      ws.close(1002);
      return;
    }
    for (const f of frames) {
      if (f.kind === "control") {
        if (f.type === PING) ws.send(writer.control(PING, 0, f.payload));
        continue;
      }
      const s = sockets.get(f.streamId);
      if (!s) continue;
      if (s.error) {
        if (f.data.length)
          console.error(`error: an error occurred forwarding ${s.remote}: ${new TextDecoder().decode(f.data)}`);
      } else if (f.data.length) s.socket.write(f.data);
      if (f.fin) {
        if (!s.error) s.socket.end();
        sockets.delete(f.streamId);
      }
    }
  };
  const closed = new Promise<never>((_, reject) => (ws.onclose = () => reject(new CliError("lost connection to pod"))));

  for (const m of mappings) {
    const server = net.createServer({ allowHalfOpen: true }, (socket) => {
      console.log(`Handling connection for ${(server.address() as net.AddressInfo).port}`);
      const headers = { port: String(m.remote), requestid: String(requestId++) };
      const errorId = nextStream;
      const dataId = nextStream + 2;
      nextStream += 4;
      sockets.set(errorId, { socket, remote: m.remote, error: true });
      sockets.set(dataId, { socket, remote: m.remote });
      ws.send(writer.synStream(errorId, { ...headers, streamtype: "error" }));
      ws.send(writer.data(errorId, new Uint8Array(0), true)); // nothing to say on the error stream
      ws.send(writer.synStream(dataId, { ...headers, streamtype: "data" }));
      socket.on("data", (d: Buffer) => ws.send(writer.data(dataId, d)));
      socket.on("end", () => ws.send(writer.data(dataId, new Uint8Array(0), true)));
      socket.on("error", () => socket.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", (e) => reject(new CliError(`unable to listen on port ${m.local}: ${e.message}`)));
      server.listen(m.local, address, () => resolve());
    });
    console.log(`Forwarding from ${address}:${(server.address() as net.AddressInfo).port} -> ${m.remote}`);
  }
  return closed;
}
