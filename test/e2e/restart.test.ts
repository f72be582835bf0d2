// `kube up` again on the same data dir resumes the cluster: objects and services are there,
// running pods are adopted (same containers, no restarts), and `kube down` removes them.
import { afterAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { startKube, testServiceCidr, type RunningKube } from "../../bench/lib/kube-up.ts";
import { createClient, httpTransport } from "../../src/client/index.ts";
import { ensureEngine } from "../helpers/engine.ts";
import { waitFor } from "../helpers/wait.ts";
import { tempDir } from "../../bench/lib/stats.ts";

const dataDir = tempDir("restart");
const serviceCidr = testServiceCidr();
const args = ["--runtime", "engine", "--node-name", `restart-${process.pid}`, "--service-cidr", serviceCidr];
let kube: RunningKube | undefined;
afterAll(async () => {
  // Whatever happened, leave no cluster and no containers behind.
  if (kube)
    await Bun.spawn([process.execPath, join(import.meta.dir, "../../src/main.ts"), "down", "--data-dir", dataDir], {
      stdout: "ignore",
      stderr: "ignore",
    }).exited;
  rmSync(dataDir, { recursive: true, force: true });
});

const clientOf = (k: RunningKube) => createClient(httpTransport(k.url, k.token, { ca: k.ca }));
const containerOf = async (k: RunningKube) => {
  const pods = (await clientOf(k).resource("pods", "default").list({ labelSelector: "app=keep" })).items as any[];
  const s = pods[0]?.status?.containerStatuses?.[0];
  return s?.state?.running
    ? { id: s.containerID as string, restarts: s.restartCount as number, name: pods[0].metadata.name as string }
    : undefined;
};

test("a restarted kube up keeps objects and adopts running pods; kube down removes them", async () => {
  await ensureEngine();
  kube = await startKube(args, { dataDir, keepDataDir: true });
  const client = clientOf(kube);
  await client.resource("deployments.apps", "default").create({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "keep" },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: "keep" } },
      template: {
        metadata: { labels: { app: "keep" } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: "c",
              image: "localhost/busybox:latest",
              imagePullPolicy: "IfNotPresent",
              command: ["sleep", "3600"],
            },
          ],
        },
      },
    },
  });
  await client.resource("services", "default").create({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "keep" },
    spec: { selector: { app: "keep" }, ports: [{ port: 80 }] },
  });
  const before = await waitFor("running", () => containerOf(kube!), 30_000);
  await kube.stop();

  kube = await startKube(args, { dataDir, keepDataDir: true });
  const after = await waitFor("running after restart", () => containerOf(kube!), 30_000);
  expect(after).toEqual(before);
  const svc: any = await clientOf(kube).resource("services", "default").get("keep");
  expect(svc.spec.clusterIP.split(".").slice(0, 3)).toEqual(serviceCidr.split(".").slice(0, 3));
  // A second kube up on the same data dir is refused while this one runs.
  const second = Bun.spawn(
    [process.execPath, join(import.meta.dir, "../../src/main.ts"), "up", "--data-dir", dataDir, "--port", "0", ...args],
    { stdout: "pipe", stderr: "pipe" },
  );
  const [err, code] = [await new Response(second.stderr).text(), await second.exited];
  expect(code).toBe(1);
  expect(err.trim()).toBe(`error: data dir ${dataDir} is in use by another kube process (pid ${kube.pid})`);

  const down = Bun.spawn(
    [process.execPath, join(import.meta.dir, "../../src/main.ts"), "down", "--data-dir", dataDir],
    { stdout: "pipe", stderr: "pipe" },
  );
  const [out, downErr, downCode] = await Promise.all([
    new Response(down.stdout).text(),
    new Response(down.stderr).text(),
    down.exited,
  ]);
  expect(`${downCode} ${downErr}`).toBe("0 ");
  expect(out).toContain("removed 2 containers");
  await kube.exited;
  kube = undefined;
});
