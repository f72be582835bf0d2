// `kube run`, `kube scale`, `kube expose`: making and resizing workloads the way kubectl does
// (run creates a Deployment, or a Pod with --restart=Never).
import type { CAC } from "cac";
import type { KubeObject } from "../api/types.ts";
import { selectorToString } from "../api/selectors.ts";
import { cliContext, kindFor, resourceName, targets, withGlobals, type GlobalOptions } from "./context.ts";
import { action, CliError } from "./fail.ts";
import { nameOf } from "./printers.ts";

interface RunOptions extends GlobalOptions {
  image?: string;
  replicas?: number | string;
  port?: number | string;
  env?: string | string[];
  labels?: string;
  restart?: string;
  command?: boolean;
  dryRun?: string;
}

const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function parsePairs(s: string | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (s ?? "").split(",").filter(Boolean)) {
    const i = part.indexOf("=");
    if (i <= 0) throw new CliError(`invalid ${what} "${part}": expected key=value`);
    out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

export function registerWorkloads(cli: CAC): void {
  withGlobals(cli.command("run <name> [...command]", "Run an image: a Deployment, or a Pod with --restart=Never"))
    .option("--image <image>", "Container image")
    .option("--replicas <n>", "Number of replicas (Deployment)", { default: 1 })
    .option("--port <port>", "Container port to expose")
    .option("--env <KEY=VALUE>", "Environment variable (repeatable)")
    .option("--labels <k=v,...>", "Labels (default run=<name>)")
    .option("--restart <policy>", "Always (Deployment), OnFailure or Never (Pod)", { default: "Always" })
    .option("--command", "Treat the arguments after -- as the command, not args")
    .option("--dry-run <mode>", "server or client")
    .action(
      action(async (name: string, command: string[], opts: RunOptions) => {
        if (!opts.image) throw new CliError("--image is required");
        const { client, namespace } = cliContext(opts);
        const labels = opts.labels ? parsePairs(opts.labels, "label") : { run: name };
        const extra = [...command, ...((opts as { "--"?: string[] })["--"] ?? [])];
        const container: Record<string, unknown> = { name, image: opts.image };
        if (extra.length) container[opts.command ? "command" : "args"] = extra;
        if (opts.port !== undefined) container.ports = [{ containerPort: Number(opts.port) }];
        const env = list(opts.env).map((e) => {
          const i = e.indexOf("=");
          if (i <= 0) throw new CliError(`invalid env "${e}": expected KEY=VALUE`);
          return { name: e.slice(0, i), value: e.slice(i + 1) };
        });
        if (env.length) container.env = env;
        const dryRun = !!opts.dryRun;
        if (opts.restart === "Never" || opts.restart === "OnFailure") {
          const pod = {
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name, labels },
            spec: { restartPolicy: opts.restart, containers: [container] },
          };
          await client.resource("pods", namespace).create(pod, { dryRun, fieldManager: "kube-run" });
          console.log(`pod/${name} created${dryRun ? " (dry run)" : ""}`);
          return;
        }
        if (opts.restart !== "Always")
          throw new CliError(`invalid restart policy "${opts.restart}": use Always, OnFailure or Never`);
        const deploy = {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name, labels },
          spec: {
            replicas: Number(opts.replicas ?? 1),
            selector: { matchLabels: labels },
            template: { metadata: { labels }, spec: { containers: [container] } },
          },
        };
        await client.resource("deployments.apps", namespace).create(deploy, { dryRun, fieldManager: "kube-run" });
        console.log(`deployment.apps/${name} created${dryRun ? " (dry run)" : ""}`);
      }),
    );

  withGlobals(cli.command("scale [...resources]", "Set the number of replicas"))
    .option("--replicas <n>", "The new number of replicas")
    .action(
      action(async (resources: string[], opts: GlobalOptions & { replicas?: string | number }) => {
        const replicas = Number(opts.replicas);
        if (opts.replicas === undefined || !Number.isInteger(replicas) || replicas < 0)
          throw new CliError("--replicas must be a whole number >= 0");
        const { client, namespace } = cliContext(opts);
        for (const t of targets(resources)) {
          if (!t.kind.subresources.scale) throw new CliError(`${t.kind.resource} cannot be scaled`);
          for (const name of t.names) {
            await client
              .resource(resourceName(t.kind), namespace)
              .patch(name, { spec: { replicas } }, "merge", { subresource: "scale" });
            console.log(`${nameOf(t.kind, { metadata: { name } })} scaled`);
          }
        }
      }),
    );

  withGlobals(cli.command("expose <resource> [name]", "Expose a workload as a Service"))
    .option("--port <port>", "The service port")
    .option("--target-port <port>", "The container port (default: --port)")
    .option("--name <name>", "Service name (default: the workload's)")
    .option("--type <type>", "ClusterIP, NodePort or LoadBalancer", { default: "ClusterIP" })
    .option("--protocol <protocol>", "TCP or UDP", { default: "TCP" })
    .action(
      action(
        async (
          resource: string,
          name: string | undefined,
          opts: GlobalOptions & { port?: string; targetPort?: string; name?: string; type?: string; protocol?: string },
        ) => {
          const [t] = targets(name ? [resource, name] : [resource]);
          const target = t!.names[0];
          if (!target) throw new CliError("expose needs a resource name");
          const { client, namespace } = cliContext(opts);
          const obj = (await client.resource(resourceName(t!.kind), namespace).get(target)) as KubeObject & {
            spec?: any;
          };
          const selector =
            t!.kind.kind === "Pod" || t!.kind.kind === "Service"
              ? t!.kind.kind === "Service"
                ? obj.spec?.selector
                : obj.metadata?.labels
              : (obj.spec?.selector?.matchLabels ?? obj.spec?.selector);
          if (!selector || Object.keys(selector).length === 0 || obj.spec?.selector?.matchExpressions)
            throw new CliError(
              `couldn't find a simple selector for ${resource}/${target} (${selectorToString(obj.spec?.selector)})`,
            );
          const ports = (obj.spec?.template?.spec ?? obj.spec)?.containers?.flatMap((c: any) => c.ports ?? []) ?? [];
          const port = Number(opts.port ?? ports[0]?.containerPort);
          if (!port) throw new CliError("couldn't find a port to expose: pass --port");
          const svc = {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: opts.name ?? target, labels: obj.metadata?.labels },
            spec: {
              type: opts.type,
              selector,
              ports: [
                {
                  port,
                  targetPort: isNaN(Number(opts.targetPort))
                    ? (opts.targetPort ?? port)
                    : Number(opts.targetPort ?? port),
                  protocol: opts.protocol,
                },
              ],
            },
          };
          await client.resource("services", namespace).create(svc, { fieldManager: "kube-expose" });
          console.log(`service/${svc.metadata.name} exposed`);
        },
      ),
    );
}

export { kindFor };
