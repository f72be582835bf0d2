// Tests of the patch engine's entry points: content types, body parsing, JSON merge
// patch and JSON patch with Kubernetes' error codes.
import { describe, expect, test } from "bun:test";
import { applyPatch, parsePatchBody, patchTypeFromContentType, PatchError, type PatchKind } from "./index.ts";

function codeOf(run: () => unknown): number | undefined {
  try {
    run();
  } catch (err) {
    if (err instanceof PatchError) return err.code;
    throw err;
  }
  return undefined;
}

describe("content types", () => {
  const cases: [string, PatchKind | undefined][] = [
    ["application/merge-patch+json", "merge"],
    ["application/json-patch+json", "json"],
    ["application/strategic-merge-patch+json", "strategic"],
    ["application/apply-patch+yaml", "apply"],
    ["application/strategic-merge-patch+json; charset=utf-8", "strategic"],
    ["Application/Merge-Patch+JSON", "merge"],
    ["application/json", undefined],
    ["application/apply-patch+json", undefined],
    ["", undefined],
  ];
  for (const [ct, want] of cases) {
    test(`"${ct}" is ${want ?? "not a patch type (415)"}`, () => expect(patchTypeFromContentType(ct)).toBe(want));
  }
});

describe("patch bodies", () => {
  test("a JSON body parses for every kind", () => {
    for (const kind of ["merge", "json", "strategic", "apply"] as const) {
      expect(parsePatchBody(kind, '{"spec":{"replicas":3}}')).toEqual({ spec: { replicas: 3 } });
    }
  });
  test("an apply body may be YAML", () => {
    expect(parsePatchBody("apply", 'apiVersion: v1\nkind: ConfigMap\ndata:\n  a: "1"\n')).toEqual({
      apiVersion: "v1",
      kind: "ConfigMap",
      data: { a: "1" },
    });
  });
  test("an apply body in YAML flow style that is not JSON still parses", () => {
    expect(parsePatchBody("apply", "{kind: Pod, metadata: {name: p}}")).toEqual({
      kind: "Pod",
      metadata: { name: "p" },
    });
  });
  test("invalid JSON is a bad request", () => {
    expect(codeOf(() => parsePatchBody("merge", "{nope"))).toBe(400);
    expect(codeOf(() => parsePatchBody("strategic", ""))).toBe(400);
  });
  test("invalid YAML is a bad request", () => {
    expect(codeOf(() => parsePatchBody("apply", "a: [1, 2\nb: }"))).toBe(400);
  });
});

interface Case {
  name: string;
  current: unknown;
  patch: unknown;
  want?: unknown;
  error?: number;
}

describe("JSON merge patch", () => {
  const cases: Case[] = [
    {
      name: "kubectl scale's patch sets spec.replicas",
      current: { spec: { replicas: 1, selector: { app: "x" } } },
      patch: { spec: { replicas: 3 } },
      want: { spec: { replicas: 3, selector: { app: "x" } } },
    },
    {
      name: "null deletes a member",
      current: { metadata: { labels: { a: "1", b: "2" } } },
      patch: { metadata: { labels: { a: null } } },
      want: { metadata: { labels: { b: "2" } } },
    },
    {
      name: "arrays are replaced, never merged",
      current: { spec: { containers: [{ name: "a" }, { name: "b" }] } },
      patch: { spec: { containers: [{ name: "c" }] } },
      want: { spec: { containers: [{ name: "c" }] } },
    },
    {
      name: "an object replaces a primitive and merges into nothing",
      current: { spec: "x" },
      patch: { spec: { a: { b: null, c: 1 } } },
      want: { spec: { a: { c: 1 } } },
    },
    {
      name: "strategic directives mean nothing to a merge patch",
      current: { spec: { containers: [{ name: "a" }] } },
      patch: { spec: { $patch: "delete" } },
      want: { spec: { containers: [{ name: "a" }], $patch: "delete" } },
    },
    { name: "a patch that is not an object is a bad request", current: {}, patch: [1], error: 400 },
  ];
  for (const tc of cases) {
    test(tc.name, () => {
      const before = structuredClone(tc.current);
      if (tc.error) expect(codeOf(() => applyPatch("Pod", tc.current, tc.patch, "merge"))).toBe(tc.error);
      else expect(applyPatch("Pod", tc.current, tc.patch, "merge")).toEqual(tc.want);
      expect(tc.current).toEqual(before);
    });
  }

  test("the result shares nothing with the current object", () => {
    const current = { metadata: { labels: { a: "1" } }, spec: { x: [1] } };
    const out = applyPatch("Pod", current, { status: {} }, "merge") as typeof current;
    out.metadata.labels.a = "2";
    out.spec.x.push(2);
    expect(current).toEqual({ metadata: { labels: { a: "1" } }, spec: { x: [1] } });
  });
});

describe("JSON patch", () => {
  const current = {
    metadata: { name: "p", labels: { a: "1" } },
    spec: { containers: [{ name: "c", image: "busybox" }] },
  };
  const cases: Case[] = [
    {
      name: "replace changes a value inside a list element",
      current,
      patch: [{ op: "replace", path: "/spec/containers/0/image", value: "nginx" }],
      want: { metadata: { name: "p", labels: { a: "1" } }, spec: { containers: [{ name: "c", image: "nginx" }] } },
    },
    {
      name: "add, remove and a passing test apply in order",
      current,
      patch: [
        { op: "test", path: "/metadata/labels/a", value: "1" },
        { op: "add", path: "/metadata/labels/b", value: "2" },
        { op: "remove", path: "/metadata/labels/a" },
        { op: "add", path: "/spec/containers/-", value: { name: "d" } },
      ],
      want: {
        metadata: { name: "p", labels: { b: "2" } },
        spec: { containers: [{ name: "c", image: "busybox" }, { name: "d" }] },
      },
    },
    {
      name: "a failed test is unprocessable and nothing is applied",
      current,
      patch: [
        { op: "add", path: "/metadata/labels/b", value: "2" },
        { op: "test", path: "/metadata/labels/a", value: "other" },
      ],
      error: 422,
    },
    {
      name: "removing a path that does not exist is unprocessable",
      current,
      patch: [{ op: "remove", path: "/metadata/annotations/x" }],
      error: 422,
    },
    {
      name: "replacing a path that does not exist is unprocessable",
      current,
      patch: [{ op: "replace", path: "/spec/nodeName", value: "n1" }],
      error: 422,
    },
    { name: "an unknown op is unprocessable", current, patch: [{ op: "frobnicate", path: "/a" }], error: 422 },
    { name: "a patch that is not a list is a bad request", current, patch: { op: "add" }, error: 400 },
    { name: "an operation that is not an object is a bad request", current, patch: ["add"], error: 400 },
    {
      name: "a __proto__ path is refused",
      current,
      patch: [{ op: "add", path: "/__proto__/polluted", value: true }],
      error: 422,
    },
  ];
  for (const tc of cases) {
    test(tc.name, () => {
      const before = structuredClone(tc.current);
      if (tc.error) expect(codeOf(() => applyPatch("Pod", tc.current, tc.patch, "json"))).toBe(tc.error);
      else expect(applyPatch("Pod", tc.current, tc.patch, "json")).toEqual(tc.want);
      expect(tc.current).toEqual(before);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  }

  test("a failed test says which path failed", () => {
    try {
      applyPatch("Pod", current, [{ op: "test", path: "/metadata/name", value: "q" }], "json");
      throw new Error("expected a PatchError");
    } catch (err) {
      expect((err as PatchError).message).toContain("/metadata/name");
    }
  });
});

describe("hostile patches", () => {
  const current = { metadata: { name: "p", labels: { a: "1" } }, spec: {} };
  const proto = JSON.parse('{"metadata":{"__proto__":{"polluted":true},"labels":{"b":"2"}}}');
  for (const kind of ["merge", "strategic", "apply"] as const) {
    test(`a ${kind} patch cannot set __proto__`, () => {
      const out = applyPatch("Pod", current, proto, kind, { fieldManager: "m" }) as Record<string, any>;
      expect(Object.getPrototypeOf(out.metadata)).toBe(Object.prototype);
      expect(out.metadata.polluted).toBeUndefined();
      expect(out.metadata.labels.b).toBe("2");
    });
  }

  test("a patch nested deeply enough to overflow the stack is unprocessable, not a crash", () => {
    let deep: Record<string, unknown> = {};
    const patch = deep;
    for (let i = 0; i < 200_000; i++) {
      const next: Record<string, unknown> = {};
      deep.a = next;
      deep = next;
    }
    const code = codeOf(() => applyPatch("Pod", current, patch, "strategic"));
    expect(code === undefined || code === 422).toBe(true);
  });
});
