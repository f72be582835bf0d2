// Builds the kube command line (cac) and runs it; each command lives in its own file.
import { cac } from "cac";
import { exitWithError, CliError } from "./fail.ts";
import { registerUp } from "./up.ts";
import { VERSION } from "./version.ts";

export async function runCli(argv: string[]): Promise<void> {
  const cli = cac("kube");
  registerUp(cli);
  cli.command("version", "Print the kube version").action(() => console.log(`kube ${VERSION}`));
  cli.help();
  cli.version(VERSION);
  try {
    cli.parse(argv, { run: false });
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
