// The contract every component codes against: a typed REST + watch client over a
// transport (in-process hono fetch inside `kube up`, HTTP for remote agents and the CLI).
import type { DeleteOptions, KubeObject } from "../api/types.ts";
import type { Transport } from "./transport.ts";

export type { DeleteOptions };

/** A Kubernetes Status object as the API returns it on errors. */
export interface Status {
  apiVersion: "v1";
  kind: "Status";
  metadata: Record<string, unknown>;
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes?: { reason: string; message: string; field?: string }[];
    retryAfterSeconds?: number;
  };
}

/** Thrown for every non-2xx answer; carries the server's Status. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly code: number,
    readonly status: Status,
  ) {
    super(status.message ?? `request failed with ${code}`);
  }
  get reason(): string {
    return this.status.reason ?? "";
  }
}

export interface ObjectList<T> {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface WatchOptions extends ListOptions {
  /** Start after this resourceVersion; absent = from now. */
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  signal?: AbortSignal;
  /**
   * The caller never changes an event or its object (an informer, which freezes what it caches):
   * ADDED/MODIFIED/DELETED events come deeply frozen (arrays only under test) and may be the very
   * values another shared watcher in this process was given for the same event, decoded once for
   * all of them. Not sent to the server.
   */
  shared?: boolean;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
export interface WatchEvent<T> {
  type: WatchEventType;
  /** The object; for ERROR a Status (code 410 = resourceVersion too old: relist). */
  object: T;
}

/** Iterating ends when the server ends the stream (timeout) or close() is called. */
export interface WatchStream<T> extends AsyncIterable<WatchEvent<T>> {
  close(): void;
}

export type PatchType = "merge" | "json" | "strategic" | "apply";

export interface WriteOptions {
  fieldManager?: string;
  dryRun?: boolean;
  /** Ends the request when aborted (client-go's context), e.g. AbortSignal.timeout(ms). */
  signal?: AbortSignal;
}

export interface PatchOptions extends WriteOptions {
  subresource?: string;
  /** Server-side apply: take ownership of conflicting fields. */
  force?: boolean;
}

/** One resource (e.g. pods) in one namespace (or cluster-wide / all namespaces when absent). */
export interface ResourceClient<T extends KubeObject = KubeObject> {
  get(name: string): Promise<T>;
  list(opts?: ListOptions): Promise<ObjectList<T>>;
  create(obj: T, opts?: WriteOptions): Promise<T>;
  /** PUT; obj.metadata.resourceVersion is the optimistic-concurrency precondition. */
  update(obj: T, opts?: WriteOptions): Promise<T>;
  /** PUT .../status */
  updateStatus(obj: T, opts?: WriteOptions): Promise<T>;
  patch(name: string, body: unknown, type: PatchType, opts?: PatchOptions): Promise<T>;
  /** Returns the object (graceful deletion in progress) or the deleted object. */
  delete(name: string, opts?: DeleteOptions): Promise<T | Status>;
  deleteCollection(opts?: ListOptions & DeleteOptions): Promise<ObjectList<T>>;
  watch(opts?: WatchOptions): WatchStream<T>;
  /** GET .../NAME/SUB (scale, log as text when SUB=log, ...). */
  getSubresource<R = unknown>(name: string, sub: string, query?: Record<string, string>): Promise<R>;
  /** POST .../NAME/SUB (binding, eviction). */
  createSubresource<R = unknown>(name: string, sub: string, body: unknown): Promise<R>;
  /** PUT .../NAME/SUB (scale, status). */
  updateSubresource<R = unknown>(name: string, sub: string, body: unknown): Promise<R>;
}

export interface RequestOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
}

export interface Client {
  /**
   * resource: plural ("pods"), short name ("po"), kind ("Pod"), or "deployments.apps".
   * namespace: for namespaced kinds; absent means all namespaces (list/watch) or "default" (get/create/...).
   */
  resource<T extends KubeObject = KubeObject>(resource: string, namespace?: string): ResourceClient<T>;
  /** A raw request relative to the server root, e.g. "/api/v1/namespaces/default/pods/x/log". */
  request(method: string, path: string, opts?: RequestOptions): Promise<Response>;
  /**
   * The untyped client of any resource the server serves, custom resources included:
   * `client.dynamic({ group: "example.com", version: "v1", resource: "widgets", namespaced: true }, "default")`.
   */
  dynamic<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace?: string): ResourceClient<T>;
  /** Every resource the server serves now (legacy discovery: /api/v1 and /apis/GROUP/VERSION), subresources left out. */
  discover(): Promise<DiscoveredResource[]>;
  /** What the requests go through, with this client's credentials (servePort hands it another thread's requests). */
  readonly transport: Transport;
}

/** What names a resource on the wire. */
export interface ResourceRef {
  group: string;
  version: string;
  resource: string;
  namespaced: boolean;
}

export interface DiscoveredResource extends ResourceRef {
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
}
