// The Priority admission plugin: a new pod's spec.priority and spec.preemptionPolicy come from
// its PriorityClass (spec.priorityClassName), or from the class marked globalDefault, or are 0
// and PreemptLowerPriority. The two system classes exist from the start, as upstream's
// bootstrap creates them.
import type { Pod, PodSpec } from "../../api/kinds/pod.ts";
import type { PriorityClass } from "../../api/kinds/stored.ts";
import type { KindDef, KubeObject } from "../../api/types.ts";
import type { Store } from "../../store/types.ts";
import { ignore, isAlreadyExists } from "../../client/index.ts";
import { decodeShared } from "./codec.ts";
import { forbidden } from "./errors.ts";
import type { Objects } from "./objects.ts";
import { listPrefix, objectKey } from "./paths.ts";

export const SYSTEM_PRIORITY_CLASSES = [
  {
    name: "system-node-critical",
    value: 2000001000,
    description: "Used for system critical pods that must not be moved from their current node.",
  },
  {
    name: "system-cluster-critical",
    value: 2000000000,
    description:
      "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
  },
];

export async function ensurePriorityClasses(objects: Objects, kind: KindDef | undefined): Promise<void> {
  if (!kind) return;
  for (const pc of SYSTEM_PRIORITY_CLASSES) {
    if (await objects.tryGet(kind, undefined, pc.name)) continue;
    const obj: PriorityClass = {
      apiVersion: "scheduling.k8s.io/v1",
      kind: "PriorityClass",
      metadata: { name: pc.name },
      value: pc.value,
      description: pc.description,
    };
    await objects.create(kind, undefined, obj).catch(ignore(isAlreadyExists));
  }
}

export function priorityAdmission(
  store: Store,
  classes: KindDef,
): (obj: KubeObject, old: KubeObject | undefined) => Promise<void> {
  return async (obj, old) => {
    if (old) return;
    const pod = obj as Pod;
    // Validation has not run yet: the spec may lack its containers.
    const spec: Partial<PodSpec> = pod.spec ?? {};
    // Classes are only read here: each stored version is decoded once (decodeShared), not on every
    // create (the two system classes were two JSON parses per pod).
    let pc: Readonly<PriorityClass> | undefined;
    if (spec.priorityClassName) {
      const { kv } = await store.get(objectKey(classes, undefined, spec.priorityClassName));
      if (!kv)
        throw forbidden(
          `pods "${pod.metadata?.name ?? ""}" is forbidden: no PriorityClass with name ${spec.priorityClassName} was found`,
        );
      pc = decodeShared(kv) as PriorityClass;
    } else {
      const all = (await store.list(listPrefix(classes, undefined))).kvs.map((kv) => decodeShared(kv) as PriorityClass);
      // Several defaults (a race between writers): upstream takes the lowest value.
      pc = all.filter((c) => c.globalDefault).sort((a, b) => a.value - b.value)[0];
      if (pc) spec.priorityClassName = pc.metadata!.name;
    }
    const priority = pc?.value ?? 0;
    // 0 may be the pod kind's own default rather than the user's word.
    if (spec.priority && spec.priority !== priority)
      throw forbidden(
        `pods "${pod.metadata?.name ?? ""}" is forbidden: the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`,
      );
    spec.priority = priority;
    const policy = pc?.preemptionPolicy ?? "PreemptLowerPriority";
    // PreemptLowerPriority may be the pod kind's own default rather than the user's word: the class wins.
    if (spec.preemptionPolicy && spec.preemptionPolicy !== policy && spec.preemptionPolicy !== "PreemptLowerPriority")
      throw forbidden(
        `pods "${pod.metadata?.name ?? ""}" is forbidden: the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`,
      );
    spec.preemptionPolicy = policy;
    obj.spec = spec;
  };
}
