// The CronJob controller: at each scheduled time it creates a Job from jobTemplate (named
// <cronjob>-<minutes since the epoch>, so a time is never run twice). Missed times run once,
// the latest, unless startingDeadlineSeconds has passed; concurrencyPolicy Forbid skips a time
// while a Job is still active, Replace deletes the active ones first. Finished Jobs beyond the
// history limits are deleted. Time is the controller's clock (ctx.clock): tests step a fake one
// on a minute at a time instead of waiting.
import { rfc3339 } from "../../../api/time.ts";
import { parseSchedule, type CronJob, type CronJobSpec, type CronJobStatus } from "../../../api/kinds/cronjob.ts";
import type { Job } from "../../../api/kinds/workloads.ts";
import type { KubeObject } from "../../../api/types.ts";
import { isAlreadyExists, isNotFound, splitKey, ignore } from "../../../client/index.ts";
import { recordEvent } from "../../events.ts";
import { Controller, controllerRef, isControlledBy } from "../base.ts";
import { cloneJson } from "../../../api/clone.ts";

const finished = (j: Job) =>
  (j.status?.conditions ?? []).find((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True")?.type;

export class CronJobController extends Controller {
  readonly name = "cronjob";
  setup(): void {
    this.ctx.informers.get("cronjobs").on({ add: this.enqueue, update: (_, c) => this.enqueue(c) });
    const owner = (j: KubeObject) => {
      const ref = j.metadata?.ownerReferences?.find((r) => r.controller && r.kind === "CronJob");
      if (ref) this.queue.add(`${j.metadata!.namespace}/${ref.name}`);
    };
    this.ctx.informers.get("jobs").on({ add: owner, update: (_, j) => owner(j), delete: owner });
  }

  async reconcile(key: string): Promise<void> {
    const cj = this.ctx.informers.get<CronJob>("cronjobs").get(key);
    if (!cj || cj.metadata?.deletionTimestamp) return;
    const { namespace = "", name } = splitKey(key);
    const spec = cj.spec;
    const status: CronJobStatus = cloneJson(cj.status ?? {});
    const jobsApi = this.ctx.client.resource<Job>("jobs.batch", namespace);
    const jobs = this.ctx.informers
      .get<Job>("jobs")
      .list()
      .filter((j) => j.metadata?.namespace === namespace && isControlledBy(j, cj));
    let active = jobs.filter((j) => !finished(j) && !j.metadata?.deletionTimestamp);
    const removeJob = (j: Job) =>
      jobsApi.delete(j.metadata!.name!, { propagationPolicy: "Background" }).catch(ignore(isNotFound));

    // History limits, oldest first.
    for (const [type, limit] of [
      ["Complete", spec.successfulJobsHistoryLimit ?? 3],
      ["Failed", spec.failedJobsHistoryLimit ?? 1],
    ] as const) {
      const done = jobs
        .filter((j) => finished(j) === type && !j.metadata?.deletionTimestamp)
        .sort((a, b) => Date.parse(a.metadata!.creationTimestamp!) - Date.parse(b.metadata!.creationTimestamp!));
      for (const j of done.slice(0, Math.max(0, done.length - limit))) await removeJob(j);
    }
    const successes = jobs
      .filter((j) => finished(j) === "Complete" && j.status?.completionTime)
      .map((j) => Date.parse(j.status!.completionTime!));
    if (successes.length) status.lastSuccessfulTime = rfc3339(Math.max(...successes));

    const now = this.ctx.clock.now();
    if (!spec.suspend) {
      // The latest scheduled time after the last one run (or the CronJob's creation), not in the future.
      const since = Date.parse(status.lastScheduleTime ?? cj.metadata!.creationTimestamp!);
      const times = parseSchedule(spec, new Date(since));
      let due: number | undefined;
      for (let t = times.next().getTime(), n = 0; t <= now && n < 100_000; t = times.next().getTime(), n++) due = t;
      const late =
        due !== undefined &&
        spec.startingDeadlineSeconds !== undefined &&
        now - due > spec.startingDeadlineSeconds * 1000;
      if (due !== undefined && !late) {
        if (spec.concurrencyPolicy === "Forbid" && active.length) {
          // Skipped while a Job runs; tried again until the deadline passes.
        } else {
          if (spec.concurrencyPolicy === "Replace") {
            for (const j of active) await removeJob(j);
            active = [];
          }
          const job = await this.createJob(cj, spec, namespace, name, due);
          if (job) active.push(job);
          status.lastScheduleTime = rfc3339(due);
        }
      } else if (late) status.lastScheduleTime = rfc3339(due!);
      // Wake up for the next time.
      const next = parseSchedule(spec, new Date(now)).next().getTime();
      if (Number.isFinite(next)) this.queue.addAfter(key, Math.max(10, next - now));
    }

    const refs = active.map((j) => ({
      apiVersion: "batch/v1",
      kind: "Job",
      name: j.metadata!.name!,
      namespace,
      uid: j.metadata!.uid!,
    }));
    if (refs.length) status.active = refs;
    else delete status.active;
    if (JSON.stringify(status) !== JSON.stringify(cj.status ?? {}))
      await this.ctx.client
        .resource<CronJob>("cronjobs.batch", namespace)
        .updateStatus({ ...cj, status })
        .catch(ignore(isNotFound));
  }

  private async createJob(
    cj: CronJob,
    spec: CronJobSpec,
    namespace: string,
    name: string,
    at: number,
  ): Promise<Job | undefined> {
    const jobName = `${name}-${Math.floor(at / 60_000)}`;
    const body: Job = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: {
        name: jobName,
        namespace,
        labels: { ...spec.jobTemplate.metadata?.labels },
        annotations: {
          ...spec.jobTemplate.metadata?.annotations,
          "batch.kubernetes.io/cronjob-scheduled-timestamp": rfc3339(at),
        },
        ownerReferences: [controllerRef(cj)],
      },
      spec: cloneJson(spec.jobTemplate.spec),
    };
    // Already there: this time was run before (the name is the time).
    const job = await this.ctx.client
      .resource<Job>("jobs.batch", namespace)
      .create(body)
      .catch(ignore(isAlreadyExists));
    if (job)
      recordEvent(this.ctx.client, "cronjob-controller", cj, "Normal", "SuccessfulCreate", `Created job ${jobName}`);
    return job;
  }
}
