// volumeMount subPath and configMap/secret item paths must stay inside their volume: an absolute
// path or a `..` element is refused at validation with upstream's messages.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { pod, startTestApi, type TestApi } from "../helpers/api.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

const withMount = (name: string, subPath: string) => {
  const p = pod(name);
  p.spec.volumes = [
    { name: "v", emptyDir: {} },
    { name: "cm", configMap: { name: "x", items: [{ key: "k", path: subPath }] } },
  ];
  p.spec.containers[0].volumeMounts = [{ name: "v", mountPath: "/v", subPath }];
  return api.json("POST", "/api/v1/namespaces/default/pods", p);
};

test("a subPath with '..' or an absolute subPath is invalid, naming the field", async () => {
  const up = await withMount("up", "a/../../etc");
  expect(up.status).toBe(422);
  expect(up.body.message).toBe(
    `Pod "up" is invalid: [spec.volumes[1].configMap.items[0].path: Invalid value: "a/../../etc": must not ` +
      `contain '..', spec.containers[0].volumeMounts[0].subPath: Invalid value: "a/../../etc": must not ` +
      `contain '..']`,
  );
  const abs = await withMount("abs", "/etc");
  expect(abs.status).toBe(422);
  expect(abs.body.details.causes).toContainEqual({
    reason: "FieldValueInvalid",
    field: "spec.containers[0].volumeMounts[0].subPath",
    message: 'Invalid value: "/etc": must be a relative path',
  });
  const fine = await withMount("fine", "a/b..c/d");
  expect(fine.status).toBe(201);
});
