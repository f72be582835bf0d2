// `kube version` (client and, when reachable, server) and `kube api-resources`.
import type { CAC } from "cac";
import { allKinds, apiVersionOf } from "../api/registry.ts";
import { cliContext, withGlobals, type GlobalOptions } from "./context.ts";
import { action } from "./fail.ts";
import { formatTable } from "./printers.ts";
import { VERSION } from "./version.ts";

export function registerInfo(cli: CAC): void {
  withGlobals(cli.command("version", "Print the client and server versions"))
    .option("--client", "Only the client version")
    .action(
      action(async (opts: GlobalOptions & { client?: boolean }) => {
        console.log(`Client Version: kube ${VERSION}`);
        if (opts.client) return;
        const { client } = cliContext(opts);
        const res = await client.request("GET", "/version");
        const v = (await res.json()) as { gitVersion?: string };
        console.log(`Server Version: ${v.gitVersion}`);
      }),
    );
  cli.command("api-resources", "List the resource types the server serves").action(
    action(() => {
      const rows = allKinds().map((k) => [
        k.resource,
        k.shortNames.join(","),
        apiVersionOf(k),
        String(k.namespaced),
        k.kind,
      ]);
      console.log(formatTable(["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"], rows));
    }),
  );
}
