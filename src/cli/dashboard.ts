// `kube dashboard`: prints the web dashboard's URL with a one-time login link (a code the API
// server exchanges once, within a minute, for this kubeconfig's token: the token itself is never
// in a URL) and opens a browser when the machine has one.
import type { CAC } from "cac";
import { apiErrorFrom } from "../client/index.ts";
import { cliContext, withGlobals, type GlobalOptions } from "./context.ts";
import { action, CliError } from "./fail.ts";

export function registerDashboard(cli: CAC): void {
  withGlobals(cli.command("dashboard", "Print (and open) the web dashboard's one-time login link"))
    .option("--no-browser", "Only print the link")
    .action(
      action(async (opts: GlobalOptions & { browser?: boolean }) => {
        const { client, server, creds } = cliContext(opts);
        if (!creds.token) throw new CliError("the kubeconfig has no bearer token to log in with");
        const res = await client.request("POST", "/ui/login-code", { body: {} });
        if (!res.ok) throw await apiErrorFrom(res);
        const { code, expiresInSeconds } = (await res.json()) as { code: string; expiresInSeconds: number };
        const url = `${server}/ui/#code=${code}`;
        console.log(`Dashboard: ${server}/ui/`);
        console.log(`One-time login link (valid ${expiresInSeconds}s, works once): ${url}`);
        if (server.startsWith("https:"))
          console.log("The server's certificate is signed by the cluster's own CA: the browser asks to trust it.");
        if (opts.browser !== false) openBrowser(url);
      }),
    );
}

/** xdg-open (or open on macOS) when present; no browser is not an error. */
function openBrowser(url: string): void {
  const opener = process.platform === "darwin" ? Bun.which("open") : Bun.which("xdg-open");
  if (!opener || (process.platform === "linux" && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY)) return;
  try {
    const p = Bun.spawn([opener, url], { stdio: ["ignore", "ignore", "ignore"] });
    p.unref();
  } catch {
    // A broken opener leaves the printed link.
  }
}
