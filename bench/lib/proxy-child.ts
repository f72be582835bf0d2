// The proxy in its own process, as in `kube up`: reads the data plane mode and its service table
// as JSON from argv and prints "ready <plane> <relay>" once the table is applied.
import { chooseDataPlane } from "../../src/components/proxy/index.ts";
import { NftTable } from "../../src/components/proxy/nftables.ts";
import { libc } from "../../src/components/proxy/splice-libc.ts";
import type { ServicePortSpec } from "../../src/components/proxy/table.ts";

const table = await chooseDataPlane(process.argv[2], () => {});
const errors = await table.sync(JSON.parse(process.argv[3]!) as ServicePortSpec[]);
if (errors.length) {
  console.error(JSON.stringify(errors));
  process.exit(1);
}
// The userspace plane relays TCP with splice(2) where libc is reachable, else with Bun's sockets.
console.log(`ready ${table instanceof NftTable ? "nftables" : "userspace"} ${libc() ? "splice" : "sockets"}`);
// The nftables plane keeps nothing open that holds the process: without this timer it exited at
// once and left its table (NAT hooks, so conntrack for every later loopback packet on the machine,
// the next bench's direct and userspace transfers included) for the next proxy to remove.
const alive = setInterval(() => {}, 1 << 30);
process.on("SIGTERM", async () => {
  clearInterval(alive);
  await table.closeAll();
  process.exit(0);
});
