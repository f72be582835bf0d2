// kube up's JavaScriptCore heap sizing: the RAM JSC plans its own collections for.
import { totalmem } from "node:os";

/**
 * The RAM JSC is told the machine has when `kube up` runs: issue 20's budget for 100k pods.
 * JSC's growth rule depends on RAM: from 16 GB up a heap may grow by 2 x e^(-heap/RAM) of itself
 * before its next full collection (a 1.2 GB heap on a 24 GB machine nearly triples: 3.7 GB RSS
 * at 100k pods once kube's forced collections stopped); below 16 GB it may double while the
 * process holds under 80% of RAM, grow by half up to 90% and by a quarter beyond, and over 80%
 * every collection is a full one. Sized by 2 GB, JSC's concurrent collector keeps a 100k-pod heap
 * within it (1.8 GB peak), where kube's forced full collections (src/cli/gc.ts) paused the API
 * for 2-3 s each. (A fixed +25% growth on the real RAM held 1 GB but took a third more CPU.)
 */
export const HEAP_RAM_BYTES = 2 * 1024 ** 3;

type Execve = (file: string, args: string[], env: Record<string, string | undefined>) => never;

/**
 * Starts `kube up` again in place (execve: same pid, arguments and runtime flags) with
 * BUN_JSC_forceRAMSize set, which JSC reads only as the process starts. Does nothing under Node,
 * for other commands, or when the variable is set already (a user's own choice, or this restart).
 */
export function sizeHeapForUp(argv: string[]): void {
  if (typeof Bun === "undefined" || argv[2] !== "up" || process.env.BUN_JSC_forceRAMSize !== undefined) return;
  const execve = (process as { execve?: Execve }).execve;
  if (!execve) return;
  // A compiled binary's argv[1] is its embedded entry (/$bunfs/...), which the OS argv does not hold.
  const compiled = Bun.main.startsWith("/$bunfs/");
  const args = compiled
    ? [process.execPath, ...argv.slice(2)]
    : [process.execPath, ...process.execArgv, ...argv.slice(1)];
  const ram = String(Math.min(totalmem(), HEAP_RAM_BYTES));
  try {
    execve(process.execPath, args, { ...process.env, BUN_JSC_forceRAMSize: ram });
  } catch {
    // Not restarted: kube up runs on with JSC's own sizing.
  }
}
