// A clock, as k8s.io/utils/clock: controllers and work queues read the time and set their timers
// through one, so a test can move time on by hand (test/helpers/clock.ts) instead of waiting.

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls fn once, ms from now; the returned function cancels it. */
  after(ms: number, fn: () => void): () => void;
  /** Calls fn every ms; the returned function stops it. */
  every(ms: number, fn: () => void): () => void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
  every(ms, fn) {
    const t = setInterval(fn, ms);
    return () => clearInterval(t);
  },
};
