// Kubernetes' naming and value rules, table-driven, with the messages Kubernetes gives.
import { describe, expect, test } from "bun:test";
import {
  Causes,
  dns1123Label,
  dns1123Subdomain,
  intOrPercent,
  intOrPortName,
  labels,
  objectMeta,
  port,
  qualifiedName,
} from "./validation.ts";
import { cpuMillis, formatBytes, isValidQuantity, memoryBytes, parseQuantity } from "./quantity.ts";

const run = (f: (c: Causes) => void) => {
  const c = new Causes();
  f(c);
  return c.list;
};

describe("names", () => {
  const cases: [string, (c: Causes) => void, boolean][] = [
    ["a DNS label of lower-case letters, digits and dashes is valid", (c) => dns1123Label(c, "f", "web-1"), true],
    ["a DNS label may not start with a dash", (c) => dns1123Label(c, "f", "-web"), false],
    ["a DNS label may not contain dots", (c) => dns1123Label(c, "f", "a.b"), false],
    ["a DNS label longer than 63 characters is invalid", (c) => dns1123Label(c, "f", "a".repeat(64)), false],
    ["a subdomain may contain dots", (c) => dns1123Subdomain(c, "f", "a.b.c"), true],
    ["a subdomain may not contain upper case", (c) => dns1123Subdomain(c, "f", "Web"), false],
    ["a qualified label key may have a DNS prefix", (c) => qualifiedName(c, "f", "example.com/app"), true],
    ["a label key with two slashes is invalid", (c) => qualifiedName(c, "f", "a/b/c"), false],
    ["label values may be empty", (c) => labels(c, "f", { a: "" }), true],
    ["label values may not contain spaces", (c) => labels(c, "f", { a: "b c" }), false],
    ["ports are 1 to 65535", (c) => port(c, "f", 65535), true],
    ["port 0 is invalid", (c) => port(c, "f", 0), false],
    ["a target port may be an IANA name", (c) => intOrPortName(c, "f", "http"), true],
    ["an IANA port name needs a letter", (c) => intOrPortName(c, "f", "80-80"), false],
    ["maxSurge may be a percentage", (c) => intOrPercent(c, "f", "25%"), true],
    ["maxSurge may not be a bare string", (c) => intOrPercent(c, "f", "lots"), false],
  ];
  for (const [name, f, valid] of cases) test(name, () => expect(run(f).length === 0).toBe(valid));

  test("a missing name without generateName is Required, with Kubernetes' field path", () => {
    expect(run((c) => objectMeta(c, { metadata: {} }))).toEqual([
      {
        reason: "FieldValueRequired",
        field: "metadata.name",
        message: "Required value: name or generateName is required",
      },
    ]);
  });
});

describe("quantities", () => {
  const cases: [string, number][] = [
    ["100m", 0.1],
    ["1", 1],
    ["1.5", 1.5],
    ["1Gi", 2 ** 30],
    ["512Mi", 512 * 2 ** 20],
    ["2k", 2000],
    ["1e3", 1000],
    ["1M", 1e6],
  ];
  for (const [q, want] of cases) test(`${q} is ${want}`, () => expect(parseQuantity(q)).toBeCloseTo(want, 9));
  test("cpu rounds up to millicores, memory to bytes; bad quantities are rejected", () => {
    expect(cpuMillis("0.0001")).toBe(1);
    expect(cpuMillis("250m")).toBe(250);
    expect(memoryBytes("1Ki")).toBe(1024);
    expect(formatBytes(128 * 2 ** 20)).toBe("128Mi");
    expect(isValidQuantity("1Gb")).toBe(false);
    expect(isValidQuantity("abc")).toBe(false);
  });
});
