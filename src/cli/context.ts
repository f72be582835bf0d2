// What every client command needs: the kubeconfig (--kubeconfig, KUBECONFIG, then the
// default data dir's), a client over HTTPS, the namespace, and kinds resolved from names.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { resolveKind } from "../api/registry.ts";
import type { KindDef } from "../api/types.ts";
import {
  createClient,
  httpTransport,
  kubeconfigPath,
  readKubeconfig,
  type Client,
  type KubeconfigCredentials,
} from "../client/index.ts";
import { CliError } from "./fail.ts";
import { defaultDataDir } from "./paths.ts";

export interface GlobalOptions {
  kubeconfig?: string;
  namespace?: string;
  n?: string;
  allNamespaces?: boolean;
  A?: boolean;
  context?: string;
}

export interface CliContext {
  client: Client;
  namespace: string;
  server: string;
  /** What the kubeconfig says, for connections the client does not make (WebSockets). */
  creds: KubeconfigCredentials;
}

export function cliContext(opts: GlobalOptions): CliContext {
  const fallback = join(defaultDataDir(), "kubeconfig");
  const path = kubeconfigPath(opts.kubeconfig, existsSync(fallback) ? fallback : undefined);
  if (!existsSync(path))
    throw new CliError(`no kubeconfig at ${path}; start a cluster with \`kube up\` or pass --kubeconfig`);
  const creds = readKubeconfig(path, opts.context);
  const client = createClient(
    httpTransport(creds.server, creds.token, { ca: creds.ca, insecureSkipTLSVerify: creds.insecureSkipTLSVerify }),
  );
  return { client, namespace: opts.namespace ?? opts.n ?? creds.namespace ?? "default", server: creds.server, creds };
}

export function kindFor(name: string): KindDef {
  const kind = resolveKind(name);
  if (!kind) throw new CliError(`the server doesn't have a resource type "${name}"`);
  return kind;
}

/** "pods", or "deployments.apps" for the client's resource(). */
export function resourceName(kind: KindDef): string {
  return kind.group ? `${kind.resource}.${kind.group}` : kind.resource;
}

/** Splits "deploy/web" or ("deploy", "web") into kind and names. */
export function targets(args: string[]): { kind: KindDef; names: string[] }[] {
  if (args.length === 0) throw new CliError("you must specify the type of resource");
  if (args[0]!.includes("/")) {
    return args.map((a) => {
      const [k, n] = a.split("/");
      if (!k || !n)
        throw new CliError(`arguments in resource/name form must have a single resource and name, got "${a}"`);
      return { kind: kindFor(k), names: [n] };
    });
  }
  return args[0]!.split(",").map((k) => ({ kind: kindFor(k), names: args.slice(1) }));
}

/** Global flags every client command takes. */
export function withGlobals<T extends { option(f: string, d: string, o?: unknown): T }>(cmd: T): T {
  return cmd
    .option("--kubeconfig <path>", "Path to the kubeconfig file")
    .option("--context <name>", "The kubeconfig context to use")
    .option("-n, --namespace <ns>", "Namespace");
}
