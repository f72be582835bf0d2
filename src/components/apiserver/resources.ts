// The one generic REST handler: every kind's create/get/list/update/patch/delete/
// deletecollection/watch and its subresources, driven by the kind's registry entry.
import { ignore, isNotFound } from "../../client/index.ts";
import type { Scale } from "../../api/kinds/stored.ts";
import type { KindDef, KubeObject } from "../../api/types.ts";
import { type BodyText, readObject, readOptionalObject, readText } from "./body.ts";
import { checkBody, checkPatched, fieldValidationOf, patchDuplicates, withWarnings } from "./field-validation.ts";
import { deleteObject, type DeleteOptions } from "./deletion.ts";
import { badRequest, invalid, methodNotAllowed, notFound } from "./errors.ts";
import { buildMatcher } from "./filters.ts";
import { type ListStreams, streamList, streamTable } from "./list-stream.ts";
import { writtenTextOf, decodeAs, type Objects, type Stored } from "./objects.ts";
import { patchVia } from "./patching.ts";
import type { ResourcePath } from "./paths.ts";
import { applyScale, scaleOf } from "./scale.ts";
import { tableOf, wantsTable } from "./table.ts";
import { apiVersion, watchStream } from "./watch.ts";
import { checkTypeMeta } from "./typemeta.ts";
import {
  dryRunOf,
  fieldManagerOf,
  listParams,
  normalizeGrace,
  parseGoInt64,
  Query,
  writeParams,
  type ListParams,
  type OptionsKind,
} from "./query.ts";

export interface HandlerDeps {
  objects: Objects;
  bookmarkIntervalMs?: number;
  /** Counts the whole-collection LISTs being written (ApiServer.streamingLists). */
  streams?: ListStreams;
  /** Whether the cluster serves `kind` under `apiVersion` (for the messages about a body of another type). */
  known?: (apiVersion: string, kind: string) => boolean;
  /** Checks that need the object and the requester (RBAC escalation, NodeRestriction); throws 403. */
  beforeWrite?: (req: Request, kind: KindDef, namespace: string | undefined, obj: KubeObject) => Promise<void>;
}

/** The request body as an object of the endpoint's kind (apiVersion/kind filled from the URL when absent). */
async function readTyped(deps: HandlerDeps, req: Request, kind: KindDef, body?: BodyText): Promise<KubeObject> {
  return checkTypeMeta(kind, await readObject(req, body), deps.known ?? (() => false));
}

/** A write's body as an object of the kind, checked for unknown and duplicate fields as ?fieldValidation asks. */
async function readChecked(
  deps: HandlerDeps,
  req: Request,
  kind: KindDef,
  q: URLSearchParams,
): Promise<{ obj: KubeObject; warnings: string[] }> {
  const mode = fieldValidationOf(q);
  const body: BodyText = { text: "", yaml: false };
  const obj = await readTyped(deps, req, kind, body);
  return { obj, warnings: checkBody(kind, obj, body, mode) };
}

/** Response.json's content type, in one Headers object that each Response copies (as JSON_TYPE below). */
const JSON_UTF8 = new Headers({ "content-type": "application/json;charset=utf-8" });
/** A JSON answer; a created object goes out as its stored text (the bytes Response.json would make of it). */
const json = (body: unknown, status = 200) => {
  const text = writtenTextOf(body);
  return text === undefined ? Response.json(body, { status }) : new Response(text, { status, headers: JSON_UTF8 });
};

function requireVerb(kind: KindDef, verb: string): void {
  if (!kind.verbs.includes(verb)) throw methodNotAllowed();
}

/**
 * Who a non-apply write is recorded for in managedFields: `?fieldManager=`, else the program
 * name of the User-Agent (upstream's prefixFromUserAgent: before the first "/", printable, at
 * most 128 characters); an apply patch records itself.
 */
function managerOf(req: Request, query: Query, options: OptionsKind): string | undefined {
  if (options === "PatchOptions" && /apply-patch/.test(req.headers.get("content-type") ?? "")) return undefined;
  const explicit = fieldManagerOf(query, options);
  if (explicit) return explicit;
  const prefix = [...(req.headers.get("user-agent") ?? "").split("/")[0]!]
    .filter((ch) => /\P{C}/u.test(ch))
    .join("")
    .slice(0, 128);
  return prefix || undefined;
}

const OPTIONS_OF: Record<string, OptionsKind> = {
  POST: "CreateOptions",
  PUT: "UpdateOptions",
  PATCH: "PatchOptions",
  DELETE: "DeleteOptions",
};

/** The continue token: where the next page starts, and how many items were left after this one. */
function encodeContinue(key: string, rv: number, remaining: number | undefined): string {
  return Buffer.from(
    JSON.stringify({ v: "meta.k8s.io/v1", rv, start: key, ...(remaining !== undefined ? { left: remaining } : {}) }),
  ).toString("base64url");
}
function decodeContinue(token: string): { startAfter: string; remainingBefore?: number } {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString()) as { start?: unknown; left?: unknown };
    const left =
      Number.isSafeInteger(parsed.left) && (parsed.left as number) >= 0 ? (parsed.left as number) : undefined;
    if (typeof parsed.start === "string") return { startAfter: parsed.start, remainingBefore: left };
  } catch {}
  throw badRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
}

const NO_PARAMS = new URLSearchParams();

/** The query parameters, without parsing a whole URL (a shared empty set when there are none: only read). */
function searchParamsOf(url: string): URLSearchParams {
  const q = url.indexOf("?");
  return q < 0 ? NO_PARAMS : new URLSearchParams(url.slice(q + 1));
}

export async function handleResource(deps: HandlerDeps, req: Request, path: ResourcePath): Promise<Response> {
  const res = await serve(deps, req, path);
  // A deprecated custom resource version warns on every answer, as upstream does.
  if (path.kind.deprecationWarning)
    res.headers.append("warning", `299 - ${JSON.stringify(path.kind.deprecationWarning)}`);
  return res;
}

/**
 * One request on a kind: on its collection, on one object or on a subresource, each in a function
 * of its own (the JIT compiles small functions quickly: one function for all of them was ~6,000
 * bytecodes, recompiled for seconds under load while it served GETs).
 */
async function serve(deps: HandlerDeps, req: Request, path: ResourcePath): Promise<Response> {
  const q = searchParamsOf(req.url);
  const method = req.method.toUpperCase();
  const query = new Query(q);
  const dryRun = OPTIONS_OF[method] ? dryRunOf(query.all("dryRun"), OPTIONS_OF[method]!) : false;
  const { name, subresource } = path;
  if (!name) return serveCollection(deps, req, path, method, q, query, dryRun);
  if (subresource) return handleSubresource(deps, req, path, name, subresource, dryRun);
  if (method === "GET" && !path.legacyWatch) return getObject(deps, req, path, name, q);
  return serveObject(deps, req, path, name, method, q, query, dryRun);
}

async function serveCollection(
  deps: HandlerDeps,
  req: Request,
  path: ResourcePath,
  method: string,
  q: URLSearchParams,
  query: Query,
  dryRun: boolean,
): Promise<Response> {
  const { kind, namespace } = path;
  const objects = deps.objects;
  // Admission warnings (Pod Security), sent with the body checks' own.
  const admitted: string[] = [];

  if (method === "POST" && kind.hooks?.createFrom) return kind.hooks.createFrom(req, namespace, dryRun);
  if (method === "GET") {
    const params = listParams(query);
    const watching = path.legacyWatch || params.watch;
    requireVerb(kind, watching ? "watch" : "list");
    return watching ? watch(deps, req, path, params) : list(deps, req, path, params);
  }
  if (method === "POST") {
    requireVerb(kind, "create");
    const { obj, warnings } = await readChecked(deps, req, kind, q);
    await deps.beforeWrite?.(req, kind, namespace, obj);
    return withWarnings(
      json(
        await objects.create(kind, namespace, obj, {
          dryRun,
          manager: managerOf(req, query, "CreateOptions"),
          warnings: admitted,
        }),
        201,
      ),
      [...warnings, ...admitted],
    );
  }
  if (method === "DELETE") {
    requireVerb(kind, "deletecollection");
    const opts = deleteOptions(await readOptionalObject(req), query);
    const params = listParams(query);
    const match = buildMatcher(kind, params.labelSelector ?? null, params.fieldSelector ?? null);
    const listed = await objects.list(kind, namespace, { match });
    for (const obj of listed.items) {
      await deleteObject(objects, kind, obj.metadata!.namespace, obj.metadata!.name!, opts).catch(ignore(isNotFound));
    }
    return json({
      kind: kind.listKind,
      apiVersion: apiVersion(kind),
      metadata: { resourceVersion: String(listed.revision) },
      items: listed.items,
    });
  }
  throw methodNotAllowed();
}

// One Headers object for every JSON answer: a Response copies it, and copying is cheaper than
// building one from a plain object per response.
const JSON_TYPE = { headers: new Headers({ "content-type": "application/json" }) };

/**
 * Whether getObject() answers a request on this path with the stored text (unless it asks for a
 * Table): then, with a store that reads in process, objectResponse() answers it without a promise.
 */
export function getsNow(path: ResourcePath): boolean {
  return (
    !!path.name &&
    !path.subresource &&
    !path.legacyWatch &&
    !path.kind.deprecationWarning &&
    path.kind.verbs.includes("get")
  );
}

/** getObject()'s answer when getsNow(): the stored text (Objects.rawText). */
export function objectResponse(text: string): Response {
  return new Response(text, JSON_TYPE);
}

/** GET of one object: the stored text as it is, or a Table. */
async function getObject(
  deps: HandlerDeps,
  req: Request,
  path: ResourcePath,
  name: string,
  q: URLSearchParams,
): Promise<Response> {
  const { kind, namespace } = path;
  requireVerb(kind, "get");
  if (!wantsTable(req.headers.get("accept") ?? undefined))
    return new Response(await deps.objects.getRaw(kind, namespace, name), JSON_TYPE);
  const { obj } = await deps.objects.get(kind, namespace, name);
  return json(
    tableOf(
      kind,
      [obj],
      { resourceVersion: obj.metadata!.resourceVersion! },
      { includeObject: q.get("includeObject") ?? undefined },
    ),
  );
}

async function serveObject(
  deps: HandlerDeps,
  req: Request,
  path: ResourcePath,
  name: string,
  method: string,
  q: URLSearchParams,
  query: Query,
  dryRun: boolean,
): Promise<Response> {
  const { kind, namespace } = path;
  const objects = deps.objects;
  // Admission warnings (Pod Security), sent with the body checks' own.
  const admitted: string[] = [];

  if (method === "GET") {
    return watch(
      deps,
      req,
      { ...path, name: undefined },
      { ...listParams(query), fieldSelector: `metadata.name=${name}` },
    );
  }
  if (method === "PUT") {
    requireVerb(kind, "update");
    const { obj, warnings } = await readChecked(deps, req, kind, q);
    await deps.beforeWrite?.(req, kind, namespace, obj);
    return withWarnings(
      json(
        await objects.update(kind, namespace, name, obj, "main", {
          dryRun,
          manager: managerOf(req, query, "UpdateOptions"),
          warnings: admitted,
        }),
      ),
      [...warnings, ...admitted],
    );
  }
  if (method === "PATCH") {
    requireVerb(kind, "patch");
    const mode = fieldValidationOf(q);
    const text = await readText(req);
    const dups = mode === "Ignore" ? [] : patchDuplicates(text, req.headers.get("content-type") ?? "");
    let warnings: string[] = [];
    const checked = (obj: KubeObject) => {
      warnings = checkPatched(kind, obj, dups, mode);
      return obj;
    };
    const r = await patchVia(
      objects,
      patchRequest(req, q, kind, namespace, name, text, dryRun),
      (s) => s.obj,
      async (patched, current) => {
        await deps.beforeWrite?.(req, kind, namespace, patched);
        return objects.update(kind, namespace, name, checked(patched), "main", {
          dryRun,
          current,
          manager: managerOf(req, query, "PatchOptions"),
          warnings: admitted,
        });
      },
      async (obj) => {
        await deps.beforeWrite?.(req, kind, namespace, obj);
        return objects.create(kind, namespace, checked(obj), {
          dryRun,
          managedFields: obj.metadata?.managedFields,
          warnings: admitted,
        });
      },
    );
    return withWarnings(json(r.obj, r.created ? 201 : 200), [...warnings, ...new Set(admitted)]);
  }
  if (method === "DELETE") {
    requireVerb(kind, "delete");
    const r = await deleteObject(objects, kind, namespace, name, deleteOptions(await readOptionalObject(req), query));
    return json(r.obj);
  }
  throw methodNotAllowed();
}

async function handleSubresource(
  deps: HandlerDeps,
  req: Request,
  path: ResourcePath,
  name: string,
  sub: string,
  dryRun: boolean,
): Promise<Response> {
  const { kind, namespace } = path;
  const objects = deps.objects;
  const method = req.method.toUpperCase();
  const q = searchParamsOf(req.url);
  const query = new Query(q);

  if (sub === "status" && kind.subresources.status) {
    if (method === "GET") return json((await objects.get(kind, namespace, name)).obj);
    // The whole body is decoded, pruned and checked for unknown and duplicate fields as on the main
    // resource (upstream's codec runs before the status strategy keeps only the status).
    if (method === "PUT") {
      const { obj, warnings } = await readChecked(deps, req, kind, q);
      return withWarnings(
        json(
          await objects.update(kind, namespace, name, obj, "status", {
            dryRun,
            manager: managerOf(req, query, "UpdateOptions"),
          }),
        ),
        warnings,
      );
    }
    if (method === "PATCH") {
      const mode = fieldValidationOf(q);
      const text = await readText(req);
      const dups = mode === "Ignore" ? [] : patchDuplicates(text, req.headers.get("content-type") ?? "");
      let warnings: string[] = [];
      const r = await patchVia(
        objects,
        patchRequest(req, q, kind, namespace, name, text, dryRun),
        (s) => s.obj,
        (patched, current) => {
          warnings = checkPatched(kind, patched, dups, mode);
          return objects.update(kind, namespace, name, patched, "status", {
            dryRun,
            current,
            manager: managerOf(req, query, "PatchOptions"),
          });
        },
      );
      return withWarnings(json(r.obj), warnings);
    }
    throw methodNotAllowed();
  }
  if (sub === "scale" && kind.subresources.scale) {
    if (method === "GET") return json(scaleOf(kind, await objects.get(kind, namespace, name)));
    const writeScale = async (body: KubeObject, current?: Stored) => {
      decodeAs("autoscaling", "v1", "Scale", body);
      const cur = current ?? (await objects.get(kind, namespace, name));
      const next = applyScale(kind, body as Partial<Scale>, cur);
      next.metadata = { ...next.metadata, resourceVersion: cur.obj.metadata!.resourceVersion };
      const written = await objects.update(kind, namespace, name, next, "main", {
        dryRun,
        current: cur,
        manager: managerOf(req, query, method === "PUT" ? "UpdateOptions" : "PatchOptions"),
      });
      return scaleOf(kind, { obj: written, kv: cur.kv });
    };
    if (method === "PUT") return json(await writeScale(await readObject(req)));
    if (method === "PATCH") {
      const r = await patchVia(
        objects,
        patchRequest(req, q, kind, namespace, name, await readText(req), dryRun),
        (s) => scaleOf(kind, s),
        (patched, current) => writeScale(patched, current),
      );
      return json(r.obj);
    }
    throw methodNotAllowed();
  }
  const hook = kind.hooks?.subresources?.[sub];
  if (hook) return hook(req, { subresource: sub, namespace, name, dryRun });
  throw notFound(`${kind.resource}/${sub}`, kind.group, name);
}

function patchRequest(
  req: Request,
  q: URLSearchParams,
  kind: KindDef,
  namespace: string | undefined,
  name: string,
  text: string,
  dryRun: boolean,
) {
  const opts = writeParams(new Query(q), "PatchOptions");
  return {
    kind,
    namespace,
    name,
    contentType: (req.headers.get("content-type") ?? "").split(";")[0]!.trim(),
    text,
    fieldManager: opts.fieldManager,
    force: opts.force === true,
    dryRun,
  };
}

/**
 * DeleteOptions from the body, or from the query when the body is empty (as upstream's delete
 * handler decodes them), then ValidateDeleteOptions' rules.
 */
export function deleteOptions(body: Record<string, unknown>, q: Query): DeleteOptions {
  // A body that is not a DeleteOptions ({"preconditions":"x"}) is a 400: nothing is deleted.
  decodeAs("meta.k8s.io", "v1", "DeleteOptions", body);
  const fromQuery = Object.keys(body).length === 0;
  let grace: unknown = fromQuery ? q.int("gracePeriodSeconds") : body.gracePeriodSeconds;
  if (typeof grace === "string") grace = parseGoInt64(grace);
  if (grace !== undefined && grace !== null && !Number.isInteger(grace))
    throw badRequest(
      `json: cannot unmarshal ${typeof grace} into Go struct field DeleteOptions.gracePeriodSeconds of type int64`,
    );
  const policy = fromQuery ? q.str("propagationPolicy") : body.propagationPolicy;
  const orphan = fromQuery ? q.optBool("orphanDependents") : body.orphanDependents;
  const dryRunValues = fromQuery ? q.all("dryRun") : Array.isArray(body.dryRun) ? body.dryRun.map(String) : [];
  const causes = [];
  if (orphan !== undefined && orphan !== null && policy !== undefined && policy !== null)
    causes.push({
      reason: "FieldValueInvalid",
      field: "propagationPolicy",
      message: `Invalid value: ${JSON.stringify(policy)}: orphanDependents and deletionPropagation cannot be both set`,
    });
  if (policy !== undefined && policy !== null && !["Orphan", "Background", "Foreground"].includes(policy as string))
    causes.push({
      reason: "FieldValueNotSupported",
      field: "propagationPolicy",
      message: `Unsupported value: ${JSON.stringify(policy)}: supported values: "Foreground", "Background", "Orphan", "nil"`,
    });
  if (causes.length) throw invalid("DeleteOptions", "meta.k8s.io", "", causes);
  return {
    gracePeriodSeconds: normalizeGrace((grace ?? undefined) as number | undefined),
    propagationPolicy: (policy ?? (orphan === true ? "Orphan" : undefined)) as DeleteOptions["propagationPolicy"],
    preconditions: body.preconditions as DeleteOptions["preconditions"],
    dryRun: dryRunOf(dryRunValues, "DeleteOptions") || q.all("dryRun").includes("All"),
  };
}

async function list(deps: HandlerDeps, req: Request, path: ResourcePath, params: ListParams): Promise<Response> {
  const { kind, namespace } = path;
  const match = buildMatcher(kind, params.labelSelector ?? null, params.fieldSelector ?? null);
  const limit = params.limit;
  const cont = params.continue;
  const table = wantsTable(req.headers.get("accept") ?? undefined);
  if (!limit && !cont)
    return table
      ? streamTable(deps.objects, kind, namespace, match ?? undefined, params.includeObject, req.signal, deps.streams)
      : streamList(deps.objects, kind, namespace, match ?? undefined, req.signal, deps.streams);
  const r = await deps.objects.list(kind, namespace, { limit, ...(cont ? decodeContinue(cont) : {}), match });
  const listMeta: { resourceVersion: string; continue?: string; remainingItemCount?: number } = {
    resourceVersion: String(r.revision),
  };
  if (r.more && r.lastKey) {
    listMeta.continue = encodeContinue(r.lastKey, r.revision, r.remaining);
    if (r.remaining !== undefined) listMeta.remainingItemCount = r.remaining;
  }
  if (table) return json(tableOf(kind, r.items, listMeta, { includeObject: params.includeObject }));
  return json({
    kind: kind.listKind,
    apiVersion: apiVersion(kind),
    metadata: listMeta,
    items: r.items.map((o) => ({ ...o, apiVersion: apiVersion(kind), kind: kind.kind })),
  });
}

function watch(deps: HandlerDeps, req: Request, path: ResourcePath, params: ListParams): Response {
  const { kind, namespace } = path;
  const match = buildMatcher(kind, params.labelSelector ?? null, params.fieldSelector ?? null);
  const table = wantsTable(req.headers.get("accept") ?? undefined);
  const includeObject = params.includeObject;
  const stream = watchStream(deps.objects, {
    kind,
    namespace,
    resourceVersion: params.resourceVersion,
    match,
    bookmarks: params.allowWatchBookmarks,
    timeoutSeconds: params.timeoutSeconds,
    raw: !table,
    render: table
      ? (obj, first) =>
          tableOf(
            kind,
            [obj],
            { resourceVersion: obj.metadata?.resourceVersion ?? "" },
            { includeObject, withColumns: first },
          )
      : (obj) => obj,
    signal: req.signal,
    bookmarkIntervalMs: deps.bookmarkIntervalMs,
  });
  return new Response(stream, {
    status: 200,
    headers: {
      "content-type": "application/json",
      "transfer-encoding": "chunked",
      "cache-control": "no-cache, private",
    },
  });
}
