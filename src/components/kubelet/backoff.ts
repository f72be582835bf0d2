// Kubernetes' container restart back-off: 10 s doubling to 5 min, forgotten after a container
// has run for 10 min. Keyed by pod uid + container name; pure, with the clock passed in.

export const INITIAL_BACKOFF_MS = 10_000;
export const MAX_BACKOFF_MS = 300_000;
export const RESET_AFTER_MS = 600_000;

interface Entry {
  delayMs: number;
  /** When the last restart was allowed to happen. */
  lastRestartAt: number;
}

export class RestartBackoff {
  private entries = new Map<string, Entry>();

  constructor(
    private readonly initialMs = INITIAL_BACKOFF_MS,
    private readonly maxMs = MAX_BACKOFF_MS,
    private readonly resetAfterMs = RESET_AFTER_MS,
  ) {}

  /**
   * How long to wait before restarting a container that exited at `finishedAt` after running
   * `ranForMs`. 0 means restart now.
   */
  remaining(key: string, now: number, finishedAt: number, ranForMs: number): number {
    const entry = this.entries.get(key);
    if (!entry || ranForMs >= this.resetAfterMs) return 0;
    return Math.max(0, finishedAt + entry.delayMs - now);
  }

  /** Records a restart: the next back-off doubles, up to the cap. */
  restarted(key: string, now: number, ranForMs: number): void {
    const entry = this.entries.get(key);
    if (!entry || ranForMs >= this.resetAfterMs) {
      this.entries.set(key, { delayMs: this.initialMs, lastRestartAt: now });
      return;
    }
    entry.delayMs = Math.min(entry.delayMs * 2, this.maxMs);
    entry.lastRestartAt = now;
  }

  /** Current delay for a key, for messages ("back-off 20s restarting failed container"). */
  delay(key: string): number {
    return this.entries.get(key)?.delayMs ?? 0;
  }

  forget(prefix: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
  }
}
