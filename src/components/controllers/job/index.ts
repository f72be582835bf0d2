// The Job controller: runs pods to `completions` successes, `parallelism` at a time; counts
// failures against backoffLimit (with back-off between retries), enforces activeDeadlineSeconds,
// and sets the Complete/Failed conditions `kubectl wait` looks for.
import { type Pod, podReady } from "../../../api/kinds/pod.ts";
import type { Job, WorkloadCondition } from "../../../api/kinds/workloads.ts";
import { rfc3339 } from "../../../api/time.ts";
import { isNotFound, keyOf, splitKey, ignore } from "../../../client/index.ts";
import { Controller } from "../base.ts";
import { BURST_REPLICAS, createPods, enqueueOwnersOfPods, Expectations, ownedPods, podFromTemplate } from "../pods.ts";
import { recordEvent } from "../../events.ts";
import { cloneJson } from "../../../api/clone.ts";

const phase = (p: Pod) => p.status?.phase;

export class JobController extends Controller {
  readonly name = "job";
  private expectations = new Expectations();

  setup(): void {
    this.ctx.informers
      .get<Job>("jobs")
      .on({ add: this.enqueue, update: (_, j) => this.enqueue(j), delete: (j) => this.expectations.forget(keyOf(j)) });
    enqueueOwnersOfPods(this.ctx.informers.get<Pod>("pods"), "Job", (k) => this.queue.add(k), this.expectations);
  }

  async reconcile(key: string): Promise<void> {
    const job = this.ctx.informers.get<Job>("jobs").get(key);
    if (!job) return;
    const spec = job.spec;
    const status = cloneJson(job.status ?? {});
    const conds = status.conditions ?? [];
    const finished = conds.find((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True");
    const pods = ownedPods(this.ctx.informers.get<Pod>("pods"), job);
    const active = pods.filter(
      (p) => phase(p) !== "Succeeded" && phase(p) !== "Failed" && !p.metadata?.deletionTimestamp,
    );
    const succeeded = pods.filter((p) => phase(p) === "Succeeded").length;
    let failed = pods.filter((p) => phase(p) === "Failed").length;
    if (spec.template.spec?.restartPolicy === "OnFailure")
      for (const p of active)
        failed += (p.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
    const { namespace } = splitKey(key);

    if (finished) {
      await this.deletePods(namespace!, active);
      return;
    }
    const now = () => rfc3339(this.ctx.clock.now());
    if (!status.startTime && !spec.suspend) status.startTime = now();
    const completions = spec.completions ?? 1;
    let condition: WorkloadCondition | undefined;
    if (succeeded >= completions) {
      condition = { type: "Complete", status: "True", lastProbeTime: now(), lastTransitionTime: now() };
      status.completionTime = now();
    } else if (failed > (spec.backoffLimit ?? 6)) {
      condition = {
        type: "Failed",
        status: "True",
        reason: "BackoffLimitExceeded",
        message: "Job has reached the specified backoff limit",
        lastProbeTime: now(),
        lastTransitionTime: now(),
      };
    } else if (
      spec.activeDeadlineSeconds &&
      status.startTime &&
      this.ctx.clock.now() - Date.parse(status.startTime) > spec.activeDeadlineSeconds * 1000
    ) {
      condition = {
        type: "Failed",
        status: "True",
        reason: "DeadlineExceeded",
        message: "Job was active longer than specified deadline",
        lastProbeTime: now(),
        lastTransitionTime: now(),
      };
    }

    if (condition) {
      await this.deletePods(namespace!, active);
      status.conditions = [...conds.filter((c) => c.type !== condition!.type), condition];
      recordEvent(
        this.ctx.client,
        "job-controller",
        job,
        condition.type === "Complete" ? "Normal" : "Warning",
        condition.type === "Complete" ? "Completed" : condition.reason!,
        condition.type === "Complete" ? "Job completed" : condition.message!,
      );
    } else if (!spec.suspend && this.expectations.satisfied(key)) {
      const wanted = Math.min(spec.parallelism ?? 1, completions - succeeded);
      if (active.length < wanted) {
        const delay = failed > 0 ? Math.min(360_000, this.ctx.config.jobBackoffBaseMs * 2 ** (failed - 1)) : 0;
        const lastFailure = Math.max(
          0,
          ...pods.filter((p) => phase(p) === "Failed").map((p) => Date.parse(p.status?.startTime ?? "") || 0),
        );
        const wait = lastFailure + delay - this.ctx.clock.now();
        if (failed > 0 && wait > 0) this.queue.addAfter(key, wait);
        else {
          const n = Math.min(wanted - active.length, BURST_REPLICAS);
          this.expectations.expectCreates(key, n);
          const labels = { "job-name": job.metadata!.name!, "batch.kubernetes.io/job-name": job.metadata!.name! };
          const fresh = Array.from({ length: n }, () => podFromTemplate(job, spec.template, { labels }));
          await createPods(this.ctx.client, namespace!, fresh, () => this.expectations.creationFailed(key));
        }
      } else if (active.length > wanted) await this.deletePods(namespace!, active.slice(wanted));
      if (spec.activeDeadlineSeconds && status.startTime)
        this.queue.addAfter(
          key,
          Math.max(0, Date.parse(status.startTime) + spec.activeDeadlineSeconds * 1000 - this.ctx.clock.now()) + 50,
        );
    }

    status.active = condition ? 0 : active.length;
    status.succeeded = succeeded;
    status.failed = failed;
    status.ready = active.filter(podReady).length;
    if (JSON.stringify(status) !== JSON.stringify(job.status ?? {}))
      await this.ctx.client
        .resource<Job>("jobs", namespace)
        .updateStatus({ ...job, status })
        .catch(ignore(isNotFound));
  }

  private async deletePods(namespace: string, pods: Pod[]): Promise<void> {
    for (const p of pods)
      await this.ctx.client
        .resource("pods", namespace)
        .delete(p.metadata!.name!, { gracePeriodSeconds: 0 })
        .catch(ignore(isNotFound));
  }
}
