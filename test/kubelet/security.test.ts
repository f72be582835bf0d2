// securityContext on real Podman containers: privileged and capabilities show in CapEff, users
// and groups in `id`, a read-only root refuses writes, no_new_privs is set, runAsNonRoot refuses
// a root image with upstream's message, a subPath symlink out of its volume is refused, and what
// the node cannot apply is a Warning event.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "../../src/client/index.ts";
import { BUSYBOX_IMAGE } from "../helpers/engine.ts";
import type { TestApi } from "../helpers/api.ts";
import { startTestKubelet, type TestKubelet } from "../helpers/kubelet.ts";
import { waitFor } from "../helpers/wait.ts";

const NODE = `security-test-${process.pid}`;
let api: TestApi;
let client: Client;
let node: TestKubelet;
let dataDir: string;

beforeAll(async () => {
  node = await startTestKubelet(NODE);
  ({ api, client, dataDir } = node);
}, 60_000);

afterAll(() => node.close());

const pods = () => client.resource("pods", "default");
const get = (name: string) => pods().get(name) as Promise<any>;
const spec = (name: string, containers: any[], extra: Record<string, unknown> = {}): any => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name },
  spec: {
    nodeName: NODE,
    terminationGracePeriodSeconds: 1,
    restartPolicy: "Never",
    containers: containers.map((c) => ({ image: BUSYBOX_IMAGE, imagePullPolicy: "IfNotPresent", ...c })),
    ...extra,
  },
});
const logs = (pod: string, c: string) =>
  api.request("GET", `/api/v1/namespaces/default/pods/${pod}/log?container=${c}`).then((r) => r.text());
/** Runs the pod to completion and returns each container's output. */
async function outputs(pod: any): Promise<Record<string, string>> {
  await pods().create(pod);
  const name = pod.metadata.name;
  await waitFor(
    `${name} finished`,
    async () => (await get(name)).status?.phase === "Succeeded" || (await get(name)).status?.phase === "Failed",
    60_000,
  );
  const out: Record<string, string> = {};
  for (const c of pod.spec.containers) out[c.name] = (await logs(name, c.name)).trim();
  return out;
}
const capEff = (text: string) => BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(text)?.[1] ?? "x"}`);
const has = (caps: bigint, bit: number) => (caps >> BigInt(bit)) & 1n;
const CAP_NET_ADMIN = 12;
const CAP_SYS_ADMIN = 21;
const CAP_CHOWN = 0;
const status = "grep -E 'CapEff|NoNewPrivs' /proc/self/status";

test(
  "privileged has every capability, a plain container does not; add and drop change the set; no_new_privs " +
    "follows allowPrivilegeEscalation",
  async () => {
    const out = await outputs(
      spec("caps", [
        { name: "priv", command: ["sh", "-c", status], securityContext: { privileged: true } },
        { name: "plain", command: ["sh", "-c", status] },
        { name: "add", command: ["sh", "-c", status], securityContext: { capabilities: { add: ["NET_ADMIN"] } } },
        {
          name: "drop",
          command: ["sh", "-c", status],
          securityContext: { capabilities: { drop: ["ALL"] }, allowPrivilegeEscalation: false },
        },
      ]),
    );
    expect(has(capEff(out.priv!), CAP_SYS_ADMIN)).toBe(1n);
    expect(has(capEff(out.priv!), CAP_NET_ADMIN)).toBe(1n);
    expect(has(capEff(out.plain!), CAP_SYS_ADMIN)).toBe(0n);
    expect(has(capEff(out.plain!), CAP_NET_ADMIN)).toBe(0n);
    expect(has(capEff(out.plain!), CAP_CHOWN)).toBe(1n);
    expect(has(capEff(out.add!), CAP_NET_ADMIN)).toBe(1n);
    expect(has(capEff(out.add!), CAP_SYS_ADMIN)).toBe(0n);
    expect(capEff(out.drop!)).toBe(0n);
    expect(out.drop).toContain("NoNewPrivs:\t1");
    expect(out.plain).toContain("NoNewPrivs:\t0");
  },
);

test(
  "runAsUser/runAsGroup/supplementalGroups/fsGroup: the pod's context is the default, a container's overrides " +
    "it; readOnlyRootFilesystem refuses writes",
  async () => {
    const script =
      "id -u; id -g; id -G; stat -c %g /data; touch /data/$(id -u) && echo wrote; touch /rootfile 2>/dev/null " +
      "&& echo rootwrite || echo rootdenied";
    const out = await outputs(
      spec(
        "ids",
        [
          { name: "a", command: ["sh", "-c", script], volumeMounts: [{ name: "data", mountPath: "/data" }] },
          {
            name: "b",
            command: ["sh", "-c", script],
            volumeMounts: [{ name: "data", mountPath: "/data" }],
            securityContext: { runAsUser: 2001, readOnlyRootFilesystem: true },
          },
        ],
        {
          securityContext: { runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [4000], fsGroup: 2000 },
          volumes: [{ name: "data", emptyDir: {} }],
        },
      ),
    );
    const a = out.a!.split("\n");
    expect(a.slice(0, 2)).toEqual(["1000", "3000"]);
    expect(a[2]!.split(" ").sort()).toEqual(["2000", "3000", "4000"]);
    expect(a[3]).toBe("2000");
    expect(a[4]).toBe("wrote");
    expect(a[5]).toBe("rootdenied"); // uid 1000 cannot write / either way
    const b = out.b!.split("\n");
    expect(b[0]).toBe("2001");
    expect(b.slice(4)).toEqual(["wrote", "rootdenied"]);
    // As root, only readOnlyRootFilesystem stops the write.
    const root = await outputs(
      spec("rootfs", [
        { name: "rw", command: ["sh", "-c", "touch /rootfile && echo rootwrite"] },
        {
          name: "ro",
          command: ["sh", "-c", "touch /rootfile 2>&1; echo rc=$?"],
          securityContext: { readOnlyRootFilesystem: true },
        },
      ]),
    );
    expect(root.rw).toBe("rootwrite");
    expect(root.ro).toContain("Read-only file system");
    expect(root.ro).toContain("rc=1");
  },
);

test("runAsNonRoot refuses the root image with upstream's message and event; with a non-root runAsUser it runs", async () => {
  const created = (await pods().create(
    spec("nonroot", [{ name: "c", command: ["sleep", "60"], securityContext: { runAsNonRoot: true } }]),
  )) as any;
  const message = `container has runAsNonRoot and image will run as root (pod: "nonroot_default(${created.metadata.uid})", container: c)`;
  const waiting = await waitFor(
    "CreateContainerConfigError",
    async () =>
      (await get("nonroot")).status?.containerStatuses?.[0]?.state?.waiting?.reason === "CreateContainerConfigError" &&
      (await get("nonroot")).status.containerStatuses[0].state.waiting,
    30_000,
  );
  expect(waiting.message).toBe(message);
  const events = (await client.resource("events", "default").list()).items as any[];
  expect(
    events.some(
      (e) => e.involvedObject.name === "nonroot" && e.reason === "Failed" && e.message === `Error: ${message}`,
    ),
  ).toBe(true);
  const out = await outputs(
    spec("nonroot-ok", [
      { name: "c", command: ["id", "-u"], securityContext: { runAsNonRoot: true, runAsUser: 1234 } },
    ]),
  );
  expect(out.c).toBe("1234");
  await pods().delete("nonroot", { gracePeriodSeconds: 0 });
});

test(
  "a subPath that a container turned into a symlink out of the volume is refused; a missing subPath is made " +
    "inside the volume",
  async () => {
    const created = (await pods().create(
      spec(
        "escape",
        [
          {
            name: "ok",
            command: ["sh", "-c", "echo inside > /sub/file; sleep 60"],
            volumeMounts: [{ name: "vol", mountPath: "/sub", subPath: "made/here" }],
          },
          {
            name: "evil",
            command: ["sh", "-c", "ls /host; sleep 60"],
            volumeMounts: [{ name: "vol", mountPath: "/host", subPath: "escape" }],
          },
        ],
        {
          initContainers: [
            {
              name: "plant",
              image: BUSYBOX_IMAGE,
              imagePullPolicy: "IfNotPresent",
              command: ["ln", "-s", "/", "/vol/escape"],
              volumeMounts: [{ name: "vol", mountPath: "/vol" }],
            },
          ],
          volumes: [{ name: "vol", emptyDir: {} }],
        },
      ),
    )) as any;
    const evil = await waitFor(
      "evil refused",
      async () =>
        (await get("escape")).status?.containerStatuses?.find((s: any) => s.name === "evil")?.state?.waiting?.reason ===
          "CreateContainerConfigError" &&
        (await get("escape")).status.containerStatuses.find((s: any) => s.name === "evil").state.waiting,
      30_000,
    );
    expect(evil.message).toStartWith('failed to prepare subPath for volumeMount "vol" of container "evil": subpath ');
    expect(evil.message).toContain("not within volume path");
    const file = join(dataDir, "pods", created.metadata.uid, "volumes", "vol", "made", "here", "file");
    await waitFor("the ok container wrote into its subPath", () => existsSync(file), 30_000);
    const events = (await client.resource("events", "default").list()).items as any[];
    expect(
      events.some(
        (e) =>
          e.involvedObject.name === "escape" &&
          e.reason === "Failed" &&
          e.message.startsWith('Error: failed to prepare subPath for volumeMount "vol" of container "evil"'),
      ),
    ).toBe(true);
    await pods().delete("escape", { gracePeriodSeconds: 0 });
  },
);

test("what the node cannot apply is a Warning event, not a silent success", async () => {
  await outputs(
    spec("selinux", [{ name: "c", command: ["true"], securityContext: { seLinuxOptions: { level: "s0:c123,c456" } } }]),
  );
  const events = (await client.resource("events", "default").list()).items as any[];
  const warning = events.find((e) => e.involvedObject.name === "selinux" && e.reason === "UnsupportedSecurityContext");
  expect(warning?.type).toBe("Warning");
  expect(warning?.message).toContain("seLinuxOptions");
});
