// What `kube up` and `kube agent` share as foreground processes: component logs on the console,
// and a clean stop on Ctrl-C or SIGTERM.

/** A component's log line on the console; `debug:` lines only at --log-level debug. */
export function consoleLog(debug: boolean): (component: string, message: string) => void {
  return (component, message) => {
    if (debug || !message.startsWith("debug:")) console.log(`[${component}] ${message}`);
  };
}

/** On the first SIGINT or SIGTERM: stop, then exit 0 (1 if stopping failed). */
export function stopOnSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    console.log("stopping...");
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}
