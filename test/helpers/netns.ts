// Network namespaces standing for hosts on one L2 segment, for tests of several machines on one:
// a "switch" namespace holding a bridge, one namespace per host with an `eth0` on the bridge and
// an address of a /24 chosen for this run (10.240.0.0/12, one not routed on this machine yet), and
// a veth from the test's own namespace to the bridge (address .254), so the test process reaches
// every host directly. Nothing is changed in the test's namespace but that one interface (whose
// /24 route only leads to these hosts). Processes run in a host with `nsenter --net` (not
// `ip netns exec`, which remounts /sys and so hides the cgroup mounts Podman needs); `startEngine`
// runs a Podman API service in a host, so the bridges and veths of its containers are made there.
// `cleanup()` (also run at process exit) stops what was started and deletes the namespaces, and
// with them every interface, route and rule made inside them.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "./wait.ts";

export interface NetHost {
  /** The namespace's name (`ip netns list`). */
  ns: string;
  /** This host's address on the segment (its eth0). */
  ip: string;
  /** Prefix a command with this to run it in the host: nsenter --net=/run/netns/NS. */
  prefix: string[];
  /** Spawns a command in the host; it is killed (SIGTERM) by cleanup() when still running. */
  spawn(cmd: string[], opts?: Parameters<typeof Bun.spawn>[1]): Bun.Subprocess;
  /** Runs a command in the host to completion; throws with its stderr when it fails. */
  run(cmd: string[]): string;
}

export interface NetLab {
  hosts: NetHost[];
  /** The segment, e.g. 10.247.13.0/24. */
  subnet: string;
  /** The test process's own address on the segment. */
  selfIp: string;
  /** Stops what the hosts run and deletes the namespaces (idempotent). */
  cleanup(): Promise<void>;
}

export interface HostEngine {
  /** The Podman API socket of a service running in the host. */
  socket: string;
  stop(): Promise<void>;
}

function sh(cmd: string[]): string {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString().trim() || `exit ${r.exitCode}`}`);
  return r.stdout.toString();
}

/** Whether a /16 or /24 is already in use on this machine (a route, an address, a Podman network). */
function inUse(prefix: string): boolean {
  const text = `${sh(["ip", "-4", "route", "show", "table", "all"])}\n${sh(["ip", "-4", "-o", "addr"])}`;
  return text.includes(` ${prefix}.`) || text.startsWith(`${prefix}.`) || text.includes(`\n${prefix}.`);
}

/**
 * A /16 of 10.128.0.0/11 for a cluster's pod range (`--cluster-cidr`) that this machine does not
 * route and no Podman network uses: Podman refuses two networks with overlapping subnets, and
 * tests running at once each make networks from their own cluster range.
 */
export function freeClusterCidr(): string {
  const podman = Bun.spawnSync(["podman", "network", "ls", "--format", "{{range .Subnets}}{{.Subnet}} {{end}}"], {
    stdout: "pipe",
    stderr: "ignore",
  }).stdout.toString();
  for (let i = 0; i < 50; i++) {
    const b = 128 + Math.floor(Math.random() * 32);
    if (!inUse(`10.${b}`) && !podman.includes(`10.${b}.`)) return `10.${b}.0.0/16`;
  }
  throw new Error("no free /16 in 10.128.0.0/11 for a cluster range");
}

/** What the exit handler must undo synchronously, per lab. */
const leftovers = new Set<() => void>();
process.on("exit", () => {
  // Last resort when a test run ends without afterAll: namespaces are machine-wide.
  for (const undo of leftovers) undo();
});

/** Creates `count` hosts on one segment. Needs root and iproute2. */
export async function createNetLab(count: number): Promise<NetLab> {
  const id = `kn${(process.pid % 1000).toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
  let base = "";
  for (let i = 0; i < 50 && !base; i++) {
    const c = `10.${240 + Math.floor(Math.random() * 16)}.${1 + Math.floor(Math.random() * 250)}`;
    if (!inUse(c)) base = c;
  }
  if (!base) throw new Error("no free /24 in 10.240.0.0/12 for a test segment");
  const sw = `${id}-sw`;
  const namespaces: string[] = [];
  const procs: Bun.Subprocess[] = [];
  let cleaned = false;
  const removeNamespaces = () => {
    for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
    // Deleting a namespace deletes its interfaces, so the veth in ours (whose peer is in the switch) too.
    for (const ns of [...namespaces].reverse()) Bun.spawnSync(["ip", "netns", "del", ns], { stderr: "ignore" });
    Bun.spawnSync(["ip", "link", "del", `${id}-s`], { stderr: "ignore" });
  };
  leftovers.add(removeNamespaces);
  const lab: NetLab = {
    hosts: [],
    subnet: `${base}.0/24`,
    selfIp: `${base}.254`,
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      leftovers.delete(removeNamespaces);
      for (const p of procs) if (p.exitCode === null) p.kill("SIGTERM");
      await Promise.all(procs.map((p) => p.exited));
      removeNamespaces();
    },
  };
  try {
    sh(["ip", "netns", "add", sw]);
    namespaces.push(sw);
    sh(["ip", "-n", sw, "link", "add", "br0", "type", "bridge"]);
    sh(["ip", "-n", sw, "link", "set", "br0", "up"]);
    // Our own leg: <id>-s here, its peer on the bridge.
    sh(["ip", "link", "add", `${id}-s`, "type", "veth", "peer", "name", "self", "netns", sw]);
    sh(["ip", "-n", sw, "link", "set", "self", "master", "br0", "up"]);
    sh(["ip", "addr", "add", `${lab.selfIp}/24`, "dev", `${id}-s`]);
    sh(["ip", "link", "set", `${id}-s`, "up"]);
    for (let i = 0; i < count; i++) {
      const ns = `${id}-h${i}`;
      sh(["ip", "netns", "add", ns]);
      namespaces.push(ns);
      const ip = `${base}.${i + 1}`;
      sh(["ip", "-n", ns, "link", "set", "lo", "up"]);
      sh(["ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", `h${i}`, "netns", sw]);
      sh(["ip", "-n", sw, "link", "set", `h${i}`, "master", "br0", "up"]);
      sh(["ip", "-n", ns, "addr", "add", `${ip}/24`, "dev", "eth0"]);
      sh(["ip", "-n", ns, "link", "set", "eth0", "up"]);
      // A host routes for its pods (a new namespace starts with forwarding off).
      sh(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
      const prefix = ["nsenter", `--net=/run/netns/${ns}`];
      lab.hosts.push({
        ns,
        ip,
        prefix,
        spawn(cmd, opts) {
          const p = Bun.spawn([...prefix, ...cmd], opts ?? {});
          procs.push(p);
          return p;
        },
        run: (cmd) => sh([...prefix, ...cmd]),
      });
    }
  } catch (e) {
    await lab.cleanup();
    throw e;
  }
  return lab;
}

/**
 * A Podman API service in `host` (the machine's Podman storage and images, so the test images are
 * there): containers it starts get their network made in that namespace.
 */
export async function startEngine(host: NetHost): Promise<HostEngine> {
  const dir = mkdtempSync(join(tmpdir(), `${host.ns}-podman-`));
  const socket = join(dir, "podman.sock");
  const proc = host.spawn(["podman", "system", "service", "--time=0", `unix://${socket}`], {
    stdout: "ignore",
    stderr: "ignore",
  });
  await waitFor(
    `the Podman service in ${host.ns}`,
    async () => proc.exitCode === null && (await fetch("http://d/_ping", { unix: socket } as RequestInit)).ok,
    20_000,
    100,
  );
  return {
    socket,
    async stop() {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
