// The generic object operations behind every REST verb: get, list, create, update, delete,
// independent of HTTP. Every kind goes through the same rules, driven by its registry entry.
import type { Cause, KindDef, KubeObject } from "../../api/types.ts";
import type { Store, KeyValue } from "../../store/types.ts";
import { ConflictError, KeyExistsError, NotFoundError } from "../../store/types.ts";
import { decode, encode, rawJson } from "./codec.ts";
import { alreadyExists, badRequest, conflict, HttpError, invalid, notFound } from "./errors.ts";
import { fillZeroFields } from "../../api/zero-fields.ts";
import { apiVersionOf } from "../../api/registry.ts";
import { recordUpdate } from "./patch/index.ts";
import type { JsonObject } from "./patch/json.ts";
import { generateName, keepServerMeta, prepareMetaForCreate, sameContent } from "./meta.ts";
import { listPrefix, objectKey } from "./paths.ts";
import type { Matcher } from "./filters.ts";
import type { Admission } from "./admission.ts";
import { goDecode, GoDecodeError } from "../../api/gocheck.ts";
import { checkTypeMeta } from "./typemeta.ts";
import { cloneJson } from "../../api/clone.ts";

export interface Stored {
  obj: KubeObject;
  kv: KeyValue;
}

export interface ObjectsDeps {
  store: Store;
  admission: Admission;
}

export interface WriteOpts {
  dryRun?: boolean;
  /** Server-side apply's record of a create (clients cannot set managedFields themselves). */
  managedFields?: unknown[];
  /** The manager of a write that is not an apply: it gets an "Update" managedFields entry. */
  manager?: string;
  /** Admission warnings for the response (Pod Security's warn mode). */
  warnings?: string[];
}

/** managedFields after a non-apply write by `manager` (upstream's managedfields updater). */
function managedAfter(
  kind: KindDef,
  before: KubeObject | undefined,
  after: KubeObject,
  manager: string,
  subresource?: string,
): unknown[] {
  const out = recordUpdate(kind.kind, before, after as JsonObject, { fieldManager: manager, subresource });
  return (out.metadata as { managedFields: unknown[] }).managedFields;
}

/**
 * Runs a kind's defaulting and validation on client input. Hand-written rules cannot foresee
 * every malformed shape (a string where a list belongs); a rule that trips over one means the
 * input is invalid, which is a 422, never a 500.
 */
function checked(kind: KindDef, obj: KubeObject, old: KubeObject | undefined, step: "defaults" | "validate"): Cause[] {
  try {
    if (step === "defaults") {
      kind.defaults(obj);
      return [];
    }
    return kind.validate(obj, old);
  } catch (err) {
    return [
      {
        reason: "FieldValueInvalid",
        field: "",
        message: `Invalid value: the object is malformed (${err instanceof Error ? err.message : String(err)})`,
      },
    ];
  }
}

function shapeCauses(obj: KubeObject): Cause[] {
  const causes: Cause[] = [];
  for (const f of ["metadata", "spec", "status"] as const)
    if (obj[f] !== undefined && obj[f] !== null && (typeof obj[f] !== "object" || Array.isArray(obj[f])))
      causes.push({
        reason: "FieldValueInvalid",
        field: f,
        message: `Invalid value: ${JSON.stringify(obj[f])}: must be an object`,
      });
  return causes;
}

/**
 * What kube-apiserver's decoder does before anything else: apiVersion and kind must name the
 * endpoint's kind, and every field must fit its Go type (400 with Go's message otherwise).
 */
/** What kube-apiserver's decoder does after apiVersion/kind (typemeta.ts): every field must fit its Go type. */
export function decodeBody(kind: KindDef, obj: KubeObject): void {
  decodeAs(kind.group, kind.version, kind.kind, obj);
}

/** Checks a body against the Go type group/version/kind (DeleteOptions, Scale, Eviction ...). */
export function decodeAs(group: string, version: string, kindName: string, obj: unknown): void {
  try {
    goDecode(`${group}/${version}/${kindName}`, obj);
  } catch (err) {
    if (err instanceof GoDecodeError)
      throw badRequest(`${kindName} in version "${version}" cannot be handled as a ${kindName}: ${err.message}`);
    throw err;
  }
}

/** The most a stored object may take: a write that would exceed it (a patch of many copies, say) is a 413. */
export const MAX_OBJECT_BYTES = 3 * 1024 * 1024;

function sized(text: string): string {
  if (text.length > MAX_OBJECT_BYTES)
    throw new HttpError(413, "RequestEntityTooLarge", `Request entity too large: limit is ${MAX_OBJECT_BYTES}`);
  return text;
}

/**
 * The answer to a create or an update is the object written: its stored text with the
 * resourceVersion, as a GET would send it, without parsing that text back into an object and
 * encoding it again (two of the write path's JSON passes, for every pod, Event, status patch and
 * Lease renewal). The object returned is the one encoded (zero fields filled in place by the
 * encoding), with its resourceVersion set, carrying its stored text for the response.
 */
const WRITTEN_TEXT = Symbol("writtenText");
/** The text rides on the object under a symbol only this module has (no WeakMap entry per write). */
type Written = KubeObject & { [WRITTEN_TEXT]?: string };

function asWritten(obj: KubeObject, kv: KeyValue): KubeObject {
  obj.metadata!.resourceVersion = String(kv.modRevision);
  // Not enumerable: a copy made by spreading the object ({...written}) must not carry this text.
  Object.defineProperty(obj, WRITTEN_TEXT, { value: rawJson(kv), configurable: true, writable: true });
  return obj;
}

/** The stored text of an object a create or an update returned (undefined for any other object). */
export function writtenTextOf(obj: unknown): string | undefined {
  return typeof obj === "object" && obj !== null ? (obj as Written)[WRITTEN_TEXT] : undefined;
}

/** A stored value's response text (its resourceVersion spliced in), kept as long as the value object lives. */
const rendered = new WeakMap<KeyValue, string>();

export class Objects {
  constructor(private readonly deps: ObjectsDeps) {}

  get store(): Store {
    return this.deps.store;
  }

  async get(kind: KindDef, ns: string | undefined, name: string): Promise<Stored> {
    const { kv } = await this.deps.store.get(objectKey(kind, ns, name));
    if (!kv) throw notFound(kind.resource, kind.group, name);
    return { obj: read(kind, kv), kv };
  }

  /**
   * The stored object for a change this server makes and writes back at once (a binding): its text
   * parsed as stored, without the resourceVersion spliced in, so the object keeps the stored key
   * order and encode writes it without copying it first. The object is the caller's to change.
   */
  async getToWrite(kind: KindDef, ns: string | undefined, name: string): Promise<Stored> {
    const { kv } = await this.deps.store.get(objectKey(kind, ns, name));
    if (!kv) throw notFound(kind.resource, kind.group, name);
    return { obj: needsOnRead(kind, kv) ? read(kind, kv) : (JSON.parse(kv.value) as KubeObject), kv };
  }

  /** The stored JSON text with its resourceVersion, never parsed (GET fast path). */
  async getRaw(kind: KindDef, ns: string | undefined, name: string): Promise<string> {
    return this.rawText(kind, name, (await this.deps.store.get(objectKey(kind, ns, name))).kv);
  }

  /** The JSON text a GET answers for a stored value (read from the store by the caller); throws the 404 for none. */
  rawText(kind: KindDef, name: string, kv: KeyValue | null): string {
    if (!kv) throw notFound(kind.resource, kind.group, name);
    if (needsOnRead(kind, kv)) return JSON.stringify(read(kind, kv));
    // The store hands out the same value object until it changes: its text is made once.
    let text = rendered.get(kv);
    if (text === undefined) rendered.set(kv, (text = rawJson(kv)));
    return text;
  }

  async tryGet(kind: KindDef, ns: string | undefined, name: string): Promise<Stored | undefined> {
    const { kv } = await this.deps.store.get(objectKey(kind, ns, name));
    return kv ? { obj: read(kind, kv), kv } : undefined;
  }

  /**
   * Lists objects that pass `match`, in key order, at most `limit` of them after `startAfter`.
   * Reads further store pages until the page is full so that filters do not shorten pages.
   * The count of what remains is taken once, on a list's first page (a continued list carries it
   * in its token as `remainingBefore`), and never for filtered lists, whose remainder is unknown:
   * counting on every page made paging through 100k objects quadratic.
   */
  async list(
    kind: KindDef,
    ns: string | undefined,
    opts: { limit?: number; startAfter?: string; match?: Matcher; remainingBefore?: number },
  ): Promise<{ revision: number; items: KubeObject[]; lastKey?: string; more: boolean; remaining?: number }> {
    const prefix = listPrefix(kind, ns);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const countRemaining = limit > 0 && !opts.match && opts.remainingBefore === undefined;
    const items: KubeObject[] = [];
    let startAfter = opts.startAfter;
    let revision = 0;
    let lastKey: string | undefined;
    let slice = performance.now();
    // A filtered page of a limited list starts small and grows (x4, to 1000): a filter that matches
    // early (a lookup of the first match) reads a few rows, a selective one still takes few queries.
    let filteredPage = 16;
    for (;;) {
      // A filtered list may read the whole kind: let other requests in every ~20 ms of it.
      if (performance.now() - slice > 20) {
        await new Promise((r) => setImmediate(r));
        slice = performance.now();
      }
      const pageSize = limit ? Math.max(limit - items.length, opts.match ? Math.min(filteredPage, 1000) : 100) : 1000;
      filteredPage *= 4;
      const page = await this.deps.store.list(prefix, {
        limit: pageSize,
        startAfter,
        countRemaining,
        keySuffix: opts.match?.keySuffix,
      });
      if (!revision) revision = page.revision;
      for (let i = 0; i < page.kvs.length; i++) {
        const kv = page.kvs[i]!;
        if (opts.match?.keyFilter && !opts.match.keyFilter(kv.key)) continue;
        if (opts.match?.textFilter && !opts.match.textFilter(kv.value)) continue;
        const obj = read(kind, kv);
        if (opts.match && !opts.match(obj)) continue;
        items.push(obj);
        lastKey = kv.key;
        if (limit && items.length === limit) {
          const more = i < page.kvs.length - 1 || page.more;
          const remaining = opts.match
            ? undefined
            : countRemaining
              ? page.kvs.length - i - 1 + (page.remaining ?? 0)
              : Math.max(0, opts.remainingBefore! - items.length);
          return { revision, items, lastKey, more, remaining: more ? remaining : undefined };
        }
      }
      if (!page.more || page.kvs.length === 0) return { revision, items, lastKey, more: false };
      startAfter = page.kvs[page.kvs.length - 1]!.key;
    }
  }

  async create(kind: KindDef, pathNs: string | undefined, body: KubeObject, opts: WriteOpts = {}): Promise<KubeObject> {
    const obj = body;
    decodeBody(kind, obj);
    const shape = shapeCauses(obj);
    if (shape.length) throw invalid(kind.kind, kind.group, "", shape);
    const meta = (obj.metadata ??= {});
    if (kind.namespaced) {
      const ns = meta.namespace ?? pathNs ?? "default";
      if (pathNs !== undefined && ns !== pathNs)
        throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
      meta.namespace = ns;
    } else delete meta.namespace;
    const generated = !meta.name && !!meta.generateName;
    if (generated) meta.name = generateName(meta.generateName!);
    prepareMetaForCreate(meta);
    if (opts.managedFields) meta.managedFields = opts.managedFields;
    if (kind.hasStatus && !kind.hooks?.keepStatusOnCreate) obj.status = {};
    const broken = checked(kind, obj, undefined, "defaults");
    if (broken.length) throw invalid(kind.kind, kind.group, meta.name ?? "", broken);
    await this.deps.admission.beforeCreate(kind, obj);
    const causes = checked(kind, obj, undefined, "validate");
    if (!meta.name && !causes.some((c) => c.field === "metadata.name"))
      causes.unshift({
        reason: "FieldValueRequired",
        message: "Required value: name or generateName is required",
        field: "metadata.name",
      });
    if (causes.length) throw invalid(kind.kind, kind.group, meta.name ?? "", causes);
    fillZeroFields(obj, obj.apiVersion ?? apiVersionOf(kind), obj.kind ?? kind.kind);
    if (opts.manager) meta.managedFields = managedAfter(kind, undefined, obj, opts.manager);
    return this.deps.admission.admitCreate(
      kind,
      obj,
      { dryRun: !!opts.dryRun, warnings: opts.warnings ?? [] },
      async () => {
        if (opts.dryRun) return obj;
        for (let attempt = 0; ; attempt++) {
          try {
            const kv = await this.deps.store.create(objectKey(kind, meta.namespace, meta.name!), sized(encode(obj)), {
              readSoon: readSoonAfterCreate(kind, obj),
            });
            const created = needsOnRead(kind, kv) ? read(kind, kv) : asWritten(obj, kv);
            await kind.hooks?.afterWrite?.(created, undefined);
            return created;
          } catch (err) {
            if (!(err instanceof KeyExistsError)) throw err;
            if (!generated || attempt >= 5) throw alreadyExists(kind.resource, kind.group, meta.name!);
            meta.name = generateName(meta.generateName!);
          }
        }
      },
    );
  }

  /**
   * Replaces an object. `mode` says which part of the body counts: the main resource keeps
   * the stored status, the status subresource keeps everything but the status.
   */
  async update(
    kind: KindDef,
    ns: string | undefined,
    name: string,
    body: KubeObject,
    mode: "main" | "status" | "raw",
    opts: WriteOpts & { current?: Stored } = {},
  ): Promise<KubeObject> {
    // A patch cannot turn the object into another kind either.
    checkTypeMeta(kind, body, () => true);
    decodeBody(kind, body);
    const shape = shapeCauses(body);
    if (shape.length) throw invalid(kind.kind, kind.group, name, shape);
    const bodyName = body.metadata?.name;
    if (bodyName !== undefined && bodyName !== name)
      throw badRequest(`the name of the object (${bodyName}) does not match the name on the URL (${name})`);
    const current = opts.current ?? (await this.get(kind, ns, name));
    const wantRv = body.metadata?.resourceVersion;
    if (wantRv !== undefined && wantRv !== "" && wantRv !== String(current.kv.modRevision))
      throw conflict(kind.resource, kind.group, name);
    const old = current.obj;
    let next: KubeObject;
    if (mode === "status") {
      // A copy of the old object but its status, which the body's replaces in the same place.
      next = cloneJson({ ...old, status: undefined });
      next.status = body.status;
      // A custom resource's status is pruned and defaulted by its schema, as its spec is on the main resource.
      if (kind.custom) {
        const broken = checked(kind, next, old, "defaults");
        if (broken.length) throw invalid(kind.kind, kind.group, name, broken);
      }
    } else {
      next = { ...body, apiVersion: old.apiVersion, kind: old.kind, metadata: { ...body.metadata } };
      keepServerMeta(next, old);
      if (mode === "main" && kind.hasStatus) next.status = old.status;
    }
    if (mode !== "status") {
      const broken = checked(kind, next, old, "defaults");
      if (broken.length) throw invalid(kind.kind, kind.group, name, broken);
      const changed = kind.specChanged
        ? kind.specChanged(old, next)
        : JSON.stringify(old.spec) !== JSON.stringify(next.spec);
      if (changed && next.metadata!.generation !== undefined)
        next.metadata!.generation = (next.metadata!.generation ?? 0) + 1;
    }
    await this.deps.admission.beforeUpdate(kind, next, old);
    const causes = checked(kind, next, old, "validate");
    if (causes.length) throw invalid(kind.kind, kind.group, name, causes);
    fillZeroFields(next, next.apiVersion ?? apiVersionOf(kind), next.kind ?? kind.kind);
    if (mode !== "status")
      await this.deps.admission.admitUpdate(kind, next, old, { dryRun: !!opts.dryRun, warnings: opts.warnings ?? [] });
    if (sameContent(next, old)) return old;
    if (opts.manager)
      next.metadata!.managedFields = managedAfter(
        kind,
        old,
        next,
        opts.manager,
        mode === "status" ? "status" : undefined,
      );
    if (opts.dryRun) return next;
    if (finalized(kind, next)) return this.remove(kind, ns, name, current.kv.modRevision);
    return this.writeRaw(kind, ns, name, next, current);
  }

  /** Writes over `current` (its revision is the precondition); server-side mutations like bindings skip validation. */
  async writeRaw(
    kind: KindDef,
    ns: string | undefined,
    name: string,
    next: KubeObject,
    current: Stored,
    dryRun = false,
  ): Promise<KubeObject> {
    if (dryRun) return next;
    try {
      const kv = await this.writeKv(kind, ns, name, next, current);
      const written = needsOnRead(kind, kv) ? read(kind, kv) : asWritten(next, kv);
      await kind.hooks?.afterWrite?.(written, current.obj);
      return written;
    } catch (err) {
      throw apiErrorOf(kind, name, err);
    }
  }

  /**
   * writeRaw() for a caller that does not read the result (a binding answers with a Status): the
   * written text is parsed again only for a kind whose afterWrite hook reads it.
   */
  async writeRawQuiet(
    kind: KindDef,
    ns: string | undefined,
    name: string,
    next: KubeObject,
    current: Stored,
  ): Promise<void> {
    if (kind.hooks?.afterWrite) return void (await this.writeRaw(kind, ns, name, next, current));
    try {
      await this.writeKv(kind, ns, name, next, current);
    } catch (err) {
      throw apiErrorOf(kind, name, err);
    }
  }

  private writeKv(kind: KindDef, ns: string | undefined, name: string, next: KubeObject, current: Stored) {
    return this.deps.store.update(
      objectKey(kind, ns, name),
      sized(encode(fillZeroFields(next, next.apiVersion ?? apiVersionOf(kind), next.kind ?? kind.kind))),
      current.kv.modRevision,
    );
  }

  /** Removes the stored object now (no grace, no finalizers). */
  async remove(kind: KindDef, ns: string | undefined, name: string, expectedRevision: number): Promise<KubeObject> {
    try {
      const kv = await this.deps.store.delete(objectKey(kind, ns, name), expectedRevision);
      const removed = decode(kv);
      await kind.hooks?.afterWrite?.(undefined, removed);
      return removed;
    } catch (err) {
      throw apiErrorOf(kind, name, err);
    }
  }
}

/** A stored object as a reader sees it (a custom resource: at the requested version, defaulted). */
export function read(kind: KindDef, kv: KeyValue): KubeObject {
  const obj = decode(kv);
  return needsOnRead(kind, kv) ? kind.hooks!.onRead!(obj) : obj;
}

export function needsOnRead(kind: KindDef, kv: KeyValue): boolean {
  const h = kind.hooks;
  if (!h?.onRead) return false;
  if (h.readAsStoredAfter === undefined || kv.modRevision <= h.readAsStoredAfter) return true;
  // encode() writes apiVersion first: a prefix test tells the stored version without parsing.
  return !kv.value.startsWith(`{"apiVersion":"${kind.group}/${kind.version}"`);
}

/**
 * A pod created without a node is read again within moments, by its binding: the store may keep
 * it in its read cache (otherwise the binding's read is a SQLite read, ~4% of a scheduling run).
 */
function readSoonAfterCreate(kind: KindDef, obj: KubeObject): boolean {
  return kind.resource === "pods" && kind.group === "" && !(obj.spec as { nodeName?: string } | undefined)?.nodeName;
}

/** A store's precondition failure as the API's answer (anything else as it is). */
function apiErrorOf(kind: KindDef, name: string, err: unknown): unknown {
  if (err instanceof ConflictError) return conflict(kind.resource, kind.group, name);
  if (err instanceof NotFoundError) return notFound(kind.resource, kind.group, name);
  return err;
}

/** An object being deleted whose finalizers are all gone is removed for real. */
function finalized(kind: KindDef, obj: KubeObject): boolean {
  const meta = obj.metadata!;
  if (!meta.deletionTimestamp || (meta.finalizers?.length ?? 0) > 0) return false;
  return !kind.hooks?.holdsDeletion?.(obj);
}
