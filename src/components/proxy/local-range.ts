// The service range made local to this machine: `ip route add local <cidr> dev lo` in the local
// routing table, as for 127.0.0.0/8. Every address of the range is then this host's own, so a
// packet to a cluster IP is delivered here (to a listener, or refused) and can never follow the
// default route out of the machine, even when no DNAT rule matches it. It also lets the userspace
// plane bind cluster IPs, and pods reach them through the bridge. Each proxy adds its own route
// (metric = its pid, so two processes never remove each other's) and removes it on exit; routes
// of dead processes are removed by the next proxy that starts (a stale one is harmless: it only
// keeps the range local).
import { processAlive } from "../../util/process.ts";
import { intToIp, parseCidr } from "../../api/cidr.ts";
import { ip } from "../../util/ip-command.ts";

/** Whether every address of the range is in 127.0.0.0/8 (local without any setup). */
export function isLoopbackCidr(cidr: string): boolean {
  const { first, last } = parseCidr(cidr);
  return first >>> 24 === 127 && last >>> 24 === 127;
}

/** Makes `cidr` local; resolves to the function that undoes it. Throws when that is impossible. */
export async function claimLocalRange(cidr: string): Promise<() => Promise<void>> {
  if (isLoopbackCidr(cidr)) return async () => {};
  if (process.getuid?.() !== 0)
    throw new Error(
      `the service range ${cidr} is outside 127.0.0.0/8: making it local to this machine needs root (or use --service-cidr 127.10.0.0/16)`,
    );
  const listed = await ip(["-4", "route", "show", "table", "local", "type", "local", "dev", "lo"]);
  for (const m of listed.matchAll(/^local (\S+) .*metric (\d+)/gm)) {
    const pid = Number(m[2]);
    if (pid > 1 && pid !== process.pid && !processAlive(pid))
      await ip(["route", "del", "local", m[1]!, "dev", "lo", "table", "local", "metric", String(pid)]).catch(() => {});
  }
  const network = `${intToIp(parseCidr(cidr).first - 2)}/${cidr.split("/")[1]}`;
  const route = ["local", network, "dev", "lo", "table", "local", "metric", String(process.pid)];
  await ip(["route", "replace", ...route]);
  return () =>
    ip(["route", "del", ...route]).then(
      () => {},
      () => {},
    );
}
