// The engine runtime against a real Podman (or Docker) through its API socket, with the locally
// imported busybox image. Every container carries this run's label and is removed in afterAll.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUSYBOX_IMAGE, ensureEngine } from "../../../../test/helpers/engine.ts";
import { waitFor } from "../../../../test/helpers/wait.ts";
import { runtimeContract } from "../../../../test/helpers/runtime-contract.ts";
import { EngineRuntime, eventAction, findEngineSocket, splitRef } from "./engine.ts";
import { fromListItem, type ListItem } from "./engine-parse.ts";
import {
  ImagePullError,
  LABELS,
  PAUSE_IMAGE,
  RuntimeUnavailableError,
  type ContainerInfo,
  type OutputChunk,
  type Sandbox,
  type SandboxConfig,
} from "./types.ts";

const RUN = `rt-${process.pid}-${Date.now().toString(36)}`;
const runLabel = { "io.kube.test.run": RUN };
const dec = new TextDecoder();
let rt: EngineRuntime;
let dir: string;

beforeAll(async () => {
  rt = new EngineRuntime(await ensureEngine());
  dir = mkdtempSync(join(tmpdir(), "kube-rt-"));
});

afterAll(async () => {
  // apps before infra containers; removeContainer copes with either order, this is just quicker
  if (rt)
    for (const c of (await rt.listContainers(runLabel)).sort(
      (a, b) => (a.kind === "app" ? -1 : 1) - (b.kind === "app" ? -1 : 1),
    )) {
      await rt.removeContainer(c.id);
    }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

runtimeContract("engine", {
  rt: () => rt,
  image: BUSYBOX_IMAGE,
  missingImage: "kube-test-missing-image:v1",
  labels: runLabel,
});

async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

function sandbox(
  podName: string,
  portMappings: { containerPort: number; hostPort: number; hostIP: string }[] = [],
  more: Partial<SandboxConfig> = {},
): Promise<Sandbox> {
  return rt.createPodSandbox({
    podUid: crypto.randomUUID(),
    podName,
    namespace: "rt-test",
    hostname: podName,
    portMappings,
    labels: runLabel,
    ...more,
  });
}

async function collect(it: AsyncIterable<OutputChunk>): Promise<{ stdout: string; stderr: string }> {
  const out = { stdout: "", stderr: "" };
  for await (const c of it) out[c.stream] += dec.decode(c.data);
  return out;
}

async function exited(id: string) {
  return waitFor(`container ${id.slice(0, 12)} to exit`, async () => {
    const c = await rt.inspect(id);
    return c.state === "exited" && c;
  });
}

describe("a pod: infra container plus app containers", () => {
  test("containers share localhost and the hostname, mounts and hostPort on 127.0.0.1 work", async () => {
    writeFileSync(join(dir, "index.html"), "hello from the host\n");
    const hostPort = await freePort();
    const sb = await sandbox("web-pod", [{ containerPort: 8080, hostPort, hostIP: "127.0.0.1" }]);
    expect(sb.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);

    const web = await rt.createContainer(sb.id, {
      name: "web",
      image: BUSYBOX_IMAGE,
      command: ["httpd", "-f", "-p", "8080", "-h", "/www"],
      mounts: [{ hostPath: dir, containerPath: "/www", readOnly: true }],
      labels: runLabel,
    });
    await rt.startContainer(web);
    const client = await rt.createContainer(sb.id, {
      name: "client",
      image: BUSYBOX_IMAGE,
      command: ["sh", "-c"],
      args: ["hostname; for i in $(seq 100); do wget -qO- http://127.0.0.1:8080/ && exit 0; sleep 0.05; done; exit 1"],
      labels: runLabel,
    });
    await rt.startContainer(client);
    const done = await exited(client);
    expect(done.exitCode).toBe(0);
    expect(done.finishedAt).not.toBeNull();
    const logs = await collect(rt.logs(client));
    expect(logs.stdout).toBe("web-pod\nhello from the host\n");

    const body = await waitFor("hostPort to answer", () =>
      fetch(`http://127.0.0.1:${hostPort}/`).then((r) => r.text()),
    );
    expect(body).toBe("hello from the host\n");

    const listed = await rt.listContainers({ [LABELS.sandboxId]: sb.id });
    expect(listed.map((c) => [c.containerName, c.kind, c.state, c.exitCode]).sort()).toEqual([
      ["client", "app", "exited", 0],
      ["web", "app", "running", null],
    ]);

    await rt.removeContainer(sb.id); // the infra container: its joined containers go with it
    expect(await rt.listContainers({ [LABELS.podUid]: done.podUid })).toEqual([]);
  });

  test("a sandbox started in the background whose start fails (its host port is taken): started rejects, nothing of the pod is left", async () => {
    using taken = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const podUid = crypto.randomUUID();
    const sb = await sandbox("port-taken", [{ containerPort: 8080, hostPort: taken.port, hostIP: "127.0.0.1" }], {
      podUid,
      startInBackground: true,
    });
    expect(sb.ip).toBe("");
    // The kubelet's ordering: a container is created in the sandbox while the engine starts it. The
    // failed start may have removed the sandbox first (the create then fails), or removes both.
    const created = await rt
      .createContainer(sb.id, { name: "c", image: BUSYBOX_IMAGE, command: ["sleep", "60"], labels: runLabel })
      .then(
        () => "created",
        (e: Error) => e.message,
      );
    expect(created).toMatch(/^created$|does not exist|not found/);
    expect(
      await sb.started!.then(
        () => "started",
        (e: Error) => e.message,
      ),
    ).toMatch(/address already in use/);
    expect(await rt.listContainers({ [LABELS.podUid]: podUid })).toEqual([]);
  });

  test("env reaches the container, logs are split into stdout and stderr, the exit code is reported", async () => {
    const sb = await sandbox("env-pod");
    const id = await rt.createContainer(sb.id, {
      name: "job",
      image: BUSYBOX_IMAGE,
      command: ["sh", "-c", 'echo "out $FOO"; echo "err $BAR" >&2; pwd; exit 3'],
      env: { FOO: "foo value", BAR: "bar=value" },
      workingDir: "/tmp",
      cpuMillis: 250,
      memoryBytes: 64 * 1024 * 1024,
      labels: { ...runLabel, [LABELS.restartCount]: "2" },
    });
    await rt.startContainer(id);
    const c = await exited(id);
    expect([c.exitCode, c.restartCount, c.containerName, c.namespace, c.podName]).toEqual([
      3,
      2,
      "job",
      "rt-test",
      "env-pod",
    ]);
    expect(await collect(rt.logs(id))).toEqual({ stdout: "out foo value\n/tmp\n", stderr: "err bar=value\n" });
    const [detailed] = await rt.listContainers({ [LABELS.podUid]: c.podUid, [LABELS.kind]: "app" }, { detail: true });
    expect(detailed.startedAt).not.toBeNull();
    expect(detailed.exitCode).toBe(3);
    const raw = await rt.http.json<{ HostConfig: { NanoCpus: number; Memory: number } }>(
      "GET",
      `/containers/${id}/json`,
    );
    expect([raw.HostConfig.NanoCpus, raw.HostConfig.Memory]).toEqual([250_000_000, 64 * 1024 * 1024]);
    const tail = await collect(rt.logs(id, { tail: 1, timestamps: true }));
    expect(tail.stdout + tail.stderr).toMatch(/^\d{4}-\d\d-\d\dT\S+ /);
    await rt.removeSandbox(sb.id);
  });

  test("a list says what the Docker-compatible list says (Podman: from its own endpoint, without the IP)", async () => {
    const sb = await sandbox("list-pod");
    const make = (name: string, script: string) =>
      rt.createContainer(sb.id, { name, image: BUSYBOX_IMAGE, command: ["sh", "-c", script], labels: runLabel });
    const done = await make("done", "exit 7");
    await rt.startContainer(done);
    await exited(done);
    const running = await make("running", "sleep 3600");
    await rt.startContainer(running);
    await make("created", "true");
    const filter = { [LABELS.podUid]: (await rt.inspect(done)).podUid };
    const compat = (
      await rt.http.json<ListItem[]>("GET", "/containers/json", {
        query: { all: 1, filters: JSON.stringify({ label: Object.entries(filter).map(([k, v]) => `${k}=${v}`) }) },
      })
    ).map(fromListItem);
    const listed = await rt.listContainers(filter);
    const podman = await rt.isPodman();
    const byId = (l: ContainerInfo[]) =>
      l
        .map((c) => ({ ...c, ip: podman ? "" : c.ip, createdAt: c.createdAt?.slice(0, 19) })) // one says seconds only
        .sort((a, b) => a.id.localeCompare(b.id));
    expect(byId(listed)).toEqual(byId(compat));
    expect(listed.map((c) => [c.containerName || c.kind, c.state, c.exitCode]).sort()).toEqual([
      ["created", "created", null],
      ["done", "exited", 7],
      ["infra", "running", null],
      ["running", "running", null],
    ]);
    // What a list leaves out, an inspect tells: the sandbox's IP.
    const [infra] = await rt.listContainers({ ...filter, [LABELS.kind]: "infra" }, { detail: true });
    expect(infra.ip).toBe(sb.ip);
    await rt.removeSandbox(sb.id);
  });

  test("container events: the stream opens, then changes of the containers with the label are told", async () => {
    const ac = new AbortController();
    let opened = false;
    const actions: string[] = [];
    const following = (async () => {
      try {
        for await (const told of rt.containerEvents(["io.kube.test.run", RUN], ac.signal)) {
          if (!opened) expect(told).toEqual([]);
          else actions.push(...told);
          opened = true;
        }
      } catch (e) {
        if (!ac.signal.aborted) throw e;
      }
    })();
    await waitFor("the event stream to open", () => opened);
    const sb = await sandbox("events-pod");
    await waitFor("the sandbox's creation and start to be told", () => actions.includes("start"));
    expect(actions).toContain("create");
    ac.abort();
    await following;
    await rt.removeSandbox(sb.id);
  });

  test("exec reports exit codes and output, takes stdin, and streams interactively", async () => {
    const sb = await sandbox("exec-pod");
    const id = await rt.createContainer(sb.id, {
      name: "main",
      image: BUSYBOX_IMAGE,
      command: ["sleep", "3600"],
      labels: runLabel,
    });
    await rt.startContainer(id);
    expect(await rt.exec(id, ["sh", "-c", "echo out; echo err >&2; exit 4"])).toEqual({
      exitCode: 4,
      stdout: "out\n",
      stderr: "err\n",
    });
    expect(await rt.exec(id, ["true"])).toEqual({ exitCode: 0, stdout: "", stderr: "" });
    expect(await rt.exec(id, ["cat"], { stdin: "piped in" })).toEqual({ exitCode: 0, stdout: "piped in", stderr: "" });
    await expect(rt.exec(id, ["sleep", "5"], { timeoutMs: 200 })).rejects.toThrow("timed out");

    const s = await rt.execStream(id, ["sh"], { stdin: true });
    s.write("echo one; echo two >&2\n");
    s.write("exit 5\n");
    expect(await collect(s.output)).toEqual({ stdout: "one\n", stderr: "two\n" });
    expect(await s.exitCode).toBe(5);

    const t = await rt.execStream(id, ["sh"], { stdin: true, tty: true });
    await t.resize(100, 40);
    t.write("stty size; exit 6\n");
    const typed = await collect(t.output);
    expect(typed.stdout).toContain("40 100\r\n");
    expect(typed.stderr).toBe("");
    expect(await t.exitCode).toBe(6);

    const st = await rt.stats(id);
    expect(st.cpuNanos).toBeGreaterThan(0);
    expect(st.memoryBytes).toBeGreaterThan(0);

    // follow: lines arrive as they are written; the abort ends the stream
    const ac = new AbortController();
    const logger = await rt.createContainer(sb.id, {
      name: "logger",
      image: BUSYBOX_IMAGE,
      command: ["sh", "-c", "echo first; sleep 0.3; echo second; sleep 3600"],
      labels: runLabel,
    });
    await rt.startContainer(logger);
    let seen = "";
    for await (const c of rt.logs(logger, { follow: true, signal: ac.signal })) {
      seen += dec.decode(c.data);
      if (seen.includes("second")) ac.abort();
    }
    expect(seen).toBe("first\nsecond\n");

    const t0 = Date.now();
    await rt.stopContainer(logger, 1); // sh as PID 1 ignores SIGTERM: SIGKILL follows after 1 s
    expect((await rt.inspect(logger)).state).toBe("exited");
    await rt.stopContainer(sb.id, 10); // the infra container exits on SIGTERM at once
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect((await rt.inspect(sb.id)).state).toBe("exited");
    await rt.removeSandbox(sb.id);
    await expect(rt.inspect(id)).rejects.toThrow("not found");
  });
});

describe("images", () => {
  test("IfNotPresent on a missing image fails fast with ErrImagePull; Never gives ErrImageNeverPull", async () => {
    const t0 = Date.now();
    const err = await rt.ensureImage("kube-test-missing-image:v1", "IfNotPresent").catch((e) => e);
    expect(err).toBeInstanceOf(ImagePullError);
    expect(err.reason).toBe("ErrImagePull");
    expect(Date.now() - t0).toBeLessThan(10_000);
    const never = await rt.ensureImage("kube-test-missing-image:v1", "Never").catch((e) => e);
    expect([never.name, never.reason]).toEqual(["ImagePullError", "ErrImageNeverPull"]);
  });

  test("a present image needs no pull, and a localhost/ image is never pulled, even with Always", async () => {
    expect((await rt.ensureImage(BUSYBOX_IMAGE, "IfNotPresent")).pulled).toBe(false);
    expect((await rt.ensureImage(BUSYBOX_IMAGE, "Never")).pulled).toBe(false);
    expect((await rt.ensureImage(BUSYBOX_IMAGE, "Always")).pulled).toBe(false);
  });

  test("the pause image is provisioned locally", async () => {
    expect(await rt.ensurePauseImage()).toBe(PAUSE_IMAGE);
    expect(await rt.hasImage(PAUSE_IMAGE)).toBe(true);
  });

  test("image references split into repository and tag", () => {
    expect([
      splitRef("busybox"),
      splitRef("localhost/busybox:1.0"),
      splitRef("localhost:5000/x"),
      splitRef("a/b@sha256:00"),
    ]).toEqual([
      { repo: "busybox", tag: "latest" },
      { repo: "localhost/busybox", tag: "1.0" },
      { repo: "localhost:5000/x", tag: "latest" },
      { repo: "a/b@sha256:00", tag: "" },
    ]);
  });
});

test("an event line's action: Docker's Action, else Podman's status; unreadable lines are '?'", () => {
  expect(
    [
      '{"status":"die","id":"x","Type":"container","Action":"die","Actor":{"ID":"x"}}',
      '{"status":"start","id":"x"}',
      '{"Type":"container","Action":"exec_start: sh -c true"}',
      '{"Type":"container"}',
      '{"Action":',
    ].map(eventAction),
  ).toEqual(["die", "start", "exec_start: sh -c true", "?", "?"]);
});

describe("finding the engine", () => {
  test("the first socket that answers wins; none answering says what was tried and how to start Podman", async () => {
    const sock = rt.socketPath;
    expect(await findEngineSocket({ env: { DOCKER_HOST: `unix://${sock}` } })).toBe(sock);
    const missing = join(dir, "nothing.sock");
    const err = await findEngineSocket({ flag: missing }).catch((e) => e);
    expect(err).toBeInstanceOf(RuntimeUnavailableError);
    expect(err.message).toContain(missing);
    expect(err.message).toContain("podman system service");
    expect(err.message).not.toContain("\n");
  });
});
