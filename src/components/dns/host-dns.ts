// `kube up --host-dns`: cluster names resolve on the host too. With systemd-resolved running, a
// drop-in sends the cluster domain (a routing-only domain, `~cluster.local`) to our server; else
// a managed block of the hosts file (/etc/hosts) lists every name with an address, rewritten when
// Services or Endpoints change. Both are removed on exit.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { ClusterZone } from "./records.ts";

export interface HostDnsOptions {
  domain: string;
  port: number;
  zone: () => ClusterZone;
  onChange: (f: () => void) => void;
  /** The hosts file to manage (default /etc/hosts; tests use a file of their own). */
  hostsFile?: string;
  dataDir: string;
}

const RESOLVED_DIR = "/etc/systemd/resolved.conf.d";

function resolvedRunning(): boolean {
  return (
    existsSync("/run/systemd/resolve/stub-resolv.conf") &&
    spawnSync("systemctl", ["is-active", "--quiet", "systemd-resolved"]).status === 0
  );
}

/** The hosts file with our block (between markers naming the data dir) replaced by `lines`. */
export function withBlock(text: string, marker: string, lines: string[]): string {
  const begin = `# BEGIN ${marker}`;
  const end = `# END ${marker}`;
  const kept: string[] = [];
  let inside = false;
  for (const line of text.split("\n")) {
    if (line === begin) inside = true;
    else if (line === end) inside = false;
    else if (!inside) kept.push(line);
  }
  while (kept.length && kept[kept.length - 1] === "") kept.pop();
  const block = lines.length ? [begin, ...lines, end] : [];
  return [...kept, ...block].join("\n") + "\n";
}

export async function startHostDns(o: HostDnsOptions): Promise<{ stop(): Promise<void>; toString(): string }> {
  if (!o.hostsFile && resolvedRunning()) {
    const file = `${RESOLVED_DIR}/kube-${o.domain}.conf`;
    mkdirSync(RESOLVED_DIR, { recursive: true });
    writeFileSync(
      file,
      `# Written by kube up --host-dns (${o.dataDir}); removed when it stops.\n[Resolve]\nDNS=127.0.0.1:${o.port}\nDomains=~${o.domain}\n`,
    );
    spawnSync("systemctl", ["reload-or-restart", "systemd-resolved"]);
    return {
      toString: () => `systemd-resolved sends ${o.domain} to 127.0.0.1:${o.port} (${file})`,
      async stop() {
        rmSync(file, { force: true });
        spawnSync("systemctl", ["reload-or-restart", "systemd-resolved"]);
      },
    };
  }
  const path = o.hostsFile ?? "/etc/hosts";
  const marker = `kube cluster DNS (${o.dataDir})`;
  const write = (lines: string[]) => {
    const text = existsSync(path) ? readFileSync(path, "utf8") : "";
    const next = withBlock(text, marker, lines);
    // Written in place: /etc/hosts is often a bind mount that a rename would not replace.
    if (next !== text) writeFileSync(path, next);
  };
  let last = "";
  const sync = () => {
    const lines = o
      .zone()
      .hostEntries()
      .map(([ip, name]) => `${ip}\t${name}`)
      .sort();
    const text = lines.join("\n");
    if (text !== last) write(lines);
    last = text;
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  o.onChange(() => (timer ??= setTimeout(() => ((timer = undefined), sync()), 100)));
  sync();
  return {
    toString: () => `systemd-resolved is not running: cluster names are kept in a managed block of ${path}`,
    async stop() {
      clearTimeout(timer);
      write([]);
    },
  };
}
