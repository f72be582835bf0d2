// A clock a test moves on by hand (src/client/clock.ts). By default it is real time plus every step
// taken so far: a step fires at once the timers it passes over, and the rest fire as real time
// reaches them, so a cluster's retries and back-offs still run while the test is not stepping.
// Started at a given time it stands still but for the steps (upstream's fake clock), for unit tests.
import type { Clock } from "../../src/client/index.ts";
import { type Truthy, waitFor } from "./wait.ts";

export class FakeClock implements Clock {
  private offset = 0;
  private readonly timers = new Set<{ at: number; fire: () => void }>();

  /** `frozenAt`: the time it starts at and keeps but for steps; else it follows real time. */
  constructor(private readonly frozenAt?: number) {}

  now(): number {
    return (this.frozenAt ?? Date.now()) + this.offset;
  }

  after(ms: number, fn: () => void): () => void {
    const timer = {
      at: this.now() + ms,
      fire: () => {
        cancel();
        fn();
      },
    };
    const real = this.frozenAt === undefined ? setTimeout(timer.fire, ms) : undefined;
    const cancel = () => {
      clearTimeout(real);
      this.timers.delete(timer);
    };
    this.timers.add(timer);
    return cancel;
  }

  every(ms: number, fn: () => void): () => void {
    let cancel = () => {};
    const schedule = () => {
      cancel = this.after(ms, () => {
        schedule();
        fn();
      });
    };
    schedule();
    return () => cancel();
  }

  /** Moves time on by ms; the timers now due fire, earliest first. */
  step(ms: number): void {
    this.offset += ms;
    const due = [...this.timers].filter((t) => t.at <= this.now()).sort((a, b) => a.at - b.at);
    for (const t of due) t.fire();
  }

  /** Timers waiting to fire. */
  waiting(): number {
    return this.timers.size;
  }
}

/**
 * A node grace period for clusters whose controllers' clock a test steps minutes ahead while the
 * kubelets renew their Leases in real time: longer than the steps, so node-lifecycle does not read
 * them as a silent node (and taint it) in tests where node health is not what is tested.
 */
export const STEPPED_GRACE_MS = 3_600_000;

/** waitFor (./wait.ts) that moves `clock` on by `stepMs` before each look: time passes while the test waits. */
export function waitStepping<T>(
  clock: FakeClock,
  stepMs: number,
  what: string,
  check: () => T | Promise<T>,
  timeoutMs?: number,
  intervalMs?: number,
): Promise<Truthy<T>> {
  const look = () => {
    clock.step(stepMs);
    return check();
  };
  return waitFor(what, look, timeoutMs, intervalMs);
}
