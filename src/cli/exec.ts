// `kube exec POD [-c C] [-i] [-t] -- COMMAND...`: the Kubernetes remote command protocol over a
// WebSocket (v5.channel.k8s.io): byte 0 of each frame is the channel (0 stdin, 1 stdout,
// 2 stderr, 3 status, 4 resize). With -t the local terminal is put in raw mode.
import type { CAC } from "cac";
import { kubeconfigPath, readKubeconfig } from "../client/index.ts";
import { cliContext, withGlobals, type GlobalOptions } from "./context.ts";
import { action, CliError } from "./fail.ts";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { defaultDataDir } from "./paths.ts";

export function registerExec(cli: CAC): void {
  withGlobals(cli.command("exec <pod> [...command]", "Run a command in a container"))
    .option("-c, --container <name>", "Container name")
    .option("-i, --stdin", "Pass stdin to the container")
    .option("-t, --tty", "Stdin is a TTY")
    .action(
      action(
        async (
          pod: string,
          command: string[],
          opts: GlobalOptions & { container?: string; stdin?: boolean; tty?: boolean },
        ) => {
          const cmd = [...command, ...((opts as { "--"?: string[] })["--"] ?? [])];
          if (cmd.length === 0) throw new CliError("you must specify at least one command for the container");
          const code = await execInPod(opts, pod.replace(/^pods?\//, ""), cmd);
          process.exit(code);
        },
      ),
    );
}

async function execInPod(
  opts: GlobalOptions & { container?: string; stdin?: boolean; tty?: boolean },
  pod: string,
  cmd: string[],
): Promise<number> {
  const { namespace } = cliContext(opts);
  const fallback = join(defaultDataDir(), "kubeconfig");
  const creds = readKubeconfig(
    kubeconfigPath(opts.kubeconfig, existsSync(fallback) ? fallback : undefined),
    opts.context,
  );
  const q = new URLSearchParams();
  for (const c of cmd) q.append("command", c);
  if (opts.container) q.set("container", opts.container);
  q.set("stdout", "true");
  q.set("stderr", opts.tty ? "false" : "true");
  if (opts.stdin) q.set("stdin", "true");
  if (opts.tty) q.set("tty", "true");
  const url = `${creds.server.replace(/^http/, "ws")}/api/v1/namespaces/${namespace}/pods/${pod}/exec?${q}`;
  const ws = new WebSocket(url, {
    protocols: ["v5.channel.k8s.io", "v4.channel.k8s.io"],
    headers: creds.token ? { authorization: `Bearer ${creds.token}` } : {},
    tls: creds.ca ? { ca: creds.ca } : undefined,
  } as unknown as string[]);
  ws.binaryType = "arraybuffer";
  const raw = !!opts.tty && process.stdin.isTTY;
  return new Promise<number>((resolve, reject) => {
    let exitCode = 0;
    let failure: string | undefined;
    const send = (channel: number, data: Uint8Array | string) => {
      const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
      const frame = new Uint8Array(bytes.length + 1);
      frame[0] = channel;
      frame.set(bytes, 1);
      ws.send(frame);
    };
    ws.onopen = () => {
      if (opts.stdin) {
        if (raw) process.stdin.setRawMode(true);
        process.stdin.on("data", (d: Buffer) => send(0, new Uint8Array(d)));
        process.stdin.on("end", () => send(255, new Uint8Array([0])));
      }
      if (opts.tty && process.stdout.isTTY) {
        const resize = () => send(4, JSON.stringify({ Width: process.stdout.columns, Height: process.stdout.rows }));
        resize();
        process.stdout.on("resize", resize);
      }
    };
    ws.onmessage = (ev) => {
      const data = new Uint8Array(ev.data as ArrayBuffer);
      const channel = data[0];
      const body = data.subarray(1);
      if (channel === 1) process.stdout.write(body);
      else if (channel === 2) process.stderr.write(body);
      else if (channel === 3) {
        const status = JSON.parse(new TextDecoder().decode(body)) as {
          status?: string;
          reason?: string;
          message?: string;
          details?: { causes?: { reason?: string; message?: string }[] };
        };
        if (status.status !== "Success") {
          const c = status.details?.causes?.find((x) => x.reason === "ExitCode");
          if (status.reason === "NonZeroExitCode" && c) exitCode = Number(c.message);
          else failure = status.message ?? "command failed";
        }
      }
    };
    ws.onerror = () => reject(new CliError(`error: unable to upgrade connection for exec in pod ${pod}`));
    ws.onclose = (ev) => {
      if (raw) process.stdin.setRawMode(false);
      process.stdin.pause();
      if (failure) return reject(new CliError(failure));
      if (ev.code !== 1000 && ev.code !== 1005 && exitCode === 0 && ev.reason) return reject(new CliError(ev.reason));
      resolve(exitCode);
    };
  });
}
