// The kubelet with real containers through Podman: pods run, share localhost, get env and
// volumes, restart by policy with back-off, obey probes, end with exit codes, are deleted
// gracefully, and survive a kubelet restart without being restarted.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "../../src/client/index.ts";
import { TEST_TOKEN, type TestApi } from "../helpers/api.ts";
import { BUSYBOX_IMAGE } from "../helpers/engine.ts";
import { startTestKubelet, type TestKubelet } from "../helpers/kubelet.ts";
import { waitFor } from "../helpers/wait.ts";
import { defaultConfig } from "../../src/components/config.ts";
import { FakeClock } from "../helpers/clock.ts";
import type { Pod } from "../../src/api/kinds/pod.ts";

const NODE = `kubelet-test-${process.pid}`;
let node: TestKubelet;
let api: TestApi;
let client: Client;
let dataDir: string;

beforeAll(async () => {
  node = await startTestKubelet(NODE);
  ({ api, client, dataDir } = node);
}, 60_000);

afterAll(() => node.close());

const pods = () => client.resource("pods", "default");
const get = (name: string) => pods().get(name) as Promise<any>;
function podSpec(name: string, containers: any[], extra: Record<string, unknown> = {}): any {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: {
      nodeName: NODE,
      terminationGracePeriodSeconds: 2,
      containers: containers.map((c) => ({ image: BUSYBOX_IMAGE, imagePullPolicy: "IfNotPresent", ...c })),
      ...extra,
    },
  };
}
const status = (p: any, c = 0) => p.status?.containerStatuses?.[c];

describe("running pods", () => {
  test("a pod reaches Running and Ready with a pod IP; its containers share localhost", async () => {
    await pods().create(
      podSpec(
        "web",
        [
          { name: "server", command: ["httpd", "-f", "-p", "8080", "-h", "/etc"] },
          {
            name: "client",
            command: [
              "sh",
              "-c",
              "for i in $(seq 50); do wget -qO- http://127.0.0.1:8080/hostname && exit 0; sleep 0.2; done; exit 1",
            ],
          },
        ],
        { restartPolicy: "OnFailure" },
      ),
    );
    const p = await waitFor(
      "client finished and server running",
      async () => {
        const p = await get("web");
        return status(p, 0)?.state?.running && status(p, 1)?.state?.terminated ? p : undefined;
      },
      30_000,
    );
    expect(p.status.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(status(p, 1).state.terminated.exitCode).toBe(0);
    const logs = await (await api.request("GET", "/api/v1/namespaces/default/pods/web/log?container=client")).text();
    expect(logs.trim()).toBe("web");
  });

  test("a burst of pods starts together: each Ready, with its own IP in its /etc/hosts and status", async () => {
    // The kubelet creates each pod's containers while the engine is still starting its sandbox,
    // and writes the hosts file once the sandbox's IP is known, before the container starts.
    const names = Array.from({ length: 6 }, (_, i) => `burst-${i}`);
    await Promise.all(
      names.map((n) => pods().create(podSpec(n, [{ name: "c", command: ["sh", "-c", "cat /etc/hosts; sleep 3600"] }]))),
    );
    const ready = await waitFor(
      "every burst pod Ready",
      async () => {
        const all = await Promise.all(names.map(get));
        const ok = all.every((p) =>
          p.status?.conditions?.some(
            (c: { type: string; status: string }) => c.type === "Ready" && c.status === "True",
          ),
        );
        return ok ? all : undefined;
      },
      50_000,
    );
    const ips = ready.map((p) => p.status.podIP);
    expect(new Set(ips).size).toBe(names.length);
    for (const [i, p] of ready.entries()) {
      expect(p.status.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      const hosts = await waitFor(
        "the hosts file in the log",
        async () => {
          const text = await (await api.request("GET", `/api/v1/namespaces/default/pods/${names[i]}/log`)).text();
          return text.includes("localhost") ? text : undefined;
        },
        20_000,
      );
      expect(hosts).toContain(`${p.status.podIP}\t${names[i]}\n`);
    }
    await Promise.all(names.map((n) => pods().delete(n, { gracePeriodSeconds: 0 })));
  });

  test("containers that exit by themselves during a burst are seen: each pod ends Failed with its exit code", async () => {
    // The kubelet must see a container's exit whatever it is doing: here its exit lands while a
    // burst of other pods is being started (the kubelet and the engine busy), and one of the
    // exiting pods is itself created in the middle of that burst. Without a relist that drives
    // the pods' syncs, such an exit (no API change follows it) is never reflected in the status.
    const early = ["exit-early-0", "exit-early-1"];
    await Promise.all(
      early.map((n) =>
        pods().create(
          podSpec(n, [{ name: "c", command: ["sh", "-c", "sleep 2; exit 4"] }], { restartPolicy: "Never" }),
        ),
      ),
    );
    await waitFor(
      "early exiters running",
      async () => {
        const all = await Promise.all(early.map(get));
        return all.every((p) => status(p)?.state?.running);
      },
      30_000,
    );
    const names = Array.from({ length: 8 }, (_, i) => `busy-${i}`);
    await Promise.all([
      ...names.map((n) => pods().create(podSpec(n, [{ name: "c", command: ["sleep", "3600"] }]))),
      pods().create(
        podSpec("exit-mid", [{ name: "c", command: ["sh", "-c", "sleep 1; exit 5"] }], { restartPolicy: "Never" }),
      ),
    ]);
    for (const [n, code] of [...early.map((n) => [n, 4] as const), ["exit-mid", 5] as const]) {
      const p = await waitFor(
        `${n} Failed`,
        async () => {
          const p = await get(n);
          return p.status?.phase === "Failed" ? p : undefined;
        },
        30_000,
      );
      expect(status(p).state.terminated).toMatchObject({ exitCode: code, reason: "Error" });
    }
    await Promise.all([...names, ...early, "exit-mid"].map((n) => pods().delete(n, { gracePeriodSeconds: 0 })));
  });

  test("env values, ConfigMap keys, the downward API and a ConfigMap volume reach the container", async () => {
    await client.resource("configmaps", "default").create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cfg" },
      data: { mode: "fast", "app.conf": "port=1" },
    });
    await pods().create(
      podSpec(
        "envy",
        [
          {
            name: "c",
            command: ["sh", "-c", "echo $GREETING $MODE $MY_NAME; cat /config/app.conf; echo; sleep 30"],
            env: [
              { name: "GREETING", value: "hi" },
              { name: "MODE", valueFrom: { configMapKeyRef: { name: "cfg", key: "mode" } } },
              { name: "MY_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            ],
            volumeMounts: [{ name: "config", mountPath: "/config" }],
          },
        ],
        { volumes: [{ name: "config", configMap: { name: "cfg" } }] },
      ),
    );
    const text = await waitFor(
      "logs",
      async () => {
        const t = await (await api.request("GET", "/api/v1/namespaces/default/pods/envy/log")).text();
        return t.includes("port=1") ? t : undefined;
      },
      30_000,
    );
    expect(text.split("\n").slice(0, 2)).toEqual(["hi fast envy", "port=1"]);
  });

  test("projected and downwardAPI volumes: ConfigMap, Secret, pod fields and a bound token in one directory", async () => {
    await client.resource("configmaps", "default").create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "proj-cm" },
      data: { "a.txt": "from-configmap" },
    });
    await client.resource("secrets", "default").create({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "proj-secret" },
      data: { pw: Buffer.from("from-secret").toString("base64") },
    });
    const spec = podSpec(
      "projected",
      [
        {
          name: "c",
          command: [
            "sh",
            "-c",
            "cat /p/a.txt; echo; cat /p/creds/pw; echo; cat /p/name; echo; cat /d/labels; echo; wc -c < " +
              "/p/token; ls /var/run/secrets/kubernetes.io/serviceaccount; sleep 30",
          ],
          volumeMounts: [
            { name: "p", mountPath: "/p" },
            { name: "d", mountPath: "/d" },
          ],
        },
      ],
      {
        volumes: [
          {
            name: "p",
            projected: {
              sources: [
                { configMap: { name: "proj-cm" } },
                { secret: { name: "proj-secret", items: [{ key: "pw", path: "creds/pw" }] } },
                { downwardAPI: { items: [{ path: "name", fieldRef: { fieldPath: "metadata.name" } }] } },
                { serviceAccountToken: { path: "token", expirationSeconds: 3600 } },
              ],
            },
          },
          { name: "d", downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] } },
        ],
      },
    );
    spec.metadata.labels = { tier: "web", app: "p" };
    await pods().create(spec);
    const text = await waitFor(
      "logs",
      async () => {
        const t = await (await api.request("GET", "/api/v1/namespaces/default/pods/projected/log")).text();
        return t.includes("namespace") ? t : undefined;
      },
      30_000,
    );
    const lines = text
      .trim()
      .split("\n")
      .map((l) => l.trim());
    expect(lines.slice(0, 5)).toEqual(["from-configmap", "from-secret", "projected", 'app="p"', 'tier="web"']);
    expect(Number(lines[5])).toBeGreaterThan(100);
    // The projected token is a live one for the pod's service account.
    const uid = (await get("projected")).metadata.uid;
    const token = readFileSync(join(dataDir, "pods", uid, "volumes", "p", "token"), "utf8");
    const who = await api.json(
      "POST",
      "/apis/authentication.k8s.io/v1/selfsubjectreviews",
      { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
      { authorization: `Bearer ${token}` },
    );
    expect(who.body.status.userInfo).toMatchObject({
      username: "system:serviceaccount:default:default",
      extra: { "authentication.kubernetes.io/pod-name": ["projected"] },
    });
    // Bound to nothing, the account may not read the pod (RBAC).
    expect(
      (
        await api.request("GET", "/api/v1/namespaces/default/pods/projected", undefined, {
          authorization: `Bearer ${token}`,
        })
      ).status,
    ).toBe(403);
    expect(lines.slice(-2)).toEqual(["namespace", "token"]);
  });

  test("restartPolicy Never ends Succeeded or Failed with the exit code", async () => {
    await pods().create(podSpec("ok", [{ name: "c", command: ["true"] }], { restartPolicy: "Never" }));
    await pods().create(podSpec("bad", [{ name: "c", command: ["sh", "-c", "exit 3"] }], { restartPolicy: "Never" }));
    await waitFor("ok Succeeded", async () => (await get("ok")).status?.phase === "Succeeded", 30_000);
    const bad = await waitFor(
      "bad Failed",
      async () => ((await get("bad")).status?.phase === "Failed" ? get("bad") : undefined),
      30_000,
    );
    expect(status(bad).state.terminated).toMatchObject({ exitCode: 3, reason: "Error" });
    expect(bad.status.conditions.find((c: any) => c.type === "Ready").status).toBe("False");
  });

  test("a crashing container is restarted with back-off and shows CrashLoopBackOff", async () => {
    await pods().create(podSpec("crash", [{ name: "c", command: ["sh", "-c", "exit 1"] }]));
    const p = await waitFor(
      "CrashLoopBackOff",
      async () => {
        const p = await get("crash");
        return status(p)?.state?.waiting?.reason === "CrashLoopBackOff" ? p : undefined;
      },
      30_000,
    );
    expect(status(p).restartCount).toBeGreaterThanOrEqual(1);
    expect(status(p).lastState.terminated.exitCode).toBe(1);
  });

  test("a failing liveness probe restarts the container; readiness gates Ready", async () => {
    await pods().create(
      podSpec("probed", [
        {
          name: "c",
          // An exec through the engine can take over a second on a busy machine: the probes get a
          // generous timeout and the file lives long enough for one of them to see it.
          command: ["sh", "-c", "touch /tmp/alive; (sleep 8; rm /tmp/alive) & sleep 3600"],
          livenessProbe: {
            exec: { command: ["test", "-f", "/tmp/alive"] },
            periodSeconds: 1,
            failureThreshold: 1,
            timeoutSeconds: 10,
          },
          readinessProbe: { exec: { command: ["test", "-f", "/tmp/alive"] }, periodSeconds: 1, timeoutSeconds: 10 },
        },
      ]),
    );
    await waitFor(
      "Ready",
      async () => (await get("probed")).status?.conditions?.find((c: any) => c.type === "Ready")?.status === "True",
      30_000,
    );
    const p = await waitFor(
      "restarted by liveness",
      async () => {
        const p = await get("probed");
        return status(p)?.restartCount >= 1 ? p : undefined;
      },
      30_000,
    );
    expect(status(p).restartCount).toBeGreaterThanOrEqual(1);
  });

  test("a missing image with IfNotPresent is ErrImagePull, not a crash", async () => {
    await pods().create(
      podSpec("noimage", [{ name: "c", image: "localhost/does-not-exist:1", imagePullPolicy: "IfNotPresent" }]),
    );
    const reason = await waitFor(
      "pull error",
      async () => {
        const r = status(await get("noimage"))?.state?.waiting?.reason;
        return r === "ErrImagePull" || r === "ImagePullBackOff" ? r : undefined;
      },
      30_000,
    );
    expect(["ErrImagePull", "ImagePullBackOff"]).toContain(reason);
  });
});

test("container stats reach the API through the node's kubelet (for kube top)", async () => {
  await pods().create(podSpec("busy", [{ name: "c", command: ["sh", "-c", "while true; do :; done"] }]));
  await waitFor("running", async () => status(await get("busy"))?.state?.running, 30_000);
  const cpuOf = async () => {
    const s = await (await api.request("GET", `/api/v1/nodes/${NODE}/proxy/stats/summary`)).json();
    const p = s.pods.find((x: any) => x.podRef.name === "busy");
    return p?.containers[0]?.cpu.usageCoreNanoSeconds ?? 0;
  };
  const first = await cpuOf();
  await waitFor("CPU time grows", async () => (await cpuOf()) > first + 50_000_000, 10_000);
  await pods().delete("busy", { gracePeriodSeconds: 0 });
});

describe("logs and exec through real kubectl and kube", () => {
  test("kubectl logs, exec with stdin and exit codes, and kube exec -it on a real terminal", async () => {
    const { writeKubeconfig } = await import("../../src/client/kubeconfig.ts");
    const { kubectlRunner } = await import("../helpers/kubectl.ts");
    const served = await api.listen();
    const kubeconfig = join(dataDir, "kubeconfig");
    writeKubeconfig(kubeconfig, { server: served.url, token: TEST_TOKEN, ca: served.ca, name: "kube" });
    const kubectl = kubectlRunner(kubeconfig, dataDir);
    await pods().create(podSpec("shell", [{ name: "c", command: ["sh", "-c", "echo started; sleep 3600"] }]));
    await waitFor("running", async () => status(await get("shell"))?.state?.running, 30_000);
    for (const v of ["1.30", "1.33"]) {
      expect((await kubectl(v, ["logs", "shell"])).out).toBe("started\n");
      const r = await kubectl(v, ["exec", "-i", "shell", "--", "sh"], "echo from-stdin; exit 4\n");
      expect(r.out).toBe("from-stdin\n");
      expect(r.code).toBe(4);
    }
    const main = join(import.meta.dir, "../../src/main.ts");
    const tty = Bun.spawn(["script", "-qec", `${process.execPath} ${main} exec -it shell -- sh`, "/dev/null"], {
      stdin: new Blob(["tty; exit 5\n"]),
      stdout: "pipe",
      env: { ...process.env, KUBECONFIG: kubeconfig },
    });
    const out = await new Response(tty.stdout).text();
    expect(await tty.exited).toBe(5);
    expect(out).toMatch(/\/dev\/pts\/\d+/);
  });
});

describe("port-forward through real kubectl", () => {
  test("kubectl port-forward reaches two ports of a pod, both ways, many connections; a closed port is reported", async () => {
    const net = await import("node:net");
    const { writeKubeconfig } = await import("../../src/client/kubeconfig.ts");
    const { KUBECTL_DIR, kubectlRunner } = await import("../helpers/kubectl.ts");
    const served = await api.listen();
    const kubeconfig = join(dataDir, "kubeconfig-pf");
    writeKubeconfig(kubeconfig, { server: served.url, token: TEST_TOKEN, ca: served.ca, name: "kube" });
    await pods().create(
      podSpec("pf", [
        { name: "web", command: ["httpd", "-f", "-p", "8080", "-h", "/etc"] },
        // An echo server: every connection gets cat, which answers what it reads until EOF.
        { name: "echo", command: ["nc", "-ll", "-p", "9000", "-e", "cat"] },
      ]),
    );
    await waitFor(
      "running",
      async () => status(await get("pf"), 0)?.state?.running && status(await get("pf"), 1)?.state?.running,
      30_000,
    );

    const pf = Bun.spawn(
      [`${KUBECTL_DIR}/kubectl.1.33`, "--kubeconfig", kubeconfig, "port-forward", "pod/pf", ":8080", ":9000", ":7777"],
      { stdout: "pipe", stderr: "pipe", env: { ...process.env, HOME: dataDir } },
    );
    let errText = "";
    void (async () => {
      const r = pf.stderr.getReader();
      for (let c = await r.read(); !c.done; c = await r.read()) errText += new TextDecoder().decode(c.value);
    })();
    try {
      const reader = pf.stdout.getReader();
      let printed = "";
      const local = await waitFor(
        "kubectl listening",
        async () => {
          printed += new TextDecoder().decode((await reader.read()).value ?? new Uint8Array());
          const ports = [8080, 9000, 7777].map((p) => printed.match(new RegExp(`127\\.0\\.0\\.1:(\\d+) -> ${p}`))?.[1]);
          return ports.every(Boolean) ? ports.map(Number) : undefined;
        },
        15_000,
      );
      const [web, echo, closed] = local as [number, number, number];
      for (let i = 0; i < 3; i++)
        expect(
          await (await fetch(`http://127.0.0.1:${web}/hostname`, { headers: { connection: "close" } })).text(),
        ).toBe("pf");

      // 1 MiB out and back through one connection, ended by a half-close.
      const sent = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < sent.length; i++) sent[i] = (i * 7) & 255;
      const back = await new Promise<Buffer>((resolve, reject) => {
        const c = net.connect({ port: echo, host: "127.0.0.1", allowHalfOpen: true });
        const got: Buffer[] = [];
        c.on("data", (d: Buffer) => got.push(d));
        c.on("end", () => resolve(Buffer.concat(got)));
        c.on("error", reject);
        c.end(sent);
      });
      expect(back.length).toBe(sent.length);
      expect(back.equals(sent)).toBe(true);

      // Nothing listens on 7777 in the pod: the connection ends and kubectl says why.
      await new Promise<void>((resolve) =>
        net
          .connect(closed, "127.0.0.1")
          .on("close", () => resolve())
          .on("error", () => {}),
      );
      await waitFor("kubectl reports the refused port", () => /7777/.test(errText), 10_000);

      // kube port-forward speaks the same protocol.
      const main = join(import.meta.dir, "../../src/main.ts");
      const own = Bun.spawn([process.execPath, main, "port-forward", "pod/pf", ":8080", "9001:9000"], {
        stdout: "pipe",
        stderr: "pipe",
        env: { ...process.env, KUBECONFIG: kubeconfig },
      });
      try {
        const ownReader = own.stdout.getReader();
        let ownOut = "";
        const ownWeb = await waitFor(
          "kube port-forward listening",
          async () => {
            ownOut += new TextDecoder().decode((await ownReader.read()).value ?? new Uint8Array());
            return /-> 9000/.test(ownOut) ? Number(ownOut.match(/127\.0\.0\.1:(\d+) -> 8080/)?.[1]) : undefined;
          },
          15_000,
        );
        for (let i = 0; i < 3; i++)
          expect(
            await (await fetch(`http://127.0.0.1:${ownWeb}/hostname`, { headers: { connection: "close" } })).text(),
          ).toBe("pf");
        const echoed = await new Promise<string>((resolve, reject) => {
          const c = net.connect({ port: 9001, host: "127.0.0.1", allowHalfOpen: true });
          let got = "";
          c.on("data", (d: Buffer) => (got += d));
          c.on("end", () => resolve(got));
          c.on("error", reject);
          c.end("through kube\n");
        });
        expect(echoed).toBe("through kube\n");
      } finally {
        own.kill();
        await own.exited;
      }

      // kubectl 1.30 asks for SPDY without a WebSocket: one clear line.
      const old = await kubectlRunner(kubeconfig, dataDir)("1.30", ["port-forward", "pod/pf", ":8080"]);
      expect(old.code).not.toBe(0);
      expect(old.err).toContain("port-forward needs a WebSocket");
    } finally {
      pf.kill();
      await pf.exited;
      await served.stop();
    }
  });
});

describe("deletion and restarts", () => {
  test("a graceful delete stops the containers, then the pod is gone", async () => {
    await pods().create(podSpec("doomed", [{ name: "c", command: ["sleep", "3600"] }]));
    await waitFor("running", async () => status(await get("doomed"))?.state?.running, 30_000);
    await pods().delete("doomed");
    await waitFor(
      "gone",
      async () =>
        pods()
          .get("doomed")
          .then(
            () => false,
            () => true,
          ),
      30_000,
    );
  });

  test("a restarted kubelet adopts running containers instead of restarting them", async () => {
    await pods().create(podSpec("keeper", [{ name: "c", command: ["sleep", "3600"] }]));
    const before = await waitFor(
      "running",
      async () => {
        const p = await get("keeper");
        return status(p)?.state?.running ? p : undefined;
      },
      30_000,
    );
    expect(await node.engineRunning(status(before).containerID)).toBe(true);
    await node.restart();
    // The status in the API is the old kubelet's until the new one writes it: wait for one that
    // names a container the engine runs (an old id whose container was removed does not count).
    const after = await waitFor(
      "a running container reported after restart",
      async () => {
        const p = await get("keeper");
        const s = status(p);
        return s?.state?.running && (await node.engineRunning(s.containerID)) ? p : undefined;
      },
      30_000,
    );
    expect(status(after).containerID).toBe(status(before).containerID);
    expect(status(after).restartCount).toBe(0);
  });
});

describe("jobs with real containers", () => {
  test("a Job runs containers to completion, and one that keeps failing stops at backoffLimit", async () => {
    const { startControllers } = await import("../../src/components/controllers/index.ts");
    // The controllers' clock is stepped over the Job back-off (upstream's 10 s) after the first failure.
    const clock = new FakeClock();
    const controllers = await startControllers({ client, log: () => {}, clock });
    try {
      const job = (name: string, script: string, extra: Record<string, unknown> = {}) => ({
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name },
        spec: {
          ...extra,
          template: {
            spec: {
              nodeName: NODE,
              restartPolicy: "Never",
              terminationGracePeriodSeconds: 1,
              containers: [
                { name: "c", image: BUSYBOX_IMAGE, imagePullPolicy: "IfNotPresent", command: ["sh", "-c", script] },
              ],
            },
          },
        },
      });
      const jobs = client.resource("jobs", "default");
      await jobs.create(job("works", "echo done", { completions: 2, parallelism: 2 }));
      await jobs.create(job("fails", "exit 7", { backoffLimit: 1 }));
      const done = await waitFor(
        "works complete",
        async () => {
          const j: any = await jobs.get("works");
          return j.status?.conditions?.find((c: any) => c.type === "Complete" && c.status === "True") ? j : undefined;
        },
        45_000,
      );
      expect(done.status.succeeded).toBe(2);
      await waitFor(
        "the first pod of fails failed",
        async () => {
          const pods = await client.resource<Pod>("pods", "default").list({ labelSelector: "job-name=fails" });
          return pods.items.some((p) => p.status?.phase === "Failed");
        },
        45_000,
      );
      clock.step(defaultConfig().jobBackoffBaseMs);
      const failed: any = await waitFor(
        "fails failed",
        async () => ((await jobs.get("fails")) as any).status?.conditions?.find((c: any) => c.type === "Failed"),
        45_000,
      );
      expect(failed.reason).toBe("BackoffLimitExceeded");
      const pods = (await client.resource("pods", "default").list({ labelSelector: "job-name=fails" })).items as any[];
      expect(pods.length).toBe(2);
      expect(pods.every((p) => p.status.containerStatuses[0].state.terminated.exitCode === 7)).toBe(true);
    } finally {
      await controllers.stop();
    }
  });
});
