// `kube create -f`, `kube apply -f` (server-side apply: the server merges and remembers what
// this manager set), and `kube delete` (names, -f, -l). Every document is first sent as a dry
// run, so invalid input applies nothing; a failure on the real pass says what succeeded.
import type { CAC } from "cac";
import { kindOf } from "../api/registry.ts";
import type { KindDef, KubeObject } from "../api/types.ts";
import { isNotFound, type Client, ignore } from "../client/index.ts";
import { cliContext, resourceName, targets, withGlobals, type GlobalOptions } from "./context.ts";
import { action, CliError, errorLine } from "./fail.ts";
import { readManifests, type Manifest } from "./manifests.ts";
import { nameOf } from "./printers.ts";
import { cloneJson } from "../api/clone.ts";

interface FileOptions extends GlobalOptions {
  filename?: string | string[];
  f?: string | string[];
  dryRun?: string;
}

const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function kindOfManifest(m: Manifest): KindDef {
  const kind = kindOf(m.obj.apiVersion, m.obj.kind);
  if (!kind)
    throw new CliError(
      `error: resource mapping not found for kind "${m.obj.kind}" in version "${m.obj.apiVersion}" (${m.source})`,
    );
  return kind;
}

type Op = (client: Client, kind: KindDef, ns: string | undefined, obj: KubeObject, dryRun: boolean) => Promise<string>;

async function run(opts: FileOptions, op: Op): Promise<void> {
  const { client, namespace } = cliContext(opts);
  const manifests = await readManifests([...new Set([...list(opts.filename), ...list(opts.f)])]);
  const plan = manifests.map((m) => ({ m, kind: kindOfManifest(m), ns: undefined as string | undefined }));
  for (const p of plan) {
    p.ns = p.kind.namespaced ? (p.m.obj.metadata?.namespace ?? namespace) : undefined;
    if (p.kind.namespaced) p.m.obj.metadata = { ...p.m.obj.metadata, namespace: p.ns };
  }
  // Dry run everything first: a bad document stops the whole apply before any change.
  for (const p of plan)
    await op(client, p.kind, p.ns, cloneJson(p.m.obj), true).catch((err) => {
      throw new CliError(`${errorLine(err).replace(/^error: /, "error: ")} (${p.m.source})`);
    });
  const done: string[] = [];
  for (const p of plan) {
    try {
      const line = await op(client, p.kind, p.ns, p.m.obj, opts.dryRun === "client" || opts.dryRun === "server");
      console.log(opts.dryRun ? `${line} (dry run)` : line);
      done.push(nameOf(p.kind, p.m.obj));
    } catch (err) {
      throw new CliError(`${errorLine(err)}${done.length ? ` (already applied: ${done.join(", ")})` : ""}`);
    }
  }
}

const create: Op = async (client, kind, ns, obj, dryRun) => {
  await client.resource(resourceName(kind), ns).create(obj, { dryRun, fieldManager: "kube-create" });
  return `${nameOf(kind, obj)} created`;
};

const apply: Op = async (client, kind, ns, obj, dryRun) => {
  const rc = client.resource(resourceName(kind), ns);
  const before = await rc.get(obj.metadata!.name!).catch(ignore(isNotFound));
  const after = await rc.patch(obj.metadata!.name!, obj, "apply", { fieldManager: "kube-apply", force: true, dryRun });
  const verb = !before
    ? "created"
    : before.metadata?.resourceVersion === after.metadata?.resourceVersion
      ? "unchanged"
      : "configured";
  return `${nameOf(kind, obj)} ${verb}`;
};

export function registerApply(cli: CAC): void {
  withGlobals(cli.command("create", "Create resources from files (-f FILE|DIR|-)"))
    .option("-f, --filename <path>", "File, directory or - for stdin (repeatable)")
    .option("--dry-run <mode>", "server or client: validate without saving")
    .action(action((opts: FileOptions) => run(opts, create)));
  withGlobals(cli.command("apply", "Create or update resources from files (-f FILE|DIR|-)"))
    .option("-f, --filename <path>", "File, directory or - for stdin (repeatable)")
    .option("--dry-run <mode>", "server or client: validate without saving")
    .action(action((opts: FileOptions) => run(opts, apply)));
  withGlobals(cli.command("delete [...resources]", "Delete resources by name, -f or -l"))
    .option("-f, --filename <path>", "File, directory or - for stdin")
    .option("-l, --selector <selector>", "Label selector")
    .option("-A, --all-namespaces", "All namespaces")
    .option("--grace-period <seconds>", "Seconds a pod gets to stop (0 = now)")
    .option("--force", "Delete at once without waiting for the kubelet")
    .option("--wait", "Wait until the objects are gone", { default: true })
    .option("--all", "Delete all objects of the type")
    .action(action((resources: string[], opts: DeleteOptions) => del(resources, opts)));
}

interface DeleteOptions extends FileOptions {
  selector?: string;
  gracePeriod?: number | string;
  force?: boolean;
  wait?: boolean;
  all?: boolean;
}

async function del(resources: string[], opts: DeleteOptions): Promise<void> {
  const { client, namespace } = cliContext(opts);
  const grace = opts.force ? 0 : opts.gracePeriod !== undefined ? Number(opts.gracePeriod) : undefined;
  const items: { kind: KindDef; ns?: string; name: string }[] = [];
  const files = [...new Set([...list(opts.filename), ...list(opts.f)])];
  if (files.length) {
    for (const m of await readManifests(files)) {
      const kind = kindOfManifest(m);
      items.push({
        kind,
        ns: kind.namespaced ? (m.obj.metadata?.namespace ?? namespace) : undefined,
        name: m.obj.metadata!.name!,
      });
    }
  } else {
    for (const t of targets(resources)) {
      const ns = t.kind.namespaced ? (opts.allNamespaces ? undefined : namespace) : undefined;
      if (t.names.length) for (const name of t.names) items.push({ kind: t.kind, ns, name });
      else if (opts.selector || opts.all) {
        const found = await client.resource(resourceName(t.kind), ns).list({ labelSelector: opts.selector });
        for (const o of found.items) items.push({ kind: t.kind, ns: o.metadata?.namespace, name: o.metadata!.name! });
        if (found.items.length === 0) console.log(ns ? `No resources found in ${ns} namespace.` : "No resources found");
      } else throw new CliError(`resource(s) were provided, but no name was specified`);
    }
  }
  const waiting: Promise<void>[] = [];
  for (const it of items) {
    const rc = client.resource(resourceName(it.kind), it.ns);
    await rc.delete(it.name, { propagationPolicy: "Background", gracePeriodSeconds: grace });
    console.log(`${nameOf(it.kind, { metadata: { name: it.name } }).replace(/\/(.*)$/, ' "$1"')} deleted`);
    if (opts.wait !== false) waiting.push(waitGone(client, it.kind, it.ns, it.name));
  }
  await Promise.all(waiting);
}

async function waitGone(client: Client, kind: KindDef, ns: string | undefined, name: string): Promise<void> {
  const rc = client.resource(resourceName(kind), ns);
  const w = rc.watch({ fieldSelector: `metadata.name=${name}` });
  try {
    const current = await rc.get(name).catch(ignore(isNotFound));
    if (!current) return;
    for await (const ev of w) if (ev.type === "DELETED") return;
  } finally {
    w.close();
  }
}
