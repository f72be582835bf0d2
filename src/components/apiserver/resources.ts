// The one generic REST handler: every kind's create/get/list/update/patch/delete/
// deletecollection/watch and its subresources, driven by the kind's registry entry.
import type { KindDef, KubeObject } from "../../api/types.ts";
import { readObject, readOptionalObject, readText } from "./body.ts";
import { deleteObject, type DeleteOptions } from "./deletion.ts";
import { badRequest, HttpError, methodNotAllowed, notFound } from "./errors.ts";
import { buildMatcher } from "./filters.ts";
import type { Objects } from "./objects.ts";
import { patchVia } from "./patching.ts";
import type { ResourcePath } from "./paths.ts";
import { applyScale, scaleOf } from "./scale.ts";
import { tableOf, wantsTable } from "./table.ts";
import { apiVersion, watchStream } from "./watch.ts";

export interface HandlerDeps {
  objects: Objects;
  bookmarkIntervalMs?: number;
}

const json = (body: unknown, status = 200) => Response.json(body, { status });

function requireVerb(kind: KindDef, verb: string): void {
  if (!kind.verbs.includes(verb)) throw methodNotAllowed();
}

function int(v: string | null, name: string): number | undefined {
  if (v === null || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw badRequest(`invalid value for ${name}: ${v}`);
  return n;
}

function encodeContinue(key: string, rv: number): string {
  return Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", rv, start: key })).toString("base64url");
}
function decodeContinue(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString()) as { start?: unknown };
    if (typeof parsed.start === "string") return parsed.start;
  } catch {}
  throw badRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
}

export async function handleResource(deps: HandlerDeps, req: Request, path: ResourcePath): Promise<Response> {
  const url = new URL(req.url);
  const q = url.searchParams;
  const { kind, namespace, name, subresource } = path;
  const method = req.method.toUpperCase();
  const dryRun = q.getAll("dryRun").includes("All");
  const objects = deps.objects;

  if (!name) {
    if (method === "POST" && kind.hooks?.createFrom) return kind.hooks.createFrom(req, namespace, dryRun);
    if (method === "GET") {
      const watching = path.legacyWatch || q.get("watch") === "true" || q.get("watch") === "1";
      requireVerb(kind, watching ? "watch" : "list");
      return watching ? watch(deps, req, path) : list(deps, req, path);
    }
    if (method === "POST") {
      requireVerb(kind, "create");
      const obj = await objects.create(kind, namespace, await readObject(req), { dryRun });
      return json(obj, 201);
    }
    if (method === "DELETE") {
      requireVerb(kind, "deletecollection");
      const opts = deleteOptions(await readOptionalObject(req), q);
      const match = buildMatcher(kind, q.get("labelSelector"), q.get("fieldSelector"));
      const listed = await objects.list(kind, namespace, { match });
      for (const obj of listed.items) {
        await deleteObject(objects, kind, obj.metadata!.namespace, obj.metadata!.name!, opts).catch((err) => {
          if (!(err instanceof HttpError && err.code === 404)) throw err;
        });
      }
      return json({ kind: kind.listKind, apiVersion: apiVersion(kind), metadata: { resourceVersion: String(listed.revision) }, items: listed.items });
    }
    throw methodNotAllowed();
  }

  if (!subresource) {
    if (method === "GET" && path.legacyWatch) {
      q.set("fieldSelector", `metadata.name=${name}`);
      return watch(deps, new Request(url.toString(), req), { ...path, name: undefined });
    }
    if (method === "GET") {
      requireVerb(kind, "get");
      if (!wantsTable(req.headers.get("accept") ?? undefined)) return new Response(await objects.getRaw(kind, namespace, name), { headers: { "content-type": "application/json" } });
      const { obj } = await objects.get(kind, namespace, name);
      return json(tableOf(kind, [obj], { resourceVersion: obj.metadata!.resourceVersion! }, { includeObject: q.get("includeObject") ?? undefined }));
    }
    if (method === "PUT") {
      requireVerb(kind, "update");
      return json(await objects.update(kind, namespace, name, await readObject(req), "main", { dryRun }));
    }
    if (method === "PATCH") {
      requireVerb(kind, "patch");
      const r = await patchVia(
        objects,
        patchRequest(req, q, kind, namespace, name, await readText(req), dryRun),
        (s) => s.obj,
        (patched, current) => objects.update(kind, namespace, name, patched, "main", { dryRun, current }),
        (obj) => objects.create(kind, namespace, obj, { dryRun }),
      );
      return json(r.obj, r.created ? 201 : 200);
    }
    if (method === "DELETE") {
      requireVerb(kind, "delete");
      const r = await deleteObject(objects, kind, namespace, name, deleteOptions(await readOptionalObject(req), q));
      return json(r.obj);
    }
    throw methodNotAllowed();
  }

  return handleSubresource(deps, req, path, name, subresource, dryRun);
}

async function handleSubresource(deps: HandlerDeps, req: Request, path: ResourcePath, name: string, sub: string, dryRun: boolean): Promise<Response> {
  const { kind, namespace } = path;
  const objects = deps.objects;
  const method = req.method.toUpperCase();
  const q = new URL(req.url).searchParams;

  if (sub === "status" && kind.subresources.status) {
    if (method === "GET") return json((await objects.get(kind, namespace, name)).obj);
    if (method === "PUT") return json(await objects.update(kind, namespace, name, await readObject(req), "status", { dryRun }));
    if (method === "PATCH") {
      const r = await patchVia(objects, patchRequest(req, q, kind, namespace, name, await readText(req), dryRun), (s) => s.obj, (patched, current) =>
        objects.update(kind, namespace, name, patched, "status", { dryRun, current }),
      );
      return json(r.obj);
    }
    throw methodNotAllowed();
  }
  if (sub === "scale" && kind.subresources.scale) {
    if (method === "GET") return json(scaleOf(kind, await objects.get(kind, namespace, name)));
    const writeScale = async (scale: KubeObject, current = undefined as Awaited<ReturnType<Objects["get"]>> | undefined) => {
      const cur = current ?? (await objects.get(kind, namespace, name));
      const next = applyScale(kind, scale, cur);
      next.metadata = { ...next.metadata, resourceVersion: cur.obj.metadata!.resourceVersion };
      const written = await objects.update(kind, namespace, name, next, "main", { dryRun, current: cur });
      return scaleOf(kind, { obj: written, kv: cur.kv });
    };
    if (method === "PUT") return json(await writeScale(await readObject(req)));
    if (method === "PATCH") {
      const r = await patchVia(objects, patchRequest(req, q, kind, namespace, name, await readText(req), dryRun), (s) => scaleOf(kind, s), (patched, current) => writeScale(patched, current));
      return json(r.obj);
    }
    throw methodNotAllowed();
  }
  const hook = kind.hooks?.subresources?.[sub];
  if (hook) return hook(req, { subresource: sub, namespace, name, dryRun });
  throw notFound(`${kind.resource}/${sub}`, kind.group, name);
}

function patchRequest(req: Request, q: URLSearchParams, kind: KindDef, namespace: string | undefined, name: string, text: string, dryRun: boolean) {
  return {
    kind,
    namespace,
    name,
    contentType: (req.headers.get("content-type") ?? "").split(";")[0]!.trim(),
    text,
    fieldManager: q.get("fieldManager") ?? undefined,
    force: q.get("force") === "true",
    dryRun,
  };
}

function deleteOptions(body: Record<string, unknown>, q: URLSearchParams): DeleteOptions {
  const grace = body.gracePeriodSeconds ?? int(q.get("gracePeriodSeconds"), "gracePeriodSeconds");
  if (grace !== undefined && (typeof grace !== "number" || grace < 0)) throw badRequest("gracePeriodSeconds must be a non-negative integer");
  const policy = body.propagationPolicy ?? q.get("propagationPolicy") ?? undefined;
  if (policy !== undefined && !["Orphan", "Background", "Foreground"].includes(policy as string))
    throw badRequest(`propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`);
  const orphan = body.orphanDependents === true ? "Orphan" : undefined;
  return {
    gracePeriodSeconds: grace as number | undefined,
    propagationPolicy: (policy ?? orphan) as DeleteOptions["propagationPolicy"],
    preconditions: body.preconditions as DeleteOptions["preconditions"],
    dryRun: (Array.isArray(body.dryRun) && body.dryRun.includes("All")) || q.getAll("dryRun").includes("All"),
  };
}

async function list(deps: HandlerDeps, req: Request, path: ResourcePath): Promise<Response> {
  const q = new URL(req.url).searchParams;
  const { kind, namespace } = path;
  const match = buildMatcher(kind, q.get("labelSelector"), q.get("fieldSelector"));
  const limit = int(q.get("limit"), "limit");
  const cont = q.get("continue");
  const r = await deps.objects.list(kind, namespace, { limit, startAfter: cont ? decodeContinue(cont) : undefined, match });
  const listMeta: { resourceVersion: string; continue?: string; remainingItemCount?: number } = { resourceVersion: String(r.revision) };
  if (r.more && r.lastKey) {
    listMeta.continue = encodeContinue(r.lastKey, r.revision);
    if (r.remaining !== undefined) listMeta.remainingItemCount = r.remaining;
  }
  if (wantsTable(req.headers.get("accept") ?? undefined)) return json(tableOf(kind, r.items, listMeta, { includeObject: q.get("includeObject") ?? undefined }));
  return json({ kind: kind.listKind, apiVersion: apiVersion(kind), metadata: listMeta, items: r.items.map((o) => ({ ...o, apiVersion: apiVersion(kind), kind: kind.kind })) });
}

function watch(deps: HandlerDeps, req: Request, path: ResourcePath): Response {
  const q = new URL(req.url).searchParams;
  const { kind, namespace } = path;
  const match = buildMatcher(kind, q.get("labelSelector"), q.get("fieldSelector"));
  const table = wantsTable(req.headers.get("accept") ?? undefined);
  const includeObject = q.get("includeObject") ?? undefined;
  const stream = watchStream(deps.objects, {
    kind,
    namespace,
    resourceVersion: q.get("resourceVersion") ?? undefined,
    match,
    bookmarks: q.get("allowWatchBookmarks") === "true",
    timeoutSeconds: int(q.get("timeoutSeconds"), "timeoutSeconds"),
    raw: !table,
    render: table ? (obj, first) => tableOf(kind, [obj], { resourceVersion: obj.metadata?.resourceVersion ?? "" }, { includeObject, withColumns: first }) : (obj) => obj,
    signal: req.signal,
    bookmarkIntervalMs: deps.bookmarkIntervalMs,
  });
  return new Response(stream, { status: 200, headers: { "content-type": "application/json", "transfer-encoding": "chunked", "cache-control": "no-cache, private" } });
}
