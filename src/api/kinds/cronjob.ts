// CronJob (batch/v1): a Job made from jobTemplate at each time `schedule` names (cron syntax,
// @hourly and friends, optional timeZone). The schedule is checked on write with cron-parser.
import { CronExpressionParser } from "cron-parser";
import { CronJobSchema, shapeCauses } from "../schema.ts";
import type { KubeObject, ObjectMeta, ObjectReference } from "../types.ts";
import * as v from "../validation.ts";
import { Causes } from "../validation.ts";
import {
  age,
  ageColumn,
  col,
  defineKind,
  humanDuration,
  nameColumn,
  specChangedDefault,
  specOf,
  statusOf,
} from "./define.ts";
import { validatePodTemplate } from "./pod.ts";
import type { JobSpec } from "./workloads.ts";

export interface JobTemplateSpec {
  metadata?: ObjectMeta;
  /** Required: validation asks for its template's restartPolicy. */
  spec: JobSpec;
}
export interface CronJobSpec {
  schedule: string;
  timeZone?: string;
  startingDeadlineSeconds?: number;
  concurrencyPolicy?: "Allow" | "Forbid" | "Replace";
  suspend?: boolean;
  successfulJobsHistoryLimit?: number;
  failedJobsHistoryLimit?: number;
  jobTemplate: JobTemplateSpec;
}
export interface CronJobStatus {
  active?: ObjectReference[];
  lastScheduleTime?: string;
  lastSuccessfulTime?: string;
}
export interface CronJob extends KubeObject {
  spec: CronJobSpec;
  status?: CronJobStatus;
}

/** The run times of a schedule, from a start date on; Infinity when it never fires. */
export interface ScheduleTimes {
  next(): { getTime(): number };
}

const NEVER: ScheduleTimes = { next: () => ({ getTime: () => Infinity }) };

/** The schedule as cron-parser reads it, or the reason it cannot. */
export function parseSchedule(
  spec: Pick<CronJobSpec, "schedule" | "timeZone">,
  currentDate: Date = new Date(),
): ScheduleTimes {
  // Kubernetes accepts TZ=/CRON_TZ= prefixes only through timeZone; a bare 5-field expression or a macro.
  const tz = spec.timeZone ?? "UTC";
  try {
    return CronExpressionParser.parse(spec.schedule, { currentDate, tz });
  } catch (err) {
    // robfig/cron (upstream's parser) checks each field's range only: `59 23 31 2 *` (February
    // 31st) is valid and never fires. cron-parser refuses such day/month pairs; with any month
    // the same fields parse, so the schedule is valid and has no run time.
    const fields = spec.schedule.trim().split(/\s+/);
    if (fields.length !== 5) throw err;
    CronExpressionParser.parse([...fields.slice(0, 3), "*", fields[4]].join(" "), { currentDate, tz });
    CronExpressionParser.parse(`0 0 1 ${fields[3]} *`, { currentDate, tz });
    return NEVER;
  }
}

function knownZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const cronJobKind = defineKind({
  group: "batch",
  version: "v1",
  kind: "CronJob",
  resource: "cronjobs",
  namespaced: true,
  shortNames: ["cj"],
  categories: ["all"],
  subresources: { status: true },
  hasStatus: true,
  defaults(obj) {
    const spec = (obj.spec ??= {}) as Partial<CronJobSpec>;
    spec.concurrencyPolicy ??= "Allow";
    spec.suspend ??= false;
    spec.successfulJobsHistoryLimit ??= 3;
    spec.failedJobsHistoryLimit ??= 1;
  },
  validate(obj: KubeObject) {
    const shape = shapeCauses(CronJobSchema, obj);
    if (shape.length) return shape;
    const c = new Causes();
    v.objectMeta(c, obj);
    const spec = specOf<CronJobSpec>(obj);
    const zoneOk = spec.timeZone === undefined || knownZone(spec.timeZone);
    if (!zoneOk) c.invalid("spec.timeZone", spec.timeZone, `unknown time zone ${spec.timeZone}`);
    if (!spec.schedule) c.required("spec.schedule");
    else if (spec.schedule.trim().split(/\s+/).length !== 5 && !spec.schedule.startsWith("@"))
      c.invalid("spec.schedule", spec.schedule, "must be a standard 5-field cron expression");
    else if (zoneOk) {
      try {
        parseSchedule({ schedule: spec.schedule, timeZone: spec.timeZone });
      } catch (e) {
        c.invalid("spec.schedule", spec.schedule, (e as Error).message);
      }
    }
    v.oneOf(c, "spec.concurrencyPolicy", spec.concurrencyPolicy, ["Allow", "Forbid", "Replace"]);
    v.nonNegativeInt(c, "spec.startingDeadlineSeconds", spec.startingDeadlineSeconds);
    v.nonNegativeInt(c, "spec.successfulJobsHistoryLimit", spec.successfulJobsHistoryLimit);
    v.nonNegativeInt(c, "spec.failedJobsHistoryLimit", spec.failedJobsHistoryLimit);
    if (!spec.jobTemplate) c.required("spec.jobTemplate");
    else {
      validatePodTemplate(c, "spec.jobTemplate.spec.template", spec.jobTemplate.spec?.template);
      const rp = spec.jobTemplate.spec?.template?.spec?.restartPolicy;
      if (rp !== "Never" && rp !== "OnFailure")
        c.notSupported("spec.jobTemplate.spec.template.spec.restartPolicy", rp, ["OnFailure", "Never"]);
    }
    return c.list;
  },
  specChanged: specChangedDefault,
  table: {
    columns: [
      nameColumn,
      col("Schedule"),
      col("Timezone"),
      col("Suspend"),
      col("Active", 0, "integer"),
      col("Last Schedule"),
      ageColumn,
      col("Containers", 1),
      col("Images", 1),
      col("Selector", 1),
    ],
    row(o, now) {
      const spec = specOf<CronJobSpec>(o);
      const st = statusOf<CronJobStatus>(o);
      const cs = spec.jobTemplate?.spec?.template?.spec?.containers ?? [];
      return [
        o.metadata?.name,
        spec.schedule,
        spec.timeZone ?? "<none>",
        spec.suspend ? "True" : "False",
        st.active?.length ?? 0,
        st.lastScheduleTime ? humanDuration(now.getTime() - Date.parse(st.lastScheduleTime)) : "<none>",
        age(o, now),
        cs.map((x) => x.name).join(","),
        cs.map((x) => x.image).join(","),
        "<none>",
      ];
    },
  },
});
