// The typed REST client: resolves a resource name through the kind registry, builds Kubernetes
// paths and query parameters, and turns non-2xx answers into ApiError.
import { resolveKind } from "../api/registry.ts";
import type { KubeObject } from "../api/types.ts";
import { apiErrorFrom } from "./errors.ts";
import {
  deleteBody,
  listQuery,
  patchContentTypes,
  queryString,
  resourcePath,
  watchQuery,
  type KindRef,
} from "./paths.ts";
import type { Transport } from "./transport.ts";
import type {
  Client,
  DiscoveredResource,
  DeleteOptions,
  ListOptions,
  ObjectList,
  PatchOptions,
  PatchType,
  RequestOptions,
  ResourceClient,
  Status,
  WatchOptions,
  WatchStream,
  WriteOptions,
} from "./types.ts";
import { openWatch } from "./watch.ts";

export interface ClientOptions {
  /** Resource name -> kind; defaults to the API registry's resolveKind. */
  resolve?: (name: string) => KindRef | undefined;
  /** Sent as User-Agent (the server may log it). */
  userAgent?: string;
}

/**
 * Requests whose body this client wrote with JSON.stringify: a body that cannot repeat a key. An API
 * server in the same process asks (bodySerializedByClient) to skip its duplicate-key scan; a request
 * that came over a socket is another Request object, never marked. The mark is a property under a
 * symbol only this module has (not enumerable), cheaper than a WeakSet entry per request.
 */
const SERIALIZED = Symbol("serialized");
type Marked = Request & { [SERIALIZED]?: true };

export function bodySerializedByClient(req: Request): boolean {
  return (req as Marked)[SERIALIZED] === true;
}

/** Marks a request whose body a client of this kind wrote (another thread's, carried over port-transport.ts). */
export function markSerializedByClient(req: Request): void {
  Object.defineProperty(req, SERIALIZED, { value: true });
}

export function createClient(transport: Transport, opts: ClientOptions = {}): Client {
  const resolve = opts.resolve ?? resolveKind;

  /** Raw request: does not throw on non-2xx (the caller reads the status). */
  async function request(method: string, path: string, ro: RequestOptions = {}): Promise<Response> {
    const headers = new Headers({ accept: ro.accept ?? "application/json" });
    if (opts.userAgent) headers.set("user-agent", opts.userAgent);
    let body: string | undefined;
    if (ro.body !== undefined) {
      body = typeof ro.body === "string" ? ro.body : JSON.stringify(ro.body);
      headers.set("content-type", ro.contentType ?? "application/json");
    }
    const url = transport.baseUrl + path + queryString(ro.query);
    const req = new Request(url, { method, headers, body, signal: ro.signal });
    if (body !== undefined && typeof ro.body !== "string") markSerializedByClient(req);
    return transport.fetch(req);
  }

  /** Request that throws ApiError on non-2xx and parses the JSON answer. */
  async function call<R>(method: string, path: string, ro: RequestOptions = {}): Promise<R> {
    const res = await request(method, path, ro);
    if (!res.ok) throw await apiErrorFrom(res);
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as R;
  }

  /**
   * Resource clients by kind and namespace, made once: one holds nothing else, and making its dozen
   * closures for every create, binding and Event was ~0.7% of a scheduling run.
   */
  const made = new WeakMap<KindRef, Map<string | undefined, ResourceClient<KubeObject>>>();
  function resource<T extends KubeObject>(name: string, namespace?: string): ResourceClient<T> {
    const kind = resolve(name);
    if (!kind) throw new Error(`the server doesn't have a resource type "${name}"`);
    let byNamespace = made.get(kind);
    if (!byNamespace) made.set(kind, (byNamespace = new Map()));
    let rc = byNamespace.get(namespace);
    if (!rc) {
      // Bounded: namespaces come and go.
      if (byNamespace.size >= 1024) byNamespace.clear();
      byNamespace.set(namespace, (rc = resourceClient<KubeObject>(kind, namespace, request, call)));
    }
    return rc as unknown as ResourceClient<T>;
  }

  function dynamic<T extends KubeObject>(ref: KindRef, namespace?: string): ResourceClient<T> {
    return resourceClient<T>(ref, namespace, request, call);
  }

  async function discover(): Promise<DiscoveredResource[]> {
    type Group = { name: string; preferredVersion?: { groupVersion: string }; versions: { groupVersion: string }[] };
    type List = {
      groupVersion: string;
      resources: {
        name: string;
        kind: string;
        namespaced: boolean;
        verbs: string[];
        shortNames?: string[];
        categories?: string[];
      }[];
    };
    const groups = (await call<{ groups: Group[] }>("GET", "/apis")).groups;
    const gvs = ["v1", ...groups.flatMap((g) => g.versions.map((v) => v.groupVersion))];
    const lists = await Promise.all(
      gvs.map((gv) => call<List>("GET", gv === "v1" ? "/api/v1" : `/apis/${gv}`).catch(() => undefined)),
    );
    return lists.flatMap((l) => {
      if (!l) return [];
      const [group, version] = l.groupVersion.includes("/") ? l.groupVersion.split("/") : ["", l.groupVersion];
      return l.resources
        .filter((r) => !r.name.includes("/"))
        .map((r) => ({
          group: group!,
          version: version!,
          resource: r.name,
          namespaced: r.namespaced,
          kind: r.kind,
          verbs: r.verbs,
          shortNames: r.shortNames,
          categories: r.categories,
        }));
    });
  }

  return { resource, request, dynamic, discover, transport };
}

type RawRequest = (method: string, path: string, ro?: RequestOptions) => Promise<Response>;
type Call = <R>(method: string, path: string, ro?: RequestOptions) => Promise<R>;

function writeQuery(opts: WriteOptions = {}): Record<string, string | undefined> {
  return { fieldManager: opts.fieldManager, dryRun: opts.dryRun ? "All" : undefined };
}

function resourceClient<T extends KubeObject>(
  kind: KindRef,
  namespace: string | undefined,
  request: RawRequest,
  call: Call,
): ResourceClient<T> {
  // Single objects live in a namespace: "default" unless told (or the object says) otherwise.
  const ns = (obj?: KubeObject) => namespace ?? obj?.metadata?.namespace ?? "default";
  const path = (name: string, sub?: string, obj?: KubeObject) => resourcePath(kind, ns(obj), name, sub);
  const nameOf = (obj: KubeObject) => {
    const name = obj.metadata?.name;
    if (!name) throw new Error(`${kind.resource}: metadata.name is required`);
    return name;
  };

  return {
    get: (name) => call<T>("GET", path(name)),
    list: (opts?: ListOptions) => call<ObjectList<T>>("GET", resourcePath(kind, namespace), { query: listQuery(opts) }),
    create: (obj, opts) =>
      call<T>("POST", resourcePath(kind, ns(obj)), { body: obj, query: writeQuery(opts), signal: opts?.signal }),
    update: (obj, opts) =>
      call<T>("PUT", path(nameOf(obj), undefined, obj), { body: obj, query: writeQuery(opts), signal: opts?.signal }),
    updateStatus: (obj, opts) =>
      call<T>("PUT", path(nameOf(obj), "status", obj), { body: obj, query: writeQuery(opts) }),
    patch: (name, body, type: PatchType, opts: PatchOptions = {}) => {
      const contentType = patchContentTypes[type];
      if (!contentType) throw new Error(`unknown patch type "${type}"`);
      // Server-side apply requires a field manager; components that forget get a stable one.
      const fieldManager = opts.fieldManager ?? (type === "apply" ? "kube" : undefined);
      return call<T>("PATCH", path(name, opts.subresource), {
        body,
        contentType,
        query: {
          ...writeQuery({ ...opts, fieldManager }),
          force: opts.force === undefined ? undefined : String(opts.force),
        },
        signal: opts.signal,
      });
    },
    delete: (name, opts?: DeleteOptions) => call<T | Status>("DELETE", path(name), { body: deleteBody(opts) }),
    deleteCollection: (opts: ListOptions & DeleteOptions = {}) =>
      call<ObjectList<T>>("DELETE", resourcePath(kind, namespace), { body: deleteBody(opts), query: listQuery(opts) }),
    watch: (opts: WatchOptions = {}): WatchStream<T> =>
      openWatch<T>(
        (signal) => request("GET", resourcePath(kind, namespace), { query: watchQuery(opts), signal }),
        opts.signal,
        opts.shared,
      ),
    getSubresource: async <R>(name: string, sub: string, query?: Record<string, string>): Promise<R> => {
      if (sub !== "log") return call<R>("GET", path(name, sub), { query });
      const res = await request("GET", path(name, sub), { query, accept: "text/plain, */*" });
      if (!res.ok) throw await apiErrorFrom(res);
      return (await res.text()) as R;
    },
    createSubresource: <R>(name: string, sub: string, body: unknown) => call<R>("POST", path(name, sub), { body }),
    updateSubresource: <R>(name: string, sub: string, body: unknown) => call<R>("PUT", path(name, sub), { body }),
  };
}
