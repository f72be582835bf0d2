// One informer per resource and selector for a whole process, as client-go's SharedInformerFactory:
// the components of one `kube up` (controllers, hollow kubelets) that watch the same resource share
// one watch and one cache, so each event is read and decoded once, not once per component.
//
// Each component gets its own handle (a SharedInformer): its handlers, with their own resync period,
// and its own stop(), which removes only its handlers. The watch ends when every handle has stopped
// (or the factory stops); a later request starts a new one.
import type { KubeObject } from "../api/types.ts";
import { type EventHandlers, Informer, type InformerOptions } from "./informer.ts";
import type { Client } from "./types.ts";

/** What a component uses of an informer: an Informer of its own, or its handle on a shared one. */
export type InformerView<T extends KubeObject> = Pick<
  Informer<T>,
  | "on"
  | "list"
  | "get"
  | "byIndex"
  | "addIndexer"
  | "hasSynced"
  | "waitForSync"
  | "start"
  | "stop"
  | "relists"
  | "resourceVersion"
>;

export interface SharedInformerOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** The resync period of this handle's listeners (0 or absent: none). */
  resyncMs?: number;
}

/** A shared informer and the handles not yet stopped. */
interface Entry {
  informer: Informer<KubeObject>;
  handles: Set<SharedInformer<KubeObject>>;
}

export class SharedInformerFactory {
  private readonly entries = new Map<string, Entry>();

  /**
   * @param client whose list and watch the shared informers make: one allowed to read what every user reads.
   * @param opts options of every shared informer (stripManagedFields, onError, pageSize, ...).
   */
  constructor(
    private readonly client: Client,
    private readonly opts: Omit<InformerOptions, "labelSelector" | "fieldSelector" | "resyncMs" | "transform"> = {},
  ) {}

  /** A new handle on the shared informer of a resource (all namespaces) and selectors. */
  informer<T extends KubeObject = KubeObject>(resource: string, opts: SharedInformerOptions = {}): SharedInformer<T> {
    const { labelSelector, fieldSelector } = opts;
    const key = `${resource}?${labelSelector ?? ""}?${fieldSelector ?? ""}`;
    let entry = this.entries.get(key);
    if (!entry) {
      const informer = new Informer<KubeObject>(this.client.resource(resource), {
        ...this.opts,
        labelSelector,
        fieldSelector,
      });
      entry = { informer, handles: new Set() };
      this.entries.set(key, entry);
    }
    const e = entry;
    const handle = new SharedInformer<KubeObject>(e.informer, opts.resyncMs ?? 0, (h) => {
      e.handles.delete(h);
      if (e.handles.size) return;
      e.informer.stop();
      if (this.entries.get(key) === e) this.entries.delete(key);
    });
    e.handles.add(handle);
    return handle as unknown as SharedInformer<T>;
  }

  /** How many shared informers are open (for tests). */
  get size(): number {
    return this.entries.size;
  }

  /** Stops every shared informer; the handles still open see no more events. */
  stop(): void {
    for (const e of this.entries.values()) e.informer.stop();
    this.entries.clear();
  }
}

/** One user's handle on a shared informer: its reads go to the shared cache, its handlers are its own. */
export class SharedInformer<T extends KubeObject> implements InformerView<T> {
  private readonly unsubscribes = new Set<() => void>();
  private stopped = false;

  constructor(
    private readonly informer: Informer<T>,
    private readonly resyncMs: number,
    private readonly release: (h: SharedInformer<T>) => void,
  ) {}

  /** Handlers of this handle, resynced on its period; a late one first gets add() for every cached object. */
  on(handlers: EventHandlers<T>): () => void {
    if (this.stopped) return () => {};
    const off = this.informer.on(handlers, { resyncMs: this.resyncMs });
    const unsubscribe = () => {
      this.unsubscribes.delete(unsubscribe);
      off();
    };
    this.unsubscribes.add(unsubscribe);
    return unsubscribe;
  }

  /** Starts the shared informer if it is not running yet. */
  start(): void {
    if (!this.stopped) this.informer.start();
  }

  /** Removes this handle's handlers; the shared informer stops once no handle is left. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const off of [...this.unsubscribes]) off();
    this.release(this);
  }

  /** An index over the shared cache; one of the same name already there is the one used (same name, same index). */
  addIndexer(name: string, fn: (obj: T) => string[]): void {
    this.informer.addIndexer(name, fn);
  }

  byIndex(name: string, value: string): T[] {
    return this.informer.byIndex(name, value);
  }

  list(): T[] {
    return this.informer.list();
  }

  get(key: string): T | undefined {
    return this.informer.get(key);
  }

  hasSynced(): boolean {
    return this.informer.hasSynced();
  }

  waitForSync(signal?: AbortSignal): Promise<void> {
    return this.informer.waitForSync(signal);
  }

  get relists(): number {
    return this.informer.relists;
  }

  get resourceVersion(): string | undefined {
    return this.informer.resourceVersion;
  }
}
