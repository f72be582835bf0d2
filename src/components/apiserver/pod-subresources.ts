// pods/binding (how the scheduler assigns a pod: never by writing spec.nodeName itself) and
// pods/eviction (a delete that respects grace periods and PodDisruptionBudgets).
import { now } from "../../api/time.ts";
import { isConflict } from "../../client/index.ts";
import { podReady, type Pod } from "../../api/kinds/pod.ts";
import type { PodDisruptionBudget } from "../../api/kinds/stored.ts";
import { selectorMatches, type LabelSelector } from "../../api/selectors.ts";
import type { KindDef, KubeObject } from "../../api/types.ts";
import { badRequest, conflict, HttpError } from "./errors.ts";
import { deleteObject, type DeleteOptions } from "./deletion.ts";
import type { Objects } from "./objects.ts";
import { cloneJson } from "../../api/clone.ts";

const success = (code: number) => ({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code });

export async function bindPod(
  objects: Objects,
  pods: KindDef,
  namespace: string,
  name: string,
  binding: KubeObject,
  dryRun: boolean,
): Promise<unknown> {
  const target = binding.target as { kind?: string; name?: string } | undefined;
  if (!target?.name)
    throw new HttpError(422, "Invalid", `Binding "${name}" is invalid: target.name: Required value`, {
      causes: [{ reason: "FieldValueRequired", message: "Required value", field: "target.name" }],
    });
  if (target.kind && target.kind !== "Node") throw badRequest(`target.kind must be Node, got ${target.kind}`);
  if (binding.metadata?.name && binding.metadata.name !== name)
    throw badRequest(`the name of the binding (${binding.metadata.name}) does not match the pod (${name})`);
  for (let attempt = 0; ; attempt++) {
    const current = await objects.getToWrite(pods, namespace, name);
    const pod = current.obj; // freshly decoded for this request (without its resourceVersion): ours to change
    const spec = (pod.spec ??= {}) as { nodeName?: string };
    if (pod.metadata?.deletionTimestamp)
      throw conflict("pods", "", name, "pod is being deleted, cannot be assigned to a host");
    if (spec.nodeName) throw conflict("pods", "", name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
    spec.nodeName = target.name;
    const status = (pod.status ??= {}) as {
      conditions?: { type: string; status: string; lastTransitionTime?: string; lastProbeTime?: null }[];
    };
    const conditions = (status.conditions ?? []).filter((c) => c.type !== "PodScheduled");
    conditions.push({ type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: now() });
    status.conditions = conditions;
    try {
      if (!dryRun) await objects.writeRawQuiet(pods, namespace, name, pod, current);
      return success(201);
    } catch (err) {
      if (attempt < 5 && isConflict(err)) continue;
      throw err;
    }
  }
}

/**
 * A delete that respects PodDisruptionBudgets: a ready pod covered by a budget with no
 * disruptions left is refused with 429 (kubectl drain retries); an allowed eviction spends one
 * disruption from the budget's status before the pod is deleted, so two evictions cannot both
 * take the last one. Unready pods go when the budget is met (IfHealthyBudget) or always
 * (AlwaysAllow). Terminal pods always go.
 */
export async function evictPod(
  objects: Objects,
  kinds: { pods: KindDef; pdbs?: KindDef },
  namespace: string,
  name: string,
  opts: DeleteOptions = {},
): Promise<unknown> {
  const pod = (await objects.get(kinds.pods, namespace, name)).obj;
  const pre = opts.preconditions;
  if (pre?.uid && pre.uid !== pod.metadata?.uid)
    throw conflict(
      "pods",
      "",
      name,
      `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${pod.metadata?.uid}`,
    );
  const phase = (pod as Pod).status?.phase;
  if (kinds.pdbs && !pod.metadata?.deletionTimestamp && phase !== "Succeeded" && phase !== "Failed") {
    const budgets = (
      await objects.list(kinds.pdbs, namespace, {
        match: (b) =>
          !!(b as PodDisruptionBudget).spec?.selector &&
          selectorMatches((b as PodDisruptionBudget).spec!.selector, pod.metadata?.labels ?? {}),
      })
    ).items as PodDisruptionBudget[];
    if (budgets.length > 1)
      throw new HttpError(
        500,
        "InternalError",
        "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
      );
    if (budgets[0])
      await spendDisruption(objects, kinds.pdbs, namespace, budgets[0].metadata!.name!, pod, name, !!opts.dryRun);
  }
  await deleteObject(objects, kinds.pods, namespace, name, opts);
  return success(201);
}

/** Checks the budget and takes one disruption from it; a concurrent change is re-read and re-checked. */
async function spendDisruption(
  objects: Objects,
  pdbs: KindDef,
  namespace: string,
  pdbName: string,
  pod: KubeObject,
  podName: string,
  dryRun: boolean,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const current = await objects.get(pdbs, namespace, pdbName);
    const pdb = cloneJson(current.obj) as PodDisruptionBudget;
    const st = pdb.status ?? {};
    const healthyEnough = (st.currentHealthy ?? 0) >= (st.desiredHealthy ?? 0);
    if (!podReady(pod) && (pdb.spec?.unhealthyPodEvictionPolicy === "AlwaysAllow" || healthyEnough)) return;
    const refuse = (detail: string) =>
      tooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", "DisruptionBudget", detail);
    if (st.observedGeneration === undefined || st.observedGeneration < (pdb.metadata?.generation ?? 0))
      throw refuse(`The disruption budget ${pdbName} is still being processed by the server.`);
    if ((st.disruptionsAllowed ?? 0) <= 0)
      throw refuse(
        `The disruption budget ${pdbName} needs ${st.desiredHealthy ?? 0} healthy pods and has ${st.currentHealthy ?? 0} currently`,
      );
    // disruptedPods tells the controller this pod is on its way out, until it sees the deletion.
    const disrupted = {
      ...(st.disruptedPods ?? {}),
      [podName]: now(),
    };
    pdb.status = {
      ...st,
      disruptionsAllowed: (st.disruptionsAllowed ?? 0) - 1,
      disruptedPods: disrupted,
    };
    try {
      await objects.update(pdbs, namespace, pdbName, pdb, "status", { current, dryRun });
      return;
    } catch (err) {
      if (attempt < 5 && isConflict(err)) continue;
      throw err;
    }
  }
}

function tooManyRequests(message: string, reason: string, detail: string): HttpError {
  return new HttpError(429, "TooManyRequests", message, { causes: [{ reason, message: detail }] });
}
