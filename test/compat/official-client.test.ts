// The official JavaScript client (@kubernetes/client-node) on its own runtime, Node, against the
// real API server over HTTPS: list and create calls, and an informer listing and watching pods.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeKubeconfig } from "../../src/client/kubeconfig.ts";
import { startTestApi, TEST_TOKEN, type TestApi } from "../helpers/api.ts";

let api: TestApi;
let dir: string;
beforeAll(async () => {
  api = await startTestApi();
  const served = await api.listen();
  dir = mkdtempSync(join(tmpdir(), "kube-client-node-"));
  writeKubeconfig(join(dir, "kubeconfig"), { server: served.url, token: TEST_TOKEN, ca: served.ca, name: "kube" });
});
afterAll(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

test("CoreV1Api calls and an informer's add, update and delete events", async () => {
  const proc = Bun.spawn(["node", join(import.meta.dir, "client-node-script.mjs"), join(dir, "kubeconfig")], {
    cwd: join(import.meta.dir, "../.."),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  expect(err).toBe("");
  expect(code).toBe(0);
  const lines = out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  expect(lines[0].namespaces).toEqual(
    expect.arrayContaining(["default", "kube-system", "kube-public", "kube-node-lease"]),
  );
  const final = lines.find((l) => l.events);
  expect(final.events).toEqual(["add existing", "add watched", "update watched two", "delete watched"]);
  expect(final.cached).toEqual(["existing"]);
});
