// What every controller shares: informers (one per resource, shared by all controllers of a
// process), a work queue of keys, workers running reconcile(key), and a clean stop.
import type { KubeObject, OwnerReference } from "../../api/types.ts";
import {
  Informer,
  type InformerView,
  keyOf,
  runWorkers,
  type SharedInformerFactory,
  WorkQueue,
  yieldToLoop,
  type Client,
  type Clock,
} from "../../client/index.ts";
import type { ClusterConfig } from "../config.ts";

/** What the garbage collector and the quota counts need of an object: the rest is dropped before it is cached. */
export function metadataOnly(o: KubeObject): KubeObject {
  const m = o.metadata ?? {};
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      ownerReferences: m.ownerReferences,
      deletionTimestamp: m.deletionTimestamp,
      finalizers: m.finalizers,
    },
  };
}

export class InformerFactory {
  private readonly informers = new Map<string, InformerView<KubeObject>>();
  private readonly metadataInformers = new Map<string, Informer<KubeObject>>();
  private started = false;
  private stopped = false;
  /**
   * @param background resolves when background informers may start listing (kube up: once every component
   * of the process has started); they start at once without it.
   * @param shared the process's shared informers (kube up): the controllers' informers are handles on them,
   * so the hollow kubelets' pods and the controllers' are one watch and one cache.
   */
  constructor(
    readonly client: Client,
    private background: Promise<unknown> = Promise.resolve(),
    private readonly shared?: SharedInformerFactory,
  ) {}

  /** The shared informer for a resource (all namespaces), created on first use. */
  get<T extends KubeObject = KubeObject>(resource: string): InformerView<T> {
    let inf = this.informers.get(resource);
    if (!inf) {
      // Without managedFields, as kube-controller-manager's informer factory caches them.
      inf = this.shared
        ? this.shared.informer(resource, { resyncMs: 60_000 })
        : new Informer<KubeObject>(this.client.resource(resource), { resyncMs: 60_000, stripManagedFields: true });
      this.informers.set(resource, inf);
    }
    return inf as unknown as InformerView<T>;
  }

  /**
   * Informers a controller only reads from the cache (no handlers): they start and sync with the
   * rest, so reconcile finds them filled.
   */
  register(...resources: string[]): void {
    for (const r of resources) this.get(r);
  }

  /** The shared informer for a resource if some controller asked for one. */
  peek<T extends KubeObject = KubeObject>(resource: string): InformerView<T> | undefined {
    return this.informers.get(resource) as unknown as InformerView<T> | undefined;
  }

  /**
   * The shared metadata-only informer of a built-in resource, for controllers that need to know which objects
   * exist, not what they hold (the garbage collector's graph, quota object counts). It is a background
   * informer: startAll does not wait for it, and it lists only once `background` resolves, so a store with
   * 100k ConfigMaps does not hold up start-up; those who read it wait for its sync themselves, as upstream's
   * controllers wait for their caches.
   */
  metadata(resource: string): Informer<KubeObject> {
    let inf = this.metadataInformers.get(resource);
    if (!inf) {
      // Small pages: each is one stretch of work on the event loop the API server shares (100 gave shorter
      // /readyz stalls after start-up than 250 on the loaded machine, within noise).
      inf = new Informer<KubeObject>(this.client.resource(resource), { transform: metadataOnly, pageSize: 100 });
      this.metadataInformers.set(resource, inf);
      if (this.started) this.startInBackground(inf);
    }
    return inf;
  }

  /** Each in its own turn of the event loop: some forty first lists at once would be one long stretch. */
  private startInBackground(inf: Informer<KubeObject>): void {
    this.background = this.background.then(async () => {
      await yieldToLoop();
      if (!this.stopped) inf.start();
    });
  }

  /** Starts every informer; resolves once the foreground ones (get/register) have synced. */
  async startAll(): Promise<void> {
    this.started = true;
    for (const inf of this.metadataInformers.values()) this.startInBackground(inf);
    for (const inf of this.informers.values()) inf.start();
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
  }

  stopAll(): void {
    this.stopped = true;
    for (const inf of [...this.informers.values(), ...this.metadataInformers.values()]) inf.stop();
  }
}

export interface ControllerContext {
  client: Client;
  /** A client acting as the service account kube-system/NAME (the controller's own identity). */
  clientFor?: (serviceAccount: string) => Client;
  informers: InformerFactory;
  log: (message: string) => void;
  config: ClusterConfig;
  /** Time as the controllers see it: their timers and work-queue delays run on it. */
  clock: Clock;
  /** PEM of the cluster CA, published to every namespace. */
  clusterCa?: string;
  /** The cluster's data dir (the local-path provisioner keeps volumes under it). */
  dataDir?: string;
}

/** A level-triggered controller: handlers enqueue keys, workers reconcile them. */
export abstract class Controller {
  readonly queue: WorkQueue;
  private workers: Promise<void> | undefined;
  abstract readonly name: string;
  constructor(protected readonly ctx: ControllerContext) {
    this.queue = new WorkQueue({ clock: ctx.clock });
  }

  /** Registers informer handlers; called before the informers start. */
  abstract setup(): void;
  abstract reconcile(key: string): Promise<void>;

  enqueue = (obj: KubeObject): void => this.queue.add(keyOf(obj));

  run(workers = 2): void {
    this.workers = runWorkers(
      this.queue,
      workers,
      (k) => this.reconcile(k),
      (key, err) => this.ctx.log(`${this.name}: ${key}: ${(err as Error).message}`),
    );
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await this.workers;
  }
}

/** The owner reference that marks `owner` as the controller of a dependent. */
export function controllerRef(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion!,
    kind: owner.kind!,
    name: owner.metadata!.name!,
    uid: owner.metadata!.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function isControlledBy(obj: KubeObject, owner: KubeObject): boolean {
  return (obj.metadata?.ownerReferences ?? []).some((r) => r.controller && r.uid === owner.metadata?.uid);
}
