// The Job controller with pods whose end the test decides, as a kubelet would report it. Time is a
// FakeClock the test steps over the back-off and the deadline, with upstream's default durations.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { defaultConfig } from "../../config.ts";
import type { Job } from "../../../api/kinds/workloads.ts";
import { FakeClock } from "../../../../test/helpers/clock.ts";
import { waitFor } from "../../../../test/helpers/wait.ts";
import { startCluster, type TestCluster } from "../../../../test/helpers/cluster.ts";
import { podsOf, setPodPhase, template } from "../../../../test/helpers/controllers.ts";

let env: TestCluster;
const clock = new FakeClock();
beforeAll(async () => {
  env = await startCluster({ runtime: "none", clock });
});
afterAll(() => env.close());

const job = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: { name },
  spec: { template: template({ app: name }, "Never"), ...spec },
});
const jobs = () => env.client.resource("jobs", "default");

test("a job with completions=3 and parallelism=2 runs two at a time and completes after three successes", async () => {
  await jobs().create(job("j1", { completions: 3, parallelism: 2 }));
  const first = await waitFor("two pods", async () =>
    (await podsOf(env.client, "default", "job-name=j1")).length === 2
      ? podsOf(env.client, "default", "job-name=j1")
      : undefined,
  );
  expect(first.every((p: any) => p.metadata.ownerReferences[0].kind === "Job")).toBe(true);
  for (const p of first) await setPodPhase(env.client, p, "Succeeded");
  const third = await waitFor("a third pod", async () =>
    (await podsOf(env.client, "default", "job-name=j1")).find((p: any) => p.status.phase === "Pending"),
  );
  await setPodPhase(env.client, third, "Succeeded");
  const done: any = await waitFor("Complete", async () => {
    const j: any = await jobs().get("j1");
    return j.status?.conditions?.find((c: any) => c.type === "Complete" && c.status === "True") ? j : undefined;
  });
  expect(done.status).toMatchObject({ succeeded: 3, active: 0, failed: 0 });
  expect(done.status.completionTime).toBeDefined();
  expect((await podsOf(env.client, "default", "job-name=j1")).length).toBe(3);
});

test("failures beyond backoffLimit fail the job with BackoffLimitExceeded", async () => {
  await jobs().create(job("j2", { backoffLimit: 1 }));
  for (let i = 0; i < 2; i++) {
    const p = await waitFor(`pod ${i + 1}`, async () =>
      (await podsOf(env.client, "default", "job-name=j2")).find((x: any) => x.status.phase === "Pending"),
    );
    await setPodPhase(env.client, p, "Failed");
    // The next pod waits out the back-off (10 s after the first failure).
    clock.step(defaultConfig().jobBackoffBaseMs);
  }
  const failed: any = await waitFor("Failed", async () =>
    ((await jobs().get("j2")) as any).status?.conditions?.find((c: any) => c.type === "Failed"),
  );
  expect(failed.reason).toBe("BackoffLimitExceeded");
  expect(((await jobs().get("j2")) as any).status.failed).toBe(2);
});

test("activeDeadlineSeconds fails a job that runs too long", async () => {
  await jobs().create(job("j3", { activeDeadlineSeconds: 60 }));
  const started = await waitFor("started", async () => {
    const j = await env.client.resource<Job>("jobs", "default").get("j3");
    return j.status?.startTime ? j : undefined;
  });
  expect(started.status?.conditions).toBeUndefined();
  clock.step(61_000);
  const failed: any = await waitFor("DeadlineExceeded", async () =>
    ((await jobs().get("j3")) as any).status?.conditions?.find((c: any) => c.type === "Failed"),
  );
  expect(failed.reason).toBe("DeadlineExceeded");
});
