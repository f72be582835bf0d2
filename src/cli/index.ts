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
  cli.on("command:*", () => exitWithError(new CliError(`unknown command "${cli.args[0]}"; see \`kube --help\``)));
  try {
    cli.parse(argv, { run: false });
    if (!cli.matchedCommand && cli.args.length === 0 && !cli.options.help && !cli.options.version) {
      cli.outputHelp();
      return;
    }
    await cli.runMatchedCommand();
  } catch (err) {
    // cac throws CACError for unknown options and missing arguments.
    exitWithError(err);
  }
}
