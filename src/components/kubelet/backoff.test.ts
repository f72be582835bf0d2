import { describe, expect, test } from "bun:test";
import { RestartBackoff } from "./backoff.ts";

describe("restart back-off", () => {
  test("the first restart happens at once, later ones wait 10s doubling to 5 min", () => {
    const b = new RestartBackoff();
    const waits: number[] = [];
    let now = 0;
    for (let i = 0; i < 8; i++) {
      const wait = b.remaining("p/c", now, now, 1000);
      waits.push(wait);
      now += wait;
      b.restarted("p/c", now, 1000);
    }
    expect(waits).toEqual([0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  });

  test("a container that ran for 10 minutes starts over", () => {
    const b = new RestartBackoff();
    b.restarted("p/c", 0, 0);
    b.restarted("p/c", 10_000, 0);
    expect(b.delay("p/c")).toBe(20_000);
    expect(b.remaining("p/c", 700_000, 700_000, 600_000)).toBe(0);
    b.restarted("p/c", 700_000, 600_000);
    expect(b.delay("p/c")).toBe(10_000);
  });

  test("time already spent since the exit counts toward the wait", () => {
    const b = new RestartBackoff();
    b.restarted("p/c", 0, 0);
    expect(b.remaining("p/c", 4_000, 1_000, 1_000)).toBe(7_000);
  });

  test("forgetting a pod drops its containers' history", () => {
    const b = new RestartBackoff();
    b.restarted("uid1/a", 0, 0);
    b.restarted("uid2/a", 0, 0);
    b.forget("uid1/");
    expect(b.delay("uid1/a")).toBe(0);
    expect(b.delay("uid2/a")).toBe(10_000);
  });
});
