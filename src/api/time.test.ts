// The wire formats of time, whatever form the moment is given in.
import { expect, test } from "bun:test";
import { rfc3339 } from "./time.ts";

test("rfc3339 writes whole seconds in UTC for a Date, a number, a string and now", () => {
  expect(rfc3339(Date.UTC(2024, 4, 1, 10, 0, 0, 999))).toBe("2024-05-01T10:00:00Z");
  expect(rfc3339(Date.UTC(2024, 4, 1, 10, 0, 1, 0))).toBe("2024-05-01T10:00:01Z");
  expect(rfc3339(Date.UTC(2024, 4, 1, 10, 0, 0, 1))).toBe("2024-05-01T10:00:00Z");
  expect(rfc3339(-1)).toBe("1969-12-31T23:59:59Z");
  expect(rfc3339(new Date("2024-05-01T10:00:00.5Z"))).toBe("2024-05-01T10:00:00Z");
  expect(rfc3339("2024-05-01T12:00:00+02:00")).toBe("2024-05-01T10:00:00Z");
  const before = Math.floor(Date.now() / 1000) * 1000;
  const now = Date.parse(rfc3339());
  expect(now).toBeGreaterThanOrEqual(before);
  expect(now).toBeLessThanOrEqual(Date.now());
  expect(() => rfc3339(Number.POSITIVE_INFINITY)).toThrow(RangeError);
});
