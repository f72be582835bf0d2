// The hosts of test/helpers/netns.ts: each reaches the others and the test process reaches each
// at its address; a Podman service started in a host answers; cleanup removes the namespaces.
import { afterAll, expect, test } from "bun:test";
import { createNetLab, startEngine, type NetLab } from "../helpers/netns.ts";
import { waitFor } from "../helpers/wait.ts";

let lab: NetLab | undefined;
afterAll(async () => lab?.cleanup());

const nsList = () => Bun.spawnSync(["ip", "netns", "list"], { stdout: "pipe" }).stdout.toString();

test("hosts on one segment reach each other; cleanup leaves nothing", async () => {
  lab = await createNetLab(2);
  const [a, b] = lab.hosts as [NonNullable<NetLab["hosts"][0]>, NonNullable<NetLab["hosts"][0]>];
  expect(a.run(["ip", "-4", "-o", "addr", "show", "eth0"])).toContain(`${a.ip}/24`);
  // A web server in host a, on its address only.
  const server = a.spawn(
    [process.execPath, "-e", `Bun.serve({ hostname: "${a.ip}", port: 18080, fetch: () => new Response("from a") })`],
    { stdout: "ignore", stderr: "inherit" },
  );
  const fromB = () =>
    b.run([process.execPath, "-e", `console.log(await (await fetch("http://${a.ip}:18080")).text())`]).trim();
  expect(await waitFor("host b reaching host a", fromB, 15_000, 100)).toBe("from a");
  expect(await (await fetch(`http://${a.ip}:18080`)).text()).toBe("from a");
  server.kill();
  const engine = await startEngine(b);
  expect((await fetch("http://d/_ping", { unix: engine.socket } as RequestInit)).ok).toBe(true);
  await engine.stop();
  const names = lab.hosts.map((h) => h.ns);
  expect(nsList()).toContain(names[0]!);
  await lab.cleanup();
  for (const n of names) expect(nsList()).not.toContain(n);
}, 60_000);
