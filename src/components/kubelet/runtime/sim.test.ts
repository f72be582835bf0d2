// The hollow runtime: the shared contract plus what only a hollow node does.

import { expect, test } from "bun:test";
import { runtimeContract } from "../../../../test/helpers/runtime-contract.ts";
import { SimRuntime } from "./sim.ts";
import { LABELS } from "./types.ts";

const missing = "example.com/never-there:1";
const sim = new SimRuntime({ unpullable: (ref) => ref === missing });
runtimeContract("sim", { rt: () => sim, image: "busybox", missingImage: missing, labels: {} });

test("pods get distinct fake IPs in this node's subnet, and a freed IP is reused later", async () => {
  const rt = new SimRuntime({ subnet: 7 });
  const ips: string[] = [];
  const ids: string[] = [];
  for (let i = 0; i < 254; i++) {
    const sb = await rt.createPodSandbox({ podUid: `u${i}`, podName: `p${i}`, namespace: "n", hostname: `p${i}` });
    ips.push(sb.ip);
    ids.push(sb.id);
  }
  expect(new Set(ips).size).toBe(254);
  expect(ips.every((ip) => ip.startsWith("10.244.7."))).toBe(true);
  await expect(rt.createPodSandbox({ podUid: "x", podName: "x", namespace: "n", hostname: "x" })).rejects.toThrow(
    "no pod IPs left",
  );
  await rt.removeSandbox(ids[10]);
  expect((await rt.createPodSandbox({ podUid: "y", podName: "y", namespace: "n", hostname: "y" })).ip).toBe(ips[10]);
});

test("a container runs until told to exit; a follower of its logs ends when it exits", async () => {
  const rt = new SimRuntime();
  const sb = await rt.createPodSandbox({ podUid: "u", podName: "p", namespace: "n", hostname: "p" });
  const id = await rt.createContainer(sb.id, { name: "c", image: "img", labels: { [LABELS.restartCount]: "3" } });
  await rt.startContainer(id);
  const follow = (async () => {
    let n = 0;
    for await (const _ of rt.logs(id, { follow: true })) n++;
    return n;
  })();
  rt.exitContainer(id, 2);
  expect(await follow).toBe(0);
  const c = await rt.inspect(id);
  expect([c.state, c.exitCode, c.restartCount, c.ip]).toEqual(["exited", 2, 3, sb.ip]);
  expect(c.finishedAt).not.toBeNull();
  expect(await rt.stats(id)).toMatchObject({ cpuNanos: 0, memoryBytes: 0 });
  const s = await rt.execStream(id, ["sh"]);
  expect(await s.exitCode).toBe(0);
});

test("a thousand pods with two containers each cost little", async () => {
  const rt = new SimRuntime();
  const t0 = performance.now();
  for (let node = 0; node < 4; node++) {
    const r = new SimRuntime({ subnet: node });
    for (let i = 0; i < 250; i++) {
      const sb = await r.createPodSandbox({
        podUid: `${node}-${i}`,
        podName: `p${i}`,
        namespace: "n",
        hostname: `p${i}`,
      });
      await r.startContainer(await r.createContainer(sb.id, { name: "c", image: "img" }));
    }
    expect((await r.listContainers({ [LABELS.kind]: "app" })).length).toBe(250);
  }
  expect(performance.now() - t0).toBeLessThan(2000);
  expect(await rt.listContainers()).toEqual([]);
});

test("createRuntime picks the hollow runtime for --runtime sim, and a missing socket is a one-line error", async () => {
  const { createRuntime, RuntimeUnavailableError } = await import("./index.ts");
  expect((await createRuntime({ runtime: "sim" })).kind).toBe("sim");
  const err = await createRuntime({ runtime: "engine", containerSocket: "/nonexistent/kube-test.sock" }).catch(
    (e) => e,
  );
  expect(err).toBeInstanceOf(RuntimeUnavailableError);
  expect(err.message).toContain("/nonexistent/kube-test.sock");
});

test("an init container completes at once; probes succeed unless the test's hook says otherwise", async () => {
  const rt = new SimRuntime({ probe: (c, kind) => !(c.containerName === "sick" && kind === "liveness") });
  const sb = await rt.createPodSandbox({ podUid: "u", podName: "p", namespace: "n", hostname: "p" });
  const init = await rt.createContainer(sb.id, { name: "setup", image: "img", init: true });
  await rt.startContainer(init);
  expect(await rt.inspect(init)).toMatchObject({ state: "exited", exitCode: 0 });
  const app = await rt.createContainer(sb.id, { name: "app", image: "img" });
  const sick = await rt.createContainer(sb.id, { name: "sick", image: "img" });
  await rt.startContainer(app);
  await rt.startContainer(sick);
  expect((await rt.inspect(app)).state).toBe("running");
  expect(await rt.probe(app, "readiness")).toEqual({ ok: true, message: "" });
  expect(await rt.probe(sick, "readiness")).toEqual({ ok: true, message: "" });
  expect(await rt.probe(sick, "liveness")).toEqual({ ok: false, message: "simulated liveness probe failure" });
});
