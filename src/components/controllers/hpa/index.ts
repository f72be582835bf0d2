// The HorizontalPodAutoscaler controller (autoscaling/v2, Resource metrics): every sync period it
// reads the target's scale, its pods' requests and their usage from metrics.k8s.io, and sets
// replicas to ceil(current × usage / target) within [minReplicas, maxReplicas]. Within 10 % of
// the target nothing changes; scaling down takes the highest recommendation of the
// stabilization window (5 minutes by default), as Kubernetes does.
import type { PodMetrics, ResourceUsage } from "../../../api/kinds/metrics.ts";
import { podActive, type Pod } from "../../../api/kinds/pod.ts";
import type {
  HorizontalPodAutoscaler,
  HorizontalPodAutoscalerStatus,
  MetricSpec,
  MetricStatus,
  MetricTarget,
  Scale,
} from "../../../api/kinds/stored.ts";
import type { Condition } from "../../../api/types.ts";
import { rfc3339 } from "../../../api/time.ts";
import { cpuMillis, memoryBytes } from "../../../api/quantity.ts";
import { matchesLabels, parseLabelSelector } from "../../../api/selectors.ts";
import { isNotFound, keyOf, splitKey, ignore } from "../../../client/index.ts";
import { recordEvent } from "../../events.ts";
import { Controller } from "../base.ts";

const RESOURCE: Record<string, string> = {
  Deployment: "deployments.apps",
  StatefulSet: "statefulsets.apps",
  ReplicaSet: "replicasets.apps",
  ReplicationController: "replicationcontrollers",
};
const amount = (name: string, q: string | undefined) =>
  q === undefined ? 0 : name === "cpu" ? cpuMillis(q) : memoryBytes(q);

export class HorizontalPodAutoscalerController extends Controller {
  readonly name = "horizontal-pod-autoscaler";
  private stopTimer = () => {};
  /** Recent recommendations per HPA, for the scale-down stabilization window. */
  private recommendations = new Map<string, { at: number; replicas: number }[]>();

  setup(): void {
    this.ctx.informers.get("horizontalpodautoscalers").on({
      add: this.enqueue,
      update: (_, h) => this.enqueue(h),
      delete: (h) => this.recommendations.delete(keyOf(h)),
    });
    this.ctx.informers.register("pods");
  }

  override run(workers = 1): void {
    super.run(workers);
    const every = this.ctx.config.hpaSyncPeriodMs;
    this.stopTimer = this.ctx.clock.every(every, () =>
      this.ctx.informers.get("horizontalpodautoscalers").list().forEach(this.enqueue),
    );
  }

  override async stop(): Promise<void> {
    this.stopTimer();
    await super.stop();
  }

  async reconcile(key: string): Promise<void> {
    const hpa = this.ctx.informers.get<HorizontalPodAutoscaler>("horizontalpodautoscalers").get(key);
    if (!hpa) return;
    const { namespace = "" } = splitKey(key);
    const ref = hpa.spec.scaleTargetRef;
    const resource = RESOURCE[ref.kind ?? ""];
    const conditions: Condition[] = [];
    const stamp = () => rfc3339(this.ctx.clock.now());
    const cond = (type: string, ok: boolean, reason: string, message: string) =>
      conditions.push({ type, status: ok ? "True" : "False", reason, message, lastTransitionTime: stamp() });
    const finish = (status: HorizontalPodAutoscalerStatus) =>
      this.writeStatus(hpa, namespace, { ...status, conditions: this.keepTransitions(hpa, conditions) });
    if (!resource) {
      cond("AbleToScale", false, "FailedGetScale", `the HPA controller cannot scale a ${ref.kind}`);
      return finish({ currentReplicas: 0, desiredReplicas: 0 });
    }
    const target = this.ctx.client.resource(resource, namespace);
    const scale = await target.getSubresource<Scale>(ref.name, "scale").catch(ignore(isNotFound));
    if (!scale) {
      cond("AbleToScale", false, "FailedGetScale", `${ref.kind}/${ref.name} not found`);
      return finish({ currentReplicas: 0, desiredReplicas: 0 });
    }
    const current = scale.spec.replicas ?? 0;
    cond("AbleToScale", true, "SucceededGetScale", "the HPA controller was able to get the target's current scale");
    if (current === 0) {
      cond(
        "ScalingActive",
        false,
        "ScalingDisabled",
        "scaling is disabled since the replica count of the target is zero",
      );
      return finish({ currentReplicas: 0, desiredReplicas: 0 });
    }
    const reqs = parseLabelSelector(scale.status.selector ?? "");
    const pods = this.ctx.informers
      .get<Pod>("pods")
      .list()
      .filter((p) => p.metadata?.namespace === namespace && podActive(p) && matchesLabels(reqs, p.metadata?.labels));
    const usage = await this.ctx.client
      .request("GET", `/apis/metrics.k8s.io/v1beta1/namespaces/${namespace}/pods`, {
        query: { labelSelector: scale.status.selector },
      })
      .then((r) => (r.ok ? (r.json() as Promise<{ items: PodMetrics[] }>) : { items: [] }));
    const metrics: MetricSpec[] = hpa.spec.metrics?.length
      ? hpa.spec.metrics
      : [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } }];

    let desired = 0;
    let why = "";
    const currentMetrics: MetricStatus[] = [];
    for (const m of metrics) {
      const name = m.resource?.name ?? "";
      const t: Partial<MetricTarget> = m.resource?.target ?? {};
      if (m.type !== "Resource" || !name) continue;
      let used = 0;
      let requested = 0;
      let counted = 0;
      const missing: number[] = []; // requests of pods with no metrics yet
      for (const p of pods) {
        const containers = p.spec.containers ?? [];
        if (t.type === "Utilization" && containers.some((c) => !c.resources?.requests?.[name])) {
          cond(
            "ScalingActive",
            false,
            "FailedGetResourceMetric",
            `failed to get ${name} utilization: missing request for ${name} in container of pod ${p.metadata?.name}`,
          );
          return finish({ currentReplicas: current, desiredReplicas: current });
        }
        const request = containers.reduce((n, c) => n + amount(name, c.resources?.requests?.[name]), 0);
        const pm = usage.items.find((x) => x.metadata?.name === p.metadata?.name);
        if (!pm) {
          missing.push(request);
          continue;
        }
        used += pm.containers.reduce((n, c) => n + amount(name, c.usage[name as keyof ResourceUsage]), 0);
        requested += request;
        counted++;
      }
      if (!counted) {
        cond(
          "ScalingActive",
          false,
          "FailedGetResourceMetric",
          `failed to get ${name} usage: no metrics returned from resource metrics API`,
        );
        return finish({ currentReplicas: current, desiredReplicas: current });
      }
      const targetValue = amount(name, t.averageValue ?? "0");
      const ratioOf = (u: number, r: number, n: number) =>
        t.type === "Utilization" ? ((u / r) * 100) / (t.averageUtilization ?? 80) : u / n / targetValue;
      let ratio = ratioOf(used, requested, counted);
      let podCount = counted;
      // Pods without metrics yet (just started) count against the move, as in Kubernetes: as idle
      // when scaling up, as at target when scaling down; a move they reverse is not made.
      if (missing.length && Math.abs(ratio - 1) > 0.1) {
        const up = ratio > 1;
        const extraUse = up
          ? 0
          : missing.reduce(
              (n, r) => n + (t.type === "Utilization" ? (r * (t.averageUtilization ?? 80)) / 100 : targetValue),
              0,
            );
        const again = ratioOf(
          used + extraUse,
          requested + missing.reduce((n, r) => n + r, 0),
          counted + missing.length,
        );
        ratio = up === again > 1 ? again : 1;
        podCount = counted + missing.length;
      }
      const want = Math.abs(ratio - 1) <= 0.1 ? current : Math.ceil(ratio * podCount);
      const averageValue = `${Math.round(used / counted)}${name === "cpu" ? "m" : ""}`;
      const currentValue =
        t.type === "Utilization"
          ? { averageUtilization: Math.round((used / requested) * 100), averageValue }
          : { averageValue };
      currentMetrics.push({ type: "Resource", resource: { name, current: currentValue } });
      if (want > desired) {
        desired = want;
        why =
          `${name} resource ${t.type === "Utilization" ? "utilization (percentage of request)" : ""} ${ratio > 1 ? "above" : "below"} target`.replace(
            /\s+/g,
            " ",
          );
      }
    }
    cond("ScalingActive", true, "ValidMetricFound", "the HPA was able to successfully calculate a replica count");
    const min = hpa.spec.minReplicas ?? 1;
    const clamped = Math.min(hpa.spec.maxReplicas, Math.max(min, desired));
    cond(
      "ScalingLimited",
      clamped !== desired,
      clamped !== desired ? (clamped > desired ? "TooFewReplicas" : "TooManyReplicas") : "DesiredWithinRange",
      clamped !== desired
        ? `the desired replica count is ${clamped > desired ? "less" : "more"} than the ${clamped > desired ? "minimum" : "maximum"} replica count`
        : "the desired count is within the acceptable range",
    );
    // Scale-down stabilization: the highest recommendation of the window wins.
    const history = (this.recommendations.get(key) ?? []).filter(
      (r) => this.ctx.clock.now() - r.at < this.ctx.config.hpaDownscaleStabilizationMs,
    );
    history.push({ at: this.ctx.clock.now(), replicas: clamped });
    this.recommendations.set(key, history);
    const next = clamped < current ? Math.min(current, Math.max(...history.map((r) => r.replicas))) : clamped;
    let lastScaleTime = hpa.status?.lastScaleTime;
    if (next !== current) {
      await target.patch(ref.name, { spec: { replicas: next } }, "merge", { subresource: "scale" });
      lastScaleTime = stamp();
      recordEvent(
        this.ctx.client,
        "horizontal-pod-autoscaler",
        hpa,
        "Normal",
        "SuccessfulRescale",
        `New size: ${next}; reason: ${why}`,
      );
    }
    return finish({
      currentReplicas: current,
      desiredReplicas: next,
      currentMetrics,
      ...(lastScaleTime ? { lastScaleTime } : {}),
    });
  }

  /** Conditions keep their transition time while their status stays. */
  private keepTransitions(hpa: HorizontalPodAutoscaler, conditions: Condition[]): Condition[] {
    const old = hpa.status?.conditions ?? [];
    return conditions.map((c) => {
      const o = old.find((x) => x.type === c.type);
      return o && o.status === c.status ? { ...c, lastTransitionTime: o.lastTransitionTime } : c;
    });
  }

  private async writeStatus(
    hpa: HorizontalPodAutoscaler,
    namespace: string,
    status: HorizontalPodAutoscalerStatus,
  ): Promise<void> {
    const full = { observedGeneration: hpa.metadata?.generation, ...status };
    if (JSON.stringify(full) === JSON.stringify(hpa.status ?? {})) return;
    await this.ctx.client
      .resource<HorizontalPodAutoscaler>("horizontalpodautoscalers.autoscaling", namespace)
      .updateStatus({ ...hpa, status: full })
      .catch(ignore(isNotFound));
  }
}
