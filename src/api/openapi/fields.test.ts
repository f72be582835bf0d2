import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { BUILTIN_DEFINITIONS } from "./definitions.ts";
import { pruneUnknown, scanJsonKeys } from "./fields.ts";

describe("scanJsonKeys", () => {
  test("finds no duplicate in any JSON.stringify output, and every key path in order", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(scanJsonKeys(JSON.stringify(value)).duplicates).toEqual([]);
      }),
    );
  });

  test("a repeated key is found at its path, inside arrays and nested objects, escapes included", () => {
    const text = '{"a":{"b":[1,{"c":"}","c":2}],"b":"x"},"\\u0064":1,"d":2}';
    expect(scanJsonKeys(text).duplicates.map((d) => d.path)).toEqual(["a.b[1].c", "a.b", "d"]);
    const order = scanJsonKeys('{"z":1,"a":{"y":[{"x":1}]},"z":2}').firstAt;
    expect([...order.keys()]).toEqual(["z", "a", "a.y", "a.y[0].x"]);
  });
});

describe("pruneUnknown", () => {
  const widget = {
    type: "object",
    properties: {
      spec: {
        type: "object",
        properties: {
          template: {
            type: "object",
            "x-kubernetes-embedded-resource": true,
            properties: { spec: { type: "object", properties: { a: { type: "string" } } } },
          },
          labels: { type: "object", additionalProperties: { type: "string" } },
          free: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        },
      },
    },
  };

  test("drops and reports unknown fields; maps, preserved and embedded-resource fields stay", () => {
    const obj = {
      spec: {
        template: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", bogus: 1 }, spec: { a: "1", b: 2 } },
        labels: { any: "thing" },
        free: { deep: { er: 1 } },
        extra: true,
      },
    };
    expect(pruneUnknown(BUILTIN_DEFINITIONS, widget, obj)).toEqual([
      "spec.template.metadata.bogus",
      "spec.template.spec.b",
      "spec.extra",
    ]);
    expect(obj.spec).toEqual({
      template: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" }, spec: { a: "1" } },
      labels: { any: "thing" },
      free: { deep: { er: 1 } },
    } as never);
  });

  test("a built-in Pod: list items, int-or-string and quantities are known, a typo is not", () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", labels: { a: "b" }, managedFields: [{ fieldsV1: { "f:spec": {} } }] },
      spec: {
        containers: [
          {
            name: "c",
            ports: [{ containerPort: 80 }],
            resources: { limits: { cpu: "1" } },
            readinessProbe: { httpGet: { port: "http" }, grpc: { port: 1 } },
            imagePullPolcy: "x",
          },
        ],
      },
    };
    expect(pruneUnknown(BUILTIN_DEFINITIONS, BUILTIN_DEFINITIONS["io.k8s.api.core.v1.Pod"], pod)).toEqual([
      "spec.containers[0].imagePullPolcy",
    ]);
  });
});
