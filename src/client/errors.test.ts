import { describe, expect, test } from "bun:test";
import { ignore, isAlreadyExists, isConflict, isGone, isNotFound, isResourceExpired, statusFor } from "./errors.ts";
import { ApiError, type Status } from "./types.ts";

const err = (code: number, reason?: string) =>
  new ApiError(code, { ...statusFor(code, "some message"), reason } as Status);

describe("API error predicates", () => {
  test("decide by reason, so AlreadyExists is not a Conflict though both are 409", () => {
    expect(isAlreadyExists(err(409, "AlreadyExists"))).toBe(true);
    expect(isConflict(err(409, "AlreadyExists"))).toBe(false);
    expect(isConflict(err(409, "Conflict"))).toBe(true);
    expect(isAlreadyExists(err(409, "Conflict"))).toBe(false);
  });

  test("fall back to the code when the reason is missing or unknown", () => {
    expect(isNotFound(err(404))).toBe(true);
    expect(isNotFound(err(404, "SomethingNew"))).toBe(true);
    expect(isConflict(err(409, ""))).toBe(true);
    expect(isNotFound(err(500, "InternalError"))).toBe(false);
  });

  test("never read the message, and accept a watch's ERROR Status as well as an ApiError", () => {
    expect(isConflict(new Error("the object has been modified"))).toBe(false);
    expect(isNotFound("not found")).toBe(false);
    expect(isResourceExpired(statusFor(410, "too old resource version"))).toBe(true);
    expect(isGone({ ...statusFor(410, "gone"), reason: "Gone" })).toBe(true);
  });

  test("ignore swallows what it expects and rethrows the rest", async () => {
    expect(await Promise.reject(err(404, "NotFound")).catch(ignore(isNotFound))).toBeUndefined();
    expect(await Promise.reject(err(409, "Conflict")).catch(ignore(isNotFound, isConflict))).toBeUndefined();
    const other = err(403, "Forbidden");
    expect(
      await Promise.reject(other)
        .catch(ignore(isNotFound))
        .catch((e) => e),
    ).toBe(other);
  });
});
