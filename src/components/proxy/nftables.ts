// The kernel data plane: service ports become nftables DNAT rules in a table of our own, so
// connections go straight from client to endpoint with no copy through this process (kube-proxy's
// nftables mode). Needs root and the nft tool; the proxy falls back to the userspace listeners
// otherwise. The table is named after this process, and tables left by dead processes are removed.
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { processAlive } from "../../util/process.ts";
import { renderBase, renderSync, type RenderedState } from "./nftables-rules.ts";
import type { DataPlane, ServicePortSpec, SyncError } from "./table.ts";

let tables = 0;

function run(args: string[], input = ""): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("nft", args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(stderr.trim().split("\n")[0] || `nft exited with ${code}`)),
    );
    child.stdin.end(input);
  });
}

const nft = (script: string) => run(["-f", "-"], script);

/** Tables left by kube processes that are gone (a cluster killed without its shutdown). */
async function staleTables(): Promise<string[]> {
  const listed = await run(["list", "tables", "ip"]);
  return [...listed.matchAll(/^table ip (kube_(\d+)_\d+)$/gm)]
    .filter((m) => !processAlive(Number(m[2])))
    .map((m) => m[1]!);
}

/** Lets DNAT to 127.0.0.1 endpoints and from loopback clients cross the container bridge. */
function allowLocalnet(iface: string): void {
  const path = `/proc/sys/net/ipv4/conf/${iface}/route_localnet`;
  try {
    if (readFileSync(path, "utf8").trim() !== "1") writeFileSync(path, "1");
  } catch {
    // The bridge went away between lookup and write; the next sync sees it again.
  }
}

export class NftTable implements DataPlane {
  private state: RenderedState = { chains: new Set(), sets: new Set() };
  private specs: ServicePortSpec[] = [];

  private constructor(readonly name: string) {}

  /** Creates this process's table; rejects when nftables cannot be used here. */
  static async create(): Promise<NftTable> {
    if (process.getuid?.() !== 0) throw new Error("the nftables data plane needs root");
    const table = new NftTable(`kube_${process.pid}_${++tables}`);
    // Stale tables go in the same transaction ("add, then delete" succeeds even if already gone).
    const stale = (await staleTables()).map((t) => `table ip ${t} {}\ndelete table ip ${t}\n`).join("");
    await nft(stale + renderBase(table.name));
    return table;
  }

  async sync(specs: ServicePortSpec[], opts: { bridgeInterface?: string } = {}): Promise<SyncError[]> {
    if (opts.bridgeInterface) allowLocalnet(opts.bridgeInterface);
    const { script, state } = renderSync(this.name, specs, this.state);
    try {
      await nft(script);
    } catch (e) {
      return [{ key: "*", address: this.name, error: (e as Error).message }];
    }
    this.state = state;
    this.specs = specs;
    return [];
  }

  async closeAll(): Promise<void> {
    this.specs = [];
    await nft(`delete table ip ${this.name}\n`).catch(() => {});
  }

  keys(): string[] {
    return this.specs.map((s) => s.key);
  }
}
