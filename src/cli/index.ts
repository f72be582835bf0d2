// Builds the kube command line (cac) and runs it; each command lives in its own file.
import { cac } from "cac";
import { exitWithError, CliError } from "./fail.ts";
import { registerUp } from "./up.ts";
import { registerGet } from "./get.ts";
import { registerApply } from "./apply.ts";
import { registerWorkloads } from "./workloads.ts";
import { registerInspect } from "./inspect.ts";
import { registerExec } from "./exec.ts";
import { registerPortForward } from "./port-forward.ts";
import { registerNodes } from "./nodes.ts";
import { registerRollout } from "./rollout.ts";
import { registerInfo } from "./info.ts";
import { registerDown } from "./down.ts";
import { registerSnapshot } from "./snapshot.ts";
import { registerDashboard } from "./dashboard.ts";
import { registerToken } from "./token.ts";
import { registerAgent } from "./agent.ts";
import { VERSION } from "./version.ts";

export async function runCli(argv: string[]): Promise<void> {
  const cli = cac("kube");
  registerUp(cli);
  registerAgent(cli);
  for (const register of [
    registerGet,
    registerApply,
    registerWorkloads,
    registerInspect,
    registerExec,
    registerPortForward,
    registerNodes,
    registerRollout,
    registerInfo,
    registerDown,
    registerSnapshot,
    registerDashboard,
    registerToken,
  ])
    register(cli);
  cli.help();
  cli.version(VERSION);
  try {
    // cac reads a lone "-" as a missing value; kubectl's `-f -` means stdin.
    const args = argv.map((a, i) => (a === "-" && ["-f", "--filename"].includes(argv[i - 1] ?? "") ? "/dev/stdin" : a));
    cli.parse(args, { run: false });
    if (!cli.matchedCommand) {
      if (cli.options.help || cli.options.version) return;
      if (cli.args.length > 0) throw new CliError(`unknown command "${cli.args[0]}"; see \`kube --help\``);
      cli.outputHelp();
      return;
    }
    await cli.runMatchedCommand();
  } catch (err) {
    // cac throws CACError for unknown options and missing arguments.
    exitWithError(err);
  }
}
