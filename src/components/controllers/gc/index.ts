// The garbage collector, as upstream's: a graph of every object of every resource that can be listed,
// watched and deleted (read from discovery, so custom resources too, and read again when CRDs come and
// go), built from metadata-only informers. Dependents whose owners are all gone are deleted; an owner
// deleted with `orphan` first releases its dependents; an owner with `foregroundDeletion` keeps its
// finalizer until no dependent that blocks it (blockOwnerDeletion) is left.
import type { KubeObject, OwnerReference } from "../../../api/types.ts";
import { resolveKind } from "../../../api/registry.ts";
import {
  type DiscoveredResource,
  Informer,
  type InformerView,
  ignore,
  isConflict,
  isNotFound,
  keyOf,
  type ResourceClient,
  splitKey,
} from "../../../client/index.ts";
import { Controller, metadataOnly } from "../base.ts";

/** One watched resource: its informer (our own, or a shared one we subscribed to). */
interface Monitor {
  res: DiscoveredResource;
  inf: InformerView<KubeObject>;
  stop(): void;
}

/** A vertex of the ownership graph: an object seen by a monitor. */
interface Node {
  monitor: string;
  obj: KubeObject;
}

/** Not watched, as kube-controller-manager's default ignored resources. */
const IGNORED = new Set(["/events", "events.k8s.io/events"]);

const groupOf = (apiVersion: string) => (apiVersion.includes("/") ? apiVersion.split("/")[0]! : "");
const monitorKey = (r: { group: string; resource: string }) => `${r.group}/${r.resource}`;
const refs = (o: KubeObject | undefined): OwnerReference[] => o?.metadata?.ownerReferences ?? [];
const finalizers = (o: KubeObject) => o.metadata?.finalizers ?? [];
/** Being deleted and waiting for its blocking dependents to go first. */
const waitingForDependents = (o: KubeObject) =>
  !!o.metadata?.deletionTimestamp && finalizers(o).includes("foregroundDeletion");

export class GarbageCollector extends Controller {
  readonly name = "garbage-collector";
  private readonly monitors = new Map<string, Monitor>();
  private readonly nodes = new Map<string, Node>(); // uid -> node
  private readonly dependents = new Map<string, Set<string>>(); // owner uid -> dependent uids
  private readonly resources = new Map<string, DiscoveredResource>(); // "group/Kind" -> resource
  private stopped = false;
  private resyncing: Promise<void> | undefined;

  setup(): void {
    // A CRD that comes, goes or changes its versions changes what there is to watch.
    this.ctx.informers.get("customresourcedefinitions").on({
      add: () => this.queue.add("sync"),
      update: (a, b) => {
        if (JSON.stringify(a.status) !== JSON.stringify(b.status)) this.queue.add("sync");
      },
      delete: () => this.queue.add("sync"),
    });
  }

  /** Workers start once every monitor has listed, so no decision is taken on half a graph. */
  override run(workers = 2): void {
    this.resyncing = this.syncMonitors()
      .catch((err) => this.ctx.log(`${this.name}: discovery: ${(err as Error).message}`))
      .then(() => {
        if (!this.stopped) super.run(workers);
      });
  }

  override async stop(): Promise<void> {
    this.stopped = true;
    await this.resyncing;
    for (const m of this.monitors.values()) m.stop();
    this.monitors.clear();
    await super.stop();
  }

  /** Starts a monitor for every deletable, listable, watchable resource; stops those no longer served. */
  private async syncMonitors(): Promise<void> {
    const wanted = new Map<string, DiscoveredResource>();
    this.resources.clear();
    for (const r of await this.ctx.client.discover()) {
      this.resources.set(`${r.group}/${r.kind}`, this.resources.get(`${r.group}/${r.kind}`) ?? r);
      const key = monitorKey(r);
      if (IGNORED.has(key) || wanted.has(key)) continue;
      if (["list", "watch", "delete"].every((v) => r.verbs.includes(v))) wanted.set(key, r);
    }
    for (const [key, m] of this.monitors) {
      if (wanted.has(key)) continue;
      m.stop();
      this.monitors.delete(key);
      for (const [uid, node] of this.nodes) if (node.monitor === key) this.forget(uid);
    }
    const started: Monitor[] = [];
    for (const [key, r] of wanted) {
      if (this.monitors.has(key) || this.stopped) continue;
      const m = this.monitor(key, r);
      this.monitors.set(key, m);
      started.push(m);
    }
    await Promise.all(started.map((m) => m.inf.waitForSync().catch(() => undefined)));
  }

  /**
   * A built-in resource: the shared informer when another controller keeps one, else the shared metadata-only
   * one (which lists in the background, after start-up). A custom resource: our own metadata-only informer.
   */
  private monitor(key: string, res: DiscoveredResource): Monitor {
    const handlers = {
      add: (o: KubeObject) => this.observe(key, undefined, o),
      update: (old: KubeObject, o: KubeObject) => this.observe(key, old, o),
      delete: (o: KubeObject) => this.removed(o),
    };
    if (resolveKind(res.resource)?.group === res.group) {
      const shared = this.ctx.informers.peek(res.resource) ?? this.ctx.informers.metadata(res.resource);
      return { res, inf: shared, stop: shared.on(handlers) };
    }
    const inf = new Informer<KubeObject>(this.ctx.client.dynamic(res), {
      transform: metadataOnly,
      onError: (err) => this.ctx.log(`${this.name}: ${key}: ${(err as Error).message}`),
    });
    inf.on(handlers);
    inf.start();
    return { res, inf, stop: () => inf.stop() };
  }

  private observe(monitor: string, old: KubeObject | undefined, o: KubeObject): void {
    const uid = o.metadata?.uid;
    if (!uid) return;
    if (old?.metadata?.uid && old.metadata.uid !== uid) this.removed(old);
    const before = this.nodes.get(uid)?.obj;
    this.nodes.set(uid, { monitor, obj: o });
    for (const r of refs(before)) this.dependents.get(r.uid)?.delete(uid);
    for (const r of refs(o)) {
      const set = this.dependents.get(r.uid) ?? new Set<string>();
      this.dependents.set(r.uid, set.add(uid));
    }
    if (o.metadata?.deletionTimestamp && (finalizers(o).includes("orphan") || waitingForDependents(o)))
      this.queue.add(`owner|${uid}`);
    if (!o.metadata?.deletionTimestamp && refs(o).some((r) => !this.nodes.has(r.uid) || this.isWaiting(r.uid)))
      this.queue.add(`dep|${uid}`);
    // An owner waiting for its dependents looks again when one of them changes its references.
    for (const r of [...refs(before), ...refs(o)]) if (this.isWaiting(r.uid)) this.queue.add(`owner|${r.uid}`);
  }

  private removed(o: KubeObject): void {
    const uid = o.metadata?.uid;
    if (!uid) return;
    const node = this.nodes.get(uid);
    this.forget(uid);
    for (const dep of this.dependents.get(uid) ?? []) this.queue.add(`dep|${dep}`);
    for (const r of refs(node?.obj ?? o)) if (this.isWaiting(r.uid)) this.queue.add(`owner|${r.uid}`);
  }

  private forget(uid: string): void {
    for (const r of refs(this.nodes.get(uid)?.obj)) {
      const set = this.dependents.get(r.uid);
      set?.delete(uid);
      if (set?.size === 0) this.dependents.delete(r.uid);
    }
    this.nodes.delete(uid);
  }

  private isWaiting(uid: string): boolean {
    const owner = this.nodes.get(uid)?.obj;
    return !!owner && waitingForDependents(owner);
  }

  async reconcile(key: string): Promise<void> {
    const [what, uid] = key.split("|") as [string, string];
    if (what === "sync") await this.syncMonitors();
    else if (what === "dep") await this.attemptToDelete(uid);
    else if (what === "owner") await this.processDeletingOwner(uid);
  }

  private clientFor(node: Node): ResourceClient<KubeObject> | undefined {
    const m = this.monitors.get(node.monitor);
    return m && this.ctx.client.dynamic(m.res, node.obj.metadata?.namespace);
  }

  /** Classifies an owner reference: "solid" (the owner lives), "dangling" (gone) or "waiting" (foreground). */
  private async classify(dep: KubeObject, ref: OwnerReference): Promise<"solid" | "dangling" | "waiting"> {
    const node = this.nodes.get(ref.uid);
    if (node) return waitingForDependents(node.obj) ? "waiting" : "solid";
    // Not in the graph: the owner's monitor may lag its creation, so ask the API before calling it gone.
    const res = this.resources.get(`${groupOf(ref.apiVersion)}/${ref.kind}`);
    if (!res) return "solid"; // a kind this server does not serve: nothing can be decided
    const live = await this.ctx.client
      .dynamic(res, res.namespaced ? dep.metadata?.namespace : undefined)
      .get(ref.name)
      .catch(ignore(isNotFound));
    if (!live || live.metadata?.uid !== ref.uid) return "dangling";
    return waitingForDependents(live) ? "waiting" : "solid";
  }

  /** upstream's attemptToDeleteItem: a dependent with no solid owner left is deleted. */
  private async attemptToDelete(uid: string): Promise<void> {
    const node = this.nodes.get(uid);
    if (!node || node.obj.metadata?.deletionTimestamp || !refs(node.obj).length) return;
    const rc = this.clientFor(node);
    if (!rc) return;
    const solid: OwnerReference[] = [];
    const gone = new Set<string>();
    const waiting = new Set<string>();
    for (const ref of refs(node.obj)) {
      const c = await this.classify(node.obj, ref);
      if (c === "solid") solid.push(ref);
      else (c === "dangling" ? gone : waiting).add(ref.uid);
    }
    const { name } = splitKey(keyOf(node.obj));
    if (solid.length) {
      // Some owner lives: only the references to gone or foreground-deleted owners are dropped.
      if (gone.size || waiting.size)
        await this.patchRefs(rc, name, uid, (r) => !gone.has(r.uid) && !waiting.has(r.uid));
      return;
    }
    let policy: "Orphan" | "Foreground" | "Background" = "Background";
    if (waiting.size && this.dependents.get(uid)?.size) {
      // Its own dependents must go before it; they must not block it from going (no deadlock).
      await this.patchRefs(
        rc,
        name,
        uid,
        (r) => r,
        (r) => (waiting.has(r.uid) ? { ...r, blockOwnerDeletion: false } : r),
      );
      policy = "Foreground";
    } else if (finalizers(node.obj).includes("orphan")) policy = "Orphan";
    else if (finalizers(node.obj).includes("foregroundDeletion")) policy = "Foreground";
    await rc
      .delete(name, { propagationPolicy: policy, preconditions: { uid } })
      // Gone already, or re-created under another uid (the precondition fails): nothing to delete.
      .catch(ignore(isNotFound, isConflict));
  }

  /** upstream's processDeletingDependentsItem and orphanDependents, for an owner being deleted. */
  private async processDeletingOwner(uid: string): Promise<void> {
    const owner = this.nodes.get(uid);
    if (!owner?.obj.metadata?.deletionTimestamp) return;
    const deps = [...(this.dependents.get(uid) ?? [])].map((d) => this.nodes.get(d)).filter((n) => !!n);
    if (finalizers(owner.obj).includes("orphan")) {
      for (const d of deps) {
        const rc = this.clientFor(d);
        if (rc) await this.patchRefs(rc, splitKey(keyOf(d.obj)).name, d.obj.metadata!.uid!, (r) => r.uid !== uid);
      }
      return this.removeFinalizer(owner, "orphan");
    }
    if (!waitingForDependents(owner.obj)) return;
    const blocking = deps.filter((d) => refs(d.obj).some((r) => r.uid === uid && r.blockOwnerDeletion));
    // Dependents that do not block are deleted after the owner goes (as dangling), as upstream.
    if (!blocking.length) return this.removeFinalizer(owner, "foregroundDeletion");
    for (const d of blocking) if (!d.obj.metadata?.deletionTimestamp) this.queue.add(`dep|${d.obj.metadata!.uid}`);
    this.queue.addAfter(`owner|${uid}`, 1000); // also re-queued at once when a dependent goes
  }

  /** Rewrites a dependent's ownerReferences from its live version (retried on a conflict). */
  private async patchRefs(
    rc: ResourceClient<KubeObject>,
    name: string,
    uid: string,
    keep: (r: OwnerReference) => unknown,
    map: (r: OwnerReference) => OwnerReference = (r) => r,
  ): Promise<void> {
    const live = await rc.get(name).catch(ignore(isNotFound));
    if (!live || live.metadata?.uid !== uid) return;
    const next = refs(live).filter(keep).map(map);
    if (JSON.stringify(next) === JSON.stringify(refs(live))) return;
    await rc
      .patch(
        name,
        { metadata: { ownerReferences: next.length ? next : null, resourceVersion: live.metadata?.resourceVersion } },
        "merge",
      )
      .catch(ignore(isNotFound));
  }

  private async removeFinalizer(owner: Node, finalizer: string): Promise<void> {
    const rc = this.clientFor(owner);
    if (!rc) return;
    const { name } = splitKey(keyOf(owner.obj));
    const rest = finalizers(owner.obj).filter((f) => f !== finalizer);
    await rc
      .patch(
        name,
        { metadata: { finalizers: rest.length ? rest : null, resourceVersion: owner.obj.metadata?.resourceVersion } },
        "merge",
      )
      .catch(ignore(isNotFound)); // a conflict is retried by the queue
  }
}
