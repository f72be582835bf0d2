// What every controller shares: informers (one per resource, shared by all controllers of a
// process), a work queue of keys, workers running reconcile(key), and a clean stop.
import type { KubeObject } from "../../api/types.ts";
import { Informer, keyOf, runWorkers, WorkQueue, type Client } from "../../client/index.ts";

export class InformerFactory {
  private readonly informers = new Map<string, Informer<KubeObject>>();
  constructor(readonly client: Client) {}

  /** The shared informer for a resource (all namespaces), created on first use. */
  get<T extends KubeObject = KubeObject>(resource: string): Informer<T> {
    let inf = this.informers.get(resource);
    if (!inf) {
      inf = new Informer<KubeObject>(this.client.resource(resource), { resyncMs: 60_000 });
      this.informers.set(resource, inf);
    }
    return inf as unknown as Informer<T>;
  }

  /**
   * Informers a controller only reads from the cache (no handlers): they start and sync with the
   * rest, so reconcile finds them filled.
   */
  register(...resources: string[]): void {
    for (const r of resources) this.get(r);
  }

  /** The shared informer for a resource if some controller asked for one. */
  peek<T extends KubeObject = KubeObject>(resource: string): Informer<T> | undefined {
    return this.informers.get(resource) as unknown as Informer<T> | undefined;
  }

  async startAll(): Promise<void> {
    for (const inf of this.informers.values()) inf.start();
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
  }

  stopAll(): void {
    for (const inf of this.informers.values()) inf.stop();
  }
}

export interface ControllerContext {
  client: Client;
  /** A client acting as the service account kube-system/NAME (the controller's own identity). */
  clientFor?: (serviceAccount: string) => Client;
  informers: InformerFactory;
  log: (message: string) => void;
  settings: Record<string, string | number | boolean | undefined>;
  /** PEM of the cluster CA, published to every namespace. */
  clusterCa?: string;
  /** The cluster's data dir (the local-path provisioner keeps volumes under it). */
  dataDir?: string;
}

/** A level-triggered controller: handlers enqueue keys, workers reconcile them. */
export abstract class Controller {
  readonly queue = new WorkQueue();
  private workers: Promise<void> | undefined;
  abstract readonly name: string;
  constructor(protected readonly ctx: ControllerContext) {}

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
export function controllerRef(
  owner: KubeObject,
): NonNullable<NonNullable<KubeObject["metadata"]>["ownerReferences"]>[number] {
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
