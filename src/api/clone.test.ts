import { expect, test } from "bun:test";
import { cloneJson } from "./clone.ts";

test("a copy shares nothing with the original, frozen or not", () => {
  const pod = Object.freeze({
    metadata: Object.freeze({ name: "p", labels: Object.freeze({ app: "web" }) }),
    spec: { containers: [{ name: "c", ports: [{ containerPort: 80 }] }], nodeName: null },
    status: { phase: "Running", ready: true, restarts: 0, message: undefined },
  });
  const copy = cloneJson(pod) as { metadata: { labels: object }; spec: typeof pod.spec; status: object };
  expect(copy).toEqual(pod);
  expect(Object.isFrozen(copy) || Object.isFrozen(copy.metadata)).toBe(false);
  copy.metadata.labels = { app: "db" };
  copy.spec.containers[0]!.ports[0]!.containerPort = 8080;
  expect(pod.metadata.labels.app).toBe("web");
  expect(pod.spec.containers[0]!.ports[0]!.containerPort).toBe(80);
  expect("message" in copy.status).toBe(true); // as structuredClone keeps an undefined member
  expect(cloneJson([1, "a", null, [2]])).toEqual([1, "a", null, [2]]);
  expect(cloneJson("text")).toBe("text");
  expect(cloneJson(undefined)).toBeUndefined();
});

test('an own "__proto__" key stays an own property, never the copy\'s prototype', () => {
  const parsed = JSON.parse('{"a":{"__proto__":{"polluted":true},"b":1}}');
  const copy = cloneJson(parsed);
  expect(Object.getPrototypeOf(copy.a)).toBe(Object.prototype);
  expect(copy.a.polluted).toBeUndefined();
  expect(Object.keys(copy.a)).toEqual(["__proto__", "b"]);
  expect(JSON.stringify(copy)).toBe(JSON.stringify(parsed));
});
