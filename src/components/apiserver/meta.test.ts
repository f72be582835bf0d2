// sameContent (an update that changes nothing is not written) says what comparing the two objects'
// JSON with sorted keys says, with metadata.resourceVersion left out, for any JSON objects.
import { expect, test } from "bun:test";
import fc from "fast-check";
import type { KubeObject } from "../../api/types.ts";
import { sameContent } from "./meta.ts";

/** The reference: key-sorted JSON, undefined members left out, the top-level metadata without resourceVersion. */
function sortedJson(v: unknown, top = false): string {
  if (Array.isArray(v)) return `[${v.map((x) => sortedJson(x)).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys
      .map((k) => {
        let val = o[k];
        if (top && k === "metadata" && val && typeof val === "object") {
          const { resourceVersion: _rv, ...rest } = val as Record<string, unknown>;
          val = rest;
        }
        return `${JSON.stringify(k)}:${sortedJson(val)}`;
      })
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

/** The same value with every object's keys in another order (and, if asked, one leaf changed). */
function reorder(v: unknown, seed: number): unknown {
  if (Array.isArray(v)) return v.map((x, i) => reorder(x, seed + i));
  if (v && typeof v === "object") {
    const entries = Object.entries(v);
    if (seed % 2) entries.reverse();
    return Object.fromEntries(entries.map(([k, x], i) => [k, reorder(x, seed + i)]));
  }
  return v;
}

const object = fc.record({
  apiVersion: fc.constantFrom("v1", "apps/v1"),
  kind: fc.constantFrom("Pod", "Lease"),
  metadata: fc.record(
    {
      name: fc.string({ maxLength: 4 }),
      resourceVersion: fc.constantFrom("1", "2"),
      labels: fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), { maxKeys: 3 }),
      generation: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
    },
    { requiredKeys: ["name"] },
  ),
  spec: fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }),
  status: fc.option(fc.dictionary(fc.string({ maxLength: 3 }), fc.jsonValue({ maxDepth: 2 })), { nil: undefined }),
}) as fc.Arbitrary<KubeObject>;

test("sameContent agrees with comparing key-sorted JSON without resourceVersion", () => {
  fc.assert(
    fc.property(object, object, fc.nat(), (a, b, seed) => {
      const again = reorder(a, seed) as KubeObject;
      expect(sameContent(a, again)).toBe(true);
      expect(sameContent(a, b)).toBe(sortedJson(a, true) === sortedJson(b, true));
      // Same content but for one member: a different resourceVersion alone still counts as the same.
      const meta = { ...again.metadata, resourceVersion: "other" };
      expect(sameContent(a, { ...again, metadata: meta })).toBe(true);
      expect(sameContent(a, { ...again, kind: `${a.kind}x` })).toBe(false);
      // A member only one side has, either way round, at the top or inside.
      expect(sameContent(a, { ...again, extra: 1 } as KubeObject)).toBe(false);
      expect(sameContent({ ...again, extra: 1 } as KubeObject, a)).toBe(false);
      expect(sameContent(a, { ...again, metadata: { ...meta, uid: "u" } })).toBe(false);
      expect(sameContent(a, { ...again, metadata: { ...meta, name: `${a.metadata?.name}x` } })).toBe(false);
    }),
    { numRuns: 300 },
  );
});

test("sameContent: an undefined member is absent, null is not, arrays keep their order", () => {
  const base = { apiVersion: "v1", kind: "Pod", metadata: { name: "p" } } as KubeObject;
  expect(sameContent({ ...base, spec: undefined } as KubeObject, base)).toBe(true);
  expect(sameContent({ ...base, spec: null } as unknown as KubeObject, base)).toBe(false);
  expect(
    sameContent({ ...base, spec: { a: [1, 2] } } as KubeObject, { ...base, spec: { a: [2, 1] } } as KubeObject),
  ).toBe(false);
  expect(sameContent({ ...base, spec: { a: [] } } as KubeObject, { ...base, spec: { a: {} } } as KubeObject)).toBe(
    false,
  );
});
