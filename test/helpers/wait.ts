// The one way tests wait (never a fixed sleep): polls `check` until it returns something truthy
// (so `false`, `undefined`, `null`, `0` and "" all mean "not yet"; return an object to wait for a
// value that may be falsy), and returns that value. A check that throws counts as "not yet"; at the
// deadline it fails naming what was awaited and the last error.

/** What a truthy check returns: its type without the values that mean "not yet". */
export type Truthy<T> = Exclude<T, false | 0 | "" | null | undefined>;

export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  intervalMs = 20,
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as Truthy<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ""}`,
      );
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
