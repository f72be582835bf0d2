// Pod Security Admission on pod updates, as upstream: an update that changes what the checks see
// (an image, an ephemeral container) is checked against the namespace's enforce level again;
// metadata and status updates are not.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestApi, type TestApi } from "../helpers/api.ts";
import { significantPodUpdate } from "../../src/components/apiserver/pod-security.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

const ns = (enforce: string) => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name: "psa-up", labels: { "pod-security.kubernetes.io/enforce": enforce } },
});

test("a significant update of a pod that violates the namespace's enforce level is refused; others pass", async () => {
  expect((await api.json("POST", "/api/v1/namespaces", ns("baseline"))).status).toBe(201);
  const created = await api.json("POST", "/api/v1/namespaces/psa-up/pods", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "plain" },
    spec: { containers: [{ name: "c", image: "busybox" }] },
  });
  expect(created.status).toBe(201);
  // The namespace becomes restricted: the existing pod now violates it.
  expect((await api.json("PUT", "/api/v1/namespaces/psa-up", ns("restricted"))).status).toBe(200);
  const patch = (body: unknown) =>
    api.json("PATCH", "/api/v1/namespaces/psa-up/pods/plain", body, {
      "content-type": "application/strategic-merge-patch+json",
    });
  // Metadata only: allowed.
  expect((await patch({ metadata: { labels: { a: "b" } } })).status).toBe(200);
  // A new image: checked again, and refused with upstream's message.
  const refused = await patch({ spec: { containers: [{ name: "c", image: "busybox:1.36" }] } });
  expect(refused.status).toBe(403);
  expect(refused.body.message).toStartWith(
    'pods "plain" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false',
  );
});

test("significantPodUpdate follows upstream: image, seccomp annotations, container counts, ephemeral containers", () => {
  const pod = (extra: Record<string, unknown> = {}, annotations: Record<string, string> = {}) => ({
    metadata: { annotations },
    spec: { containers: [{ name: "c", image: "a" }], ...extra },
  });
  expect(significantPodUpdate(pod(), pod())).toBe(false);
  expect(significantPodUpdate(pod({ containers: [{ name: "c", image: "b" }] }), pod())).toBe(true);
  expect(significantPodUpdate(pod({ initContainers: [{ name: "i", image: "a" }] }), pod())).toBe(true);
  expect(significantPodUpdate(pod({ ephemeralContainers: [{ name: "debug", image: "a" }] }), pod())).toBe(true);
  const withDebug = pod({ ephemeralContainers: [{ name: "debug", image: "a" }] });
  expect(significantPodUpdate(withDebug, withDebug)).toBe(false);
  expect(
    significantPodUpdate(pod({}, { "container.seccomp.security.alpha.kubernetes.io/c": "unconfined" }), pod()),
  ).toBe(true);
  expect(significantPodUpdate(pod({}, { other: "x" }), pod())).toBe(false);
});
