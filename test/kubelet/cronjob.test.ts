// CronJobs with real pods, on a clock the test steps on a minute at a time: jobs are made on
// schedule and finished ones are trimmed to the history limit; Forbid never runs two at once
// while Allow does; a suspended CronJob makes nothing; a bad schedule is a 422.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { BUSYBOX_IMAGE } from "../helpers/engine.ts";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/wait.ts";
import { FakeClock, STEPPED_GRACE_MS } from "../helpers/clock.ts";

const clock = new FakeClock();
let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster({ runtime: "engine", clock, config: { nodeMonitorGracePeriodMs: STEPPED_GRACE_MS } });
}, 60_000);
afterAll(() => cluster.close(), 60_000);

const cronJob = (name: string, command: string[], extra: Record<string, unknown> = {}) => ({
  apiVersion: "batch/v1",
  kind: "CronJob",
  metadata: { name },
  spec: {
    schedule: "* * * * *",
    ...extra,
    jobTemplate: {
      spec: {
        backoffLimit: 0,
        template: {
          spec: {
            restartPolicy: "Never",
            terminationGracePeriodSeconds: 1,
            containers: [{ name: "c", image: BUSYBOX_IMAGE, imagePullPolicy: "IfNotPresent", command }],
          },
        },
      },
    },
  },
});
const cronJobs = () => cluster.client.resource("cronjobs.batch", "default");
const jobsOf = async (cj: string) =>
  ((await cluster.client.resource("jobs.batch", "default").list()).items as any[]).filter(
    (j) => j.metadata.ownerReferences?.[0]?.name === cj && !j.metadata.deletionTimestamp,
  );
const complete = (j: any) =>
  (j.status?.conditions ?? []).some((c: any) => c.type === "Complete" && c.status === "True");

/** Moves the controllers' clock on a minute and waits for the CronJob's job of that minute. */
async function nextRun(cj: string): Promise<string> {
  const before = new Set((await jobsOf(cj)).map((j) => j.metadata.name));
  clock.step(60_000);
  const job = await waitFor(
    `a new job of ${cj}`,
    async () => (await jobsOf(cj)).find((j) => !before.has(j.metadata.name)),
    30_000,
  );
  return job.metadata.name;
}

test("jobs run on schedule and finished ones are kept to the history limit", async () => {
  await cronJobs().create(cronJob("tick", ["echo", "tick"], { successfulJobsHistoryLimit: 2 }));
  const runs: string[] = [];
  for (let i = 0; i < 4; i++) runs.push(await nextRun("tick"));
  for (const name of runs) expect(name).toMatch(/^tick-\d+$/);
  expect(new Set(runs).size).toBe(4);
  await waitFor(
    "all four finished, two kept",
    async () => {
      const jobs = await jobsOf("tick");
      return jobs.length === 2 && jobs.every(complete);
    },
    45_000,
  );
  // The CronJob's status follows its jobs on the controller's next sync, not at once.
  const cj: any = await waitFor(
    "the CronJob's status records a successful run",
    async () => {
      const c: any = await cronJobs().get("tick");
      return c.status?.lastSuccessfulTime ? c : undefined;
    },
    30_000,
  );
  expect(cj.status.lastScheduleTime).toBeDefined();
  await cronJobs().delete("tick");
});

test("Forbid runs one job at a time while Allow overlaps; suspended makes none", async () => {
  await cronJobs().create(cronJob("overlap", ["sleep", "30"]));
  await cronJobs().create(cronJob("single", ["sleep", "30"], { concurrencyPolicy: "Forbid" }));
  await cronJobs().create(cronJob("paused", ["true"], { suspend: true }));
  for (let i = 0; i < 3; i++) await nextRun("overlap");
  await waitFor(
    "Allow has three running at once",
    async () => ((await cronJobs().get("overlap")) as any).status?.active?.length >= 3,
    45_000,
  );
  expect(await jobsOf("single")).toHaveLength(1);
  expect(((await cronJobs().get("single")) as any).status.active).toHaveLength(1);
  expect(await jobsOf("paused")).toHaveLength(0);
  for (const n of ["overlap", "single", "paused"]) await cronJobs().delete(n);
});

test("a schedule cron cannot read is refused", async () => {
  const r = await cluster.api.json(
    "POST",
    "/apis/batch/v1/namespaces/default/cronjobs",
    cronJob("bad", ["true"], { schedule: "61 * * * *" }),
  );
  expect(r.status).toBe(422);
  expect(r.body.details.causes[0].field).toBe("spec.schedule");
});
