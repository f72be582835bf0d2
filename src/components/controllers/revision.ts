// A stable short hash of a pod template: the revision label that tells old pods from new ones
// (controller-revision-hash for DaemonSets and StatefulSets, pod-template-hash for Deployments);
// and the ControllerRevisions that record DaemonSet and StatefulSet history.
import type { PodTemplateSpec } from "../../api/kinds/pod.ts";
import type { KubeObject } from "../../api/types.ts";
import { isAlreadyExists, isNotFound, type Client, ignore } from "../../client/index.ts";
import { controllerRef, isControlledBy } from "./base.ts";

const ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Deterministic JSON (sorted keys) so equal templates hash equally. */
function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v);
}

/** Like Kubernetes' SafeEncodeString(fmt.Sprint(hash)): digits mapped into a vowel-free alphabet. */
export function templateHash(template: unknown, collisionCount = 0): string {
  const n = fnv32a(stable(template) + (collisionCount ? String(collisionCount) : ""));
  return String(n)
    .split("")
    .map((d) => ALPHABET[Number(d)])
    .join("")
    .slice(0, 10);
}

// ---- ControllerRevisions: the history of DaemonSets and StatefulSets (upstream's pkg/controller/history).

/** Go's json.Marshal of a map: keys sorted at every level. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object")
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  return v;
}

/**
 * A revision's data, as upstream's getPatch builds it for DaemonSets and StatefulSets: a
 * strategic merge patch that replaces spec.template, so `kubectl rollout undo` can apply it.
 */
export function templatePatch(template: unknown): Record<string, unknown> {
  return sortKeys({ spec: { template: { ...(template as object), $patch: "replace" } } }) as Record<string, unknown>;
}

/** The pod template a revision's data holds. */
export function templateOfRevision(rev: KubeObject): PodTemplateSpec {
  const { $patch: _, ...template } = ((rev.data as { spec?: { template?: Record<string, unknown> } } | undefined)?.spec
    ?.template ?? {}) as Record<string, unknown>;
  return template as unknown as PodTemplateSpec;
}

/** Like upstream's HashControllerRevision: fnv32a of the data (and collision count), safe-encoded. */
export function revisionHash(data: unknown, collisionCount = 0): string {
  return templateHash(data, collisionCount);
}

export const revisionNumber = (r: KubeObject) => Number((r as { revision?: number }).revision ?? 0);
const byRevision = (a: KubeObject, b: KubeObject) => revisionNumber(a) - revisionNumber(b);

export interface RevisionWanted {
  data: Record<string, unknown>;
  /** The template's labels; the revision also gets controller-revision-hash. */
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** The hash for a collision count; the revision is named `<owner>-<hash>`. */
  hash(collisionCount: number): string;
}

/**
 * The revision for the owner's current template, as upstream's getStatefulSetRevisions /
 * constructHistory: reuse an equal revision (bumping its number to the newest when an older one
 * comes back: a rollback), else create one, moving past name collisions (collisionCount + 1).
 */
export async function ensureRevision(
  client: Client,
  owner: KubeObject,
  existing: KubeObject[],
  want: RevisionWanted,
  collisionCount: number,
): Promise<{ revision: KubeObject; collisionCount: number }> {
  const namespace = owner.metadata!.namespace!;
  const api = client.resource("controllerrevisions", namespace);
  const sorted = [...existing].sort(byRevision);
  const wanted = stable(want.data);
  const equal = sorted.filter((r) => stable(r.data) === wanted);
  const next = (sorted.length ? revisionNumber(sorted[sorted.length - 1]!) : 0) + 1;
  const found = equal[equal.length - 1];
  if (found && found === sorted[sorted.length - 1]) return { revision: found, collisionCount };
  if (found) {
    const bumped = await api.patch(found.metadata!.name!, { revision: next }, "merge");
    return { revision: bumped, collisionCount };
  }
  for (;;) {
    const rev: KubeObject = {
      apiVersion: "apps/v1",
      kind: "ControllerRevision",
      metadata: {
        name: `${owner.metadata!.name}-${want.hash(collisionCount)}`,
        namespace,
        labels: { ...want.labels, "controller-revision-hash": want.hash(collisionCount) },
        ...(want.annotations ? { annotations: want.annotations } : {}),
        ownerReferences: [controllerRef(owner)],
      },
      data: want.data,
      revision: next,
    };
    try {
      return { revision: await api.create(rev), collisionCount };
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      const taken = await api.get(rev.metadata!.name!);
      if (stable(taken.data) === wanted && isControlledBy(taken, owner)) return { revision: taken, collisionCount };
      collisionCount++; // a different revision holds the name: hash again with the next count
    }
  }
}

/** Deletes the oldest revisions beyond `limit` that are not live (current, update, or worn by a pod). */
export async function pruneRevisions(
  client: Client,
  revisions: KubeObject[],
  live: (r: KubeObject) => boolean,
  limit: number,
): Promise<void> {
  const history = revisions.filter((r) => !live(r)).sort(byRevision);
  for (const r of history.slice(0, Math.max(0, history.length - limit)))
    await client
      .resource("controllerrevisions", r.metadata!.namespace)
      .delete(r.metadata!.name!)
      .catch(ignore(isNotFound));
}
