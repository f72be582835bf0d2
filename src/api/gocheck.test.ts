// The Go-type check's answers: types, nulls, and the depth limit wherever the deep value sits.
import { expect, test } from "bun:test";
import { goDecode, MAX_DEPTH } from "./gocheck.ts";

const nested = (levels: number) => {
  let v: Record<string, unknown> = {};
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
};
const message = (f: () => void) => {
  try {
    f();
    return "";
  } catch (err) {
    return (err as Error).message;
  }
};

test("a value nested past Go's depth is refused in an unknown field, in raw JSON and in a kind without Go types", () => {
  const deep = nested(MAX_DEPTH + 5);
  expect(message(() => goDecode("/v1/ConfigMap", { metadata: { name: "x" }, x: deep }))).toBe(
    "json: exceeded max depth",
  );
  expect(
    message(() => goDecode("apps/v1/ControllerRevision", { metadata: { name: "x" }, revision: 1, data: deep })),
  ).toBe("json: exceeded max depth");
  expect(message(() => goDecode("example.com/v1/Widget", { spec: deep }))).toBe("json: exceeded max depth");
  expect(message(() => goDecode("/v1/ConfigMap", { metadata: { name: "x" }, x: nested(100) }))).toBe("");
});

test("a wrong type is named with its struct and field path, a null becomes Go's zero value", () => {
  expect(
    message(() =>
      goDecode("/v1/Pod", { spec: { containers: [{ name: "c", resources: { limits: { cpu: "x" } }, ports: "80" }] } }),
    ),
  ).toBe("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  expect(message(() => goDecode("/v1/Pod", { spec: { containers: [{ name: "c", ports: "80" }] } }))).toBe(
    "json: cannot unmarshal string into Go struct field Container.spec.containers.ports of type []v1.ContainerPort",
  );
  expect(message(() => goDecode("/v1/Pod", { spec: { containers: [{ name: 5 }] } }))).toBe(
    "json: cannot unmarshal number 5 into Go struct field Container.spec.containers.name of type string",
  );
  const pod = { spec: { containers: [null, { name: "c", args: null }] } };
  goDecode("/v1/Pod", pod);
  expect(pod).toEqual({ spec: { containers: [{}, { name: "c" }] } } as never);
});
