// The disruption controller: keeps each PodDisruptionBudget's status (expected, healthy and
// desired healthy pods, disruptionsAllowed) current, which the eviction subresource enforces.
// Expected pods are the live pods the selector matches; minAvailable/maxUnavailable percentages
// round up, as in Kubernetes. Pods in status.disruptedPods (evicted, deletion not yet seen) do
// not count as healthy.
import { podActive, podReady } from "../../../api/kinds/pod.ts";
import { scaledValue } from "../../../api/intstr.ts";
import { rfc3339 } from "../../../api/time.ts";
import { selectorMatches } from "../../../api/selectors.ts";
import type { PodDisruptionBudget } from "../../../api/kinds/stored.ts";
import type { KubeObject } from "../../../api/types.ts";
import { isNotFound, keyOf, splitKey, isConflict } from "../../../client/index.ts";
import { Controller } from "../base.ts";

export class DisruptionController extends Controller {
  readonly name = "disruption";

  setup(): void {
    this.ctx.informers.get("poddisruptionbudgets").on({ add: this.enqueue, update: (_, b) => this.enqueue(b) });
    const touched = (p: KubeObject) => {
      for (const b of this.ctx.informers.get<PodDisruptionBudget>("poddisruptionbudgets").list())
        if (
          b.metadata?.namespace === p.metadata?.namespace &&
          b.spec?.selector &&
          selectorMatches(b.spec.selector, p.metadata?.labels ?? {})
        )
          this.queue.add(keyOf(b));
    };
    this.ctx.informers.get("pods").on({ add: touched, update: (_, p) => touched(p), delete: touched });
  }

  async reconcile(key: string): Promise<void> {
    const pdb = this.ctx.informers.get<PodDisruptionBudget>("poddisruptionbudgets").get(key);
    if (!pdb) return;
    const { namespace } = splitKey(key);
    const sel = pdb.spec?.selector;
    const pods = sel
      ? this.ctx.informers
          .get("pods")
          .list()
          .filter(
            (p) =>
              p.metadata?.namespace === namespace && podActive(p) && selectorMatches(sel, p.metadata?.labels ?? {}),
          )
      : [];
    // Pods an eviction already counted, until their deletion shows up here (or two minutes pass).
    const disrupted: Record<string, string> = {};
    for (const [pod, at] of Object.entries(pdb.status?.disruptedPods ?? {}))
      if (pods.some((p) => p.metadata?.name === pod) && this.ctx.clock.now() - Date.parse(at) < 120_000)
        disrupted[pod] = at;
    const expected = pods.length;
    const healthy = pods.filter((p) => podReady(p) && !(p.metadata!.name! in disrupted)).length;
    const spec = pdb.spec ?? {};
    const desired =
      spec.maxUnavailable !== undefined
        ? Math.max(0, expected - scaledValue(spec.maxUnavailable, expected, true))
        : scaledValue(spec.minAvailable ?? 0, expected, true);
    const allowed = Math.max(0, healthy - desired);
    const old = pdb.status ?? {};
    const wasAllowed = old.conditions?.find((c) => c.type === "DisruptionAllowed");
    const condStatus = allowed > 0 ? "True" : "False";
    const status = {
      observedGeneration: pdb.metadata?.generation,
      disruptionsAllowed: allowed,
      currentHealthy: healthy,
      desiredHealthy: desired,
      expectedPods: expected,
      ...(Object.keys(disrupted).length ? { disruptedPods: disrupted } : {}),
      conditions: [
        {
          type: "DisruptionAllowed",
          status: condStatus,
          reason: allowed > 0 ? "SufficientPods" : "InsufficientPods",
          message: "",
          observedGeneration: pdb.metadata?.generation,
          lastTransitionTime:
            wasAllowed?.status === condStatus ? wasAllowed.lastTransitionTime : rfc3339(this.ctx.clock.now()),
        },
      ],
    };
    if (JSON.stringify(status) === JSON.stringify(pdb.status ?? {})) return;
    await this.ctx.client
      .resource("poddisruptionbudgets.policy", namespace)
      .updateStatus({ ...pdb, status } as KubeObject)
      .catch((e) => (isNotFound(e) || isConflict(e) ? this.queue.add(key) : Promise.reject(e)));
  }
}
