// Turning any error into the CLI's contract: one clear line on stderr and exit code 1, never a stack trace.

export class CliError extends Error {
  override name = "CliError";
}

/** The one-line message for an error: a Status message from the server, a CliError, or the error's own message. */
export function errorLine(err: unknown): string {
  if (err instanceof Error) {
    const status = (err as { status?: { message?: string } }).status;
    const message = status?.message ?? err.message;
    const code = (err as { code?: string }).code;
    if (code === "ECONNREFUSED" || /Unable to connect|ConnectionRefused/i.test(message))
      return `error: the server is not reachable (${message}); is \`kube up\` running?`;
    return message.startsWith("error:") ? message : `error: ${message}`;
  }
  return `error: ${String(err)}`;
}

export function exitWithError(err: unknown): never {
  if (process.env.KUBE_DEBUG && err instanceof Error) console.error(err.stack);
  console.error(errorLine(err).split("\n")[0]);
  process.exit(1);
}

/** Wraps a command action so that every failure ends the same way. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void) {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      exitWithError(err);
    }
  };
}
