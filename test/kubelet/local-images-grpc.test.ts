// The kubelet on a laptop without a registry, with real Podman: an image built through the engine
// API runs from a Deployment that names it by its short name with the default pull policy
// (Always); a missing image still fails. And gRPC probes against a real gRPC health server
// (grpc-js) running in a container: SERVING makes a pod Ready and gives its Service an
// endpoint; NOT_SERVING or an unknown service keep a container unready, or restart it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { EngineHttp } from "../../src/components/kubelet/runtime/engine-http.ts";
import { buildTar } from "../../src/components/kubelet/runtime/tar.ts";
import { startCluster, type TestCluster } from "../helpers/cluster.ts";
import { waitFor } from "../helpers/wait.ts";
import { BUSYBOX_IMAGE, ensureEngine } from "../helpers/engine.ts";

const APP = `i12app-${process.pid}`; // the short name a user types after `podman build -t APP .`
const MISSING = `localhost/i12-missing-${process.pid}:v1`; // a pull of it only ever asks 127.0.0.1
let cluster: TestCluster;
let engine: EngineHttp;
let work: string;

beforeAll(async () => {
  engine = new EngineHttp(await ensureEngine());
  cluster = await startCluster({ runtime: "engine" });
  work = mkdtempSync(join(tmpdir(), "kube-i12-"));
}, 60_000);

afterAll(async () => {
  await cluster?.close();
  await engine
    ?.request("DELETE", `/images/localhost/${APP}:latest`, { query: { force: true } })
    .then((r) => r.arrayBuffer());
  if (work) rmSync(work, { recursive: true, force: true });
});

const pods = () => cluster.client.resource("pods", "default");
const events = async (name: string) =>
  ((await cluster.client.resource("events", "default").list()).items as any[]).filter(
    (e) => e.involvedObject.name === name,
  );

describe("images without a registry", () => {
  test("a locally built image runs by its short name with the default pull policy; the failed pull is a Warning", async () => {
    const dockerfile = `FROM ${BUSYBOX_IMAGE}\nCMD ["sleep", "3600"]\n`;
    const ctx = buildTar([{ type: "file", path: "Dockerfile", data: new TextEncoder().encode(dockerfile) }]);
    // Tagged as `podman build -t APP` tags it (localhost/APP:latest); built through the API.
    const built = await engine.request("POST", "/build", {
      query: { t: `localhost/${APP}:latest` },
      body: ctx,
      contentType: "application/x-tar",
    });
    expect(await built.text()).toContain("Successfully tagged");

    await cluster.client.resource("deployments", "default").create({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "local" },
      spec: {
        selector: { matchLabels: { app: "local" } },
        template: {
          metadata: { labels: { app: "local" } },
          spec: { terminationGracePeriodSeconds: 1, containers: [{ name: "app", image: APP }] },
        },
      },
    });
    const pod: any = await waitFor(
      "the Deployment's pod running",
      async () =>
        ((await pods().list({ labelSelector: "app=local" })).items as any[]).find(
          (p) => p.status?.containerStatuses?.[0]?.state?.running,
        ),
      120_000,
    );
    expect(pod.spec.containers[0].imagePullPolicy).toBe("Always");
    const warning = await waitFor("the local-image Warning", async () =>
      (await events(pod.metadata.name)).find((e) => e.reason === "ImageNotPulled"),
    );
    expect(warning.type).toBe("Warning");
    expect(warning.message).toStartWith(`Failed to pull image "${APP}": `);
    expect(warning.message).toEndWith("; no registry reachable, using the image already present on machine");
  }, 180_000);

  test("an image that is nowhere fails as ErrImagePull", async () => {
    await pods().create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "missing" },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: "app", image: MISSING, imagePullPolicy: "Always" }],
      },
    });
    const waiting: any = await waitFor(
      "ErrImagePull",
      async () => {
        const w = ((await pods().get("missing")) as any).status?.containerStatuses?.[0]?.state?.waiting;
        return w?.reason === "ErrImagePull" && w;
      },
      120_000,
    );
    expect(waiting.message).toStartWith(`failed to pull image "${MISSING}": `);
    expect(
      (await events("missing")).some(
        (e) => e.reason === "Failed" && e.message.startsWith(`Failed to pull image "${MISSING}"`),
      ),
    ).toBe(true);
    expect((await events("missing")).some((e) => e.reason === "ImageNotPulled")).toBe(false);
  }, 180_000);
});

describe("gRPC probes", () => {
  /**
   * The health server run by the test's own Bun inside busybox: Bun, its libraries and this
   * checkout (the script and node_modules, at the same path) are mounted read-only.
   */
  function serverContainer(): { container: any; volumes: any[] } {
    const root = resolve(import.meta.dir, "../..");
    const mounts: [string, string, string][] = [
      ["bun", dirname(process.execPath), "/opt/bun"],
      ["repo", root, root],
      ["libs", "/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu"],
      ["lib64", "/lib64", "/lib64"],
    ];
    return {
      volumes: mounts.map(([name, path]) => ({ name, hostPath: { path } })),
      container: {
        name: "server",
        image: BUSYBOX_IMAGE,
        imagePullPolicy: "IfNotPresent",
        command: [`/opt/bun/${basename(process.execPath)}`, join(root, "test/images/grpc-health-server.ts")],
        env: [{ name: "PORT", value: "9555" }],
        volumeMounts: mounts.map(([name, , mountPath]) => ({ name, mountPath, readOnly: true })),
      },
    };
  }
  const sleeper = (name: string, probes: Record<string, unknown>) => ({
    name,
    image: BUSYBOX_IMAGE,
    imagePullPolicy: "IfNotPresent",
    command: ["sleep", "3600"],
    ...probes,
  });
  const grpc = (service?: string, more: Record<string, unknown> = {}) => ({
    grpc: { port: 9555, ...(service !== undefined ? { service } : {}) },
    periodSeconds: 1,
    ...more,
  });

  test("a pod whose health service answers SERVING becomes Ready and its Service gets the endpoint", async () => {
    const { container, volumes } = serverContainer();
    await cluster.client.resource("services", "default").create({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "grpc" },
      spec: { selector: { app: "grpc" }, ports: [{ port: 9555, targetPort: 9555 }] },
    });
    await pods().create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "grpc-ready", labels: { app: "grpc" } },
      spec: {
        terminationGracePeriodSeconds: 1,
        volumes,
        containers: [
          {
            ...container,
            startupProbe: grpc(undefined, { failureThreshold: 30 }),
            readinessProbe: grpc(""),
            livenessProbe: grpc(),
          },
        ],
      },
    });
    const pod: any = await waitFor(
      "pod Ready",
      async () => {
        const p: any = await pods().get("grpc-ready");
        return p.status?.conditions?.find((c: any) => c.type === "Ready")?.status === "True" && p;
      },
      120_000,
    );
    expect(pod.status.containerStatuses[0]).toMatchObject({ ready: true, started: true, restartCount: 0 });
    const ep: any = await waitFor("endpoint", async () => {
      const e: any = await cluster.client.resource("endpoints", "default").get("grpc");
      return e.subsets?.[0]?.addresses?.length && e;
    });
    expect(ep.subsets[0].addresses[0].ip).toBe(pod.status.podIP);
  }, 180_000);

  test("NOT_SERVING and an unknown service keep containers unready; a failing liveness probe restarts", async () => {
    const { container, volumes } = serverContainer();
    await pods().create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "grpc-mixed" },
      spec: {
        terminationGracePeriodSeconds: 1,
        volumes,
        containers: [
          { ...container, readinessProbe: grpc() },
          sleeper("down", { readinessProbe: grpc("down") }),
          sleeper("unknown", { readinessProbe: grpc("nope") }),
          sleeper("dying", { livenessProbe: grpc("down", { failureThreshold: 1 }) }),
        ],
      },
    });
    const unhealthy = async () =>
      (await events("grpc-mixed")).filter((e) => e.reason === "Unhealthy").map((e) => e.message);
    const livenessDown = 'Liveness probe failed: service unhealthy (responded with "NOT_SERVING")';
    // The liveness probe may first fail to connect, before the server container listens (a failure
    // too, and a restart); the NOT_SERVING answer comes once the server is up.
    const pod: any = await waitFor(
      "server ready, the liveness victim restarted for NOT_SERVING",
      async () => {
        const p: any = await pods().get("grpc-mixed");
        const st = Object.fromEntries((p.status?.containerStatuses ?? []).map((c: any) => [c.name, c]));
        return st.server?.ready && st.dying?.restartCount > 0 && (await unhealthy()).includes(livenessDown) && p;
      },
      120_000,
    );
    const st = Object.fromEntries(pod.status.containerStatuses.map((c: any) => [c.name, c]));
    expect([st.down.ready, st.unknown.ready]).toEqual([false, false]);
    expect(pod.status.conditions.find((c: any) => c.type === "Ready").status).toBe("False");
    const messages = await unhealthy();
    expect(messages).toContain('Readiness probe failed: service unhealthy (responded with "NOT_SERVING")');
    expect(messages).toContain(
      "Readiness probe failed: error: health rpc probe failed: rpc error: code = NotFound desc = Health " +
        "status unknown for service nope",
    );
    expect(messages).toContain(livenessDown);
  }, 180_000);
});
