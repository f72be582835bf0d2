// pods/binding (how the scheduler assigns a pod: never by writing spec.nodeName itself) and
// pods/eviction (a delete that respects grace periods).
import type { KindDef, KubeObject } from "../../api/types.ts";
import { badRequest, conflict, HttpError } from "./errors.ts";
import { deleteObject } from "./deletion.ts";
import { timestamp } from "./meta.ts";
import type { Objects } from "./objects.ts";

const success = (code: number) => ({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code });

export async function bindPod(objects: Objects, pods: KindDef, namespace: string, name: string, binding: KubeObject, dryRun: boolean): Promise<unknown> {
  const target = binding.target as { kind?: string; name?: string } | undefined;
  if (!target?.name) throw new HttpError(422, "Invalid", `Binding "${name}" is invalid: target.name: Required value`, { causes: [{ reason: "FieldValueRequired", message: "Required value", field: "target.name" }] });
  if (target.kind && target.kind !== "Node") throw badRequest(`target.kind must be Node, got ${target.kind}`);
  if (binding.metadata?.name && binding.metadata.name !== name) throw badRequest(`the name of the binding (${binding.metadata.name}) does not match the pod (${name})`);
  for (let attempt = 0; ; attempt++) {
    const current = await objects.get(pods, namespace, name);
    const pod = current.obj; // freshly decoded for this request: ours to change
    const spec = (pod.spec ??= {}) as { nodeName?: string };
    if (pod.metadata?.deletionTimestamp) throw conflict("pods", "", name, "pod is being deleted, cannot be assigned to a host");
    if (spec.nodeName) throw conflict("pods", "", name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
    spec.nodeName = target.name;
    const status = (pod.status ??= {}) as { conditions?: { type: string; status: string; lastTransitionTime?: string; lastProbeTime?: null }[] };
    const conditions = (status.conditions ?? []).filter((c) => c.type !== "PodScheduled");
    conditions.push({ type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: timestamp() });
    status.conditions = conditions;
    try {
      await objects.writeRaw(pods, namespace, name, pod, current, dryRun);
      return success(201);
    } catch (err) {
      if (attempt < 5 && err instanceof HttpError && err.code === 409 && /modified/.test(err.message)) continue;
      throw err;
    }
  }
}

export async function evictPod(objects: Objects, pods: KindDef, namespace: string, name: string): Promise<unknown> {
  await deleteObject(objects, pods, namespace, name, {});
  return success(201);
}
