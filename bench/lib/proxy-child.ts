// The proxy in its own process, as in `kube up`: reads its service table as JSON from argv and
// prints "ready" once listening.
import { ProxyTable, type ServicePortSpec } from "../../src/components/proxy/table.ts";

const specs = JSON.parse(process.argv[2]!) as ServicePortSpec[];
const table = new ProxyTable();
const errors = await table.sync(specs);
if (errors.length) {
  console.error(JSON.stringify(errors));
  process.exit(1);
}
console.log("ready");
process.on("SIGTERM", async () => {
  await table.closeAll();
  process.exit(0);
});
