// Label and field selectors, table-driven: what each selector string selects.
import { describe, expect, test } from "bun:test";
import {
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  requirementsOf,
  selectorMatches,
  selectorToString,
  SelectorError,
} from "./selectors.ts";

const labels = { app: "web", tier: "front", track: "stable" };

describe("label selectors", () => {
  const cases: [string, string, boolean][] = [
    ["an empty selector selects everything", "", true],
    ["equality matches the value", "app=web", true],
    ["== is the same as =", "app==web", true],
    ["equality with another value does not match", "app=db", false],
    ["!= matches a different value", "app!=db", true],
    ["!= matches an absent key", "zone!=a", true],
    ["in matches one of the values", "tier in (front,back)", true],
    ["in does not match an absent key", "zone in (a)", false],
    ["notin excludes the values", "track notin (canary)", true],
    ["notin matches an absent key", "zone notin (a)", true],
    ["a bare key requires the label", "tier", true],
    ["!key requires its absence", "!tier", false],
    ["terms are ANDed", "app=web,track=canary", false],
    ["spaces around operators are allowed", "app = web, tier in ( front )", true],
  ];
  for (const [name, sel, want] of cases)
    test(name, () => expect(matchesLabels(parseLabelSelector(sel), labels)).toBe(want));

  test("malformed selectors are SelectorErrors naming the term", () => {
    for (const bad of ["app=we b", "in (a)", "=x", "Bad Key=x"])
      expect(() => parseLabelSelector(bad)).toThrow(SelectorError);
  });

  test("LabelSelector objects and plain maps select like their strings", () => {
    const sel = {
      matchLabels: { app: "web" },
      matchExpressions: [
        { key: "track", operator: "NotIn", values: ["canary"] },
        { key: "tier", operator: "Exists" },
      ],
    };
    expect(selectorMatches(sel, labels)).toBe(true);
    expect(selectorToString(sel)).toBe("app=web,track notin (canary),tier");
    expect(selectorMatches({ app: "web", tier: "back" }, labels)).toBe(false);
    expect(selectorMatches(undefined, labels)).toBe(false);
    expect(selectorMatches({}, labels)).toBe(true);
    expect(() => requirementsOf({ matchExpressions: [{ key: "a", operator: "Near" }] })).toThrow(SelectorError);
  });
});

describe("field selectors", () => {
  test("terms parse into field, operator and value", () => {
    expect(parseFieldSelector("metadata.name=x,spec.nodeName!=n1,status.phase==Running")).toEqual([
      { field: "metadata.name", op: "=", value: "x" },
      { field: "spec.nodeName", op: "!=", value: "n1" },
      { field: "status.phase", op: "=", value: "Running" },
    ]);
    expect(parseFieldSelector("spec.nodeName=")).toEqual([{ field: "spec.nodeName", op: "=", value: "" }]);
    expect(() => parseFieldSelector("nonsense")).toThrow(SelectorError);
  });
});
