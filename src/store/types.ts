// The storage contract every backend meets (SQLite now, etcd later), in the spirit
// of kine's Backend: keys are strings, values opaque strings, and every result
// carries the store's revision. The apiserver is the only importer.

/** One stored key. Revisions come from the change log (the global revision counter). */
export interface KeyValue {
  key: string;
  value: string;
  /** Revision at which the key was (last) created. */
  createRevision: number;
  /** Revision of the last write to the key; becomes metadata.resourceVersion. */
  modRevision: number;
}

export type EventType = "create" | "update" | "delete";

export interface WatchEvent {
  type: EventType;
  /** Revision of this change. */
  revision: number;
  /** For create/update: the new value. For delete: the last value, with modRevision = the delete's revision. */
  kv: KeyValue;
  /** The value before this change (update and delete). */
  prevKv?: KeyValue;
}

export interface ListOptions {
  /** Most keys to return; 0 or absent means all. */
  limit?: number;
  /** Return keys strictly after this one (the continue point of a previous page). */
  startAfter?: string;
  /** Count the keys beyond the page (`remaining`). Default true; a continued list already knows. */
  countRemaining?: boolean;
  /**
   * A hint: only keys ending with this are wanted (a `metadata.name=x` selector across namespaces). A backend
   * may leave the others out, and then `limit`, `more` and `remaining` are about the keys that end with it;
   * or it may ignore the hint. Callers filter what they get.
   */
  keySuffix?: string;
}

export interface ListResult {
  /** Store revision at which the list was read. */
  revision: number;
  kvs: KeyValue[];
  /** True when keys beyond this page exist. */
  more: boolean;
  /** Keys under the prefix after startAfter that this page did not return (absent when not counted). */
  remaining?: number;
}

export interface WatchOptions {
  /** Deliver events with revision > afterRevision. 0 means from now. */
  afterRevision?: number;
  /** Closes the watch when aborted. */
  signal?: AbortSignal;
}

/**
 * A running watch. Iterating yields events in revision order with no gaps or
 * duplicates. The iteration ends normally on close()/abort; it throws
 * WatchLaggedError when the watcher fell too far behind (resume from the last
 * revision seen), and CompactedError when the start revision was compacted.
 */
export interface Watcher extends AsyncIterable<WatchEvent> {
  close(): void;
  /**
   * Up to `max` events that have already arrived and come next, taken without waiting ([] when
   * none is ready). Called between reads of the iterator (never while a read waits), it lets a
   * reader send a burst in one write instead of one per event.
   */
  takeReady(max: number): WatchEvent[];
  /**
   * A revision this watch has handed out every event up to (its own and everyone else's writes),
   * when it is reading live events and none waits in its buffer; else undefined. A bookmark may then
   * carry it, so a client watching a quiet resource resumes from a recent revision instead of the
   * last event it saw, long compacted (upstream's watch cache sends its own current revision).
   */
  caughtUp?(): number | undefined;
}

export interface Store {
  /** The newest revision committed. */
  currentRevision(): Promise<number>;
  get(key: string): Promise<{ revision: number; kv: KeyValue | null }>;
  /**
   * What get() would answer, without waiting, for a backend that reads in process (SQLite, its read
   * cache): the API server then answers a GET in the same turn of the event loop. Absent = ask get().
   */
  getNow?(key: string): { revision: number; kv: KeyValue | null };
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /**
   * Throws KeyExistsError. `readSoon`: a hint that the key will be read again within moments (a
   * new pod, which its binding reads), so a backend with a read cache may keep the value.
   */
  create(key: string, value: string, opts?: { readSoon?: boolean }): Promise<KeyValue>;
  /**
   * Replaces the value if the key's modRevision equals expectedRevision
   * (0 = unconditional). Throws NotFoundError or ConflictError (carrying the current kv).
   */
  update(key: string, value: string, expectedRevision: number): Promise<KeyValue>;
  /** Deletes, same precondition as update. Returns the deleted kv with modRevision = delete revision. */
  delete(key: string, expectedRevision: number): Promise<KeyValue>;
  /** Throws CompactedError when afterRevision is older than the compaction point. */
  watch(prefix: string, opts?: WatchOptions): Watcher;
  /** Drop log entries at or below revision (never the current state). */
  compact(revision: number): Promise<void>;
  /** The oldest revision a watch may still start after. */
  compactedRevision(): Promise<number>;
  close(): Promise<void>;
}

export class StoreError extends Error {
  override name = "StoreError";
}
export class KeyExistsError extends StoreError {
  override name = "KeyExistsError";
  constructor(readonly key: string) {
    super(`key ${key} already exists`);
  }
}
export class NotFoundError extends StoreError {
  override name = "NotFoundError";
  constructor(readonly key: string) {
    super(`key ${key} not found`);
  }
}
export class ConflictError extends StoreError {
  override name = "ConflictError";
  constructor(
    readonly key: string,
    readonly current: KeyValue,
  ) {
    super(`key ${key} was modified (revision ${current.modRevision})`);
  }
}
export class CompactedError extends StoreError {
  override name = "CompactedError";
  constructor(
    readonly requested: number,
    readonly compacted: number,
  ) {
    super(`revision ${requested} has been compacted (oldest is ${compacted})`);
  }
}
export class WatchLaggedError extends StoreError {
  override name = "WatchLaggedError";
  constructor(readonly lastRevision: number) {
    super(`watcher fell too far behind after revision ${lastRevision}`);
  }
}
/** The backend cannot serve now (etcd without a quorum or unreachable); retrying later may succeed. */
export class StoreUnavailableError extends StoreError {
  override name = "StoreUnavailableError";
}
/** Another process holds the data dir. */
export class LockedError extends StoreError {
  override name = "LockedError";
}
