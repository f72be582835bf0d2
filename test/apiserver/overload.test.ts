// Over real sockets: one service account floods with watches and requests; it meets its limits
// (429 with Retry-After) while the admin token is served as if nothing happened.
import { afterAll, expect, test } from "bun:test";
import { startTestApi, TEST_TOKEN } from "../helpers/api.ts";
import { waitFor } from "../helpers/wait.ts";

const api = await startTestApi();
const server = await api.listen({
  maxReadOnly: 8,
  maxMutating: 4,
  maxLongRunningPerClient: 5,
  queueLength: 2,
  queueWaitMs: 200,
});
afterAll(async () => {
  await server.stop();
  await api.close();
});
const get = (path: string, token: string, signal?: AbortSignal) =>
  fetch(`${server.url}${path}`, {
    headers: { authorization: `Bearer ${token}` },
    tls: { ca: server.ca },
    signal,
  } as RequestInit);

test("a flooding token gets 429s past its watch budget and its share; the admin is never refused", async () => {
  await api.json("POST", "/api/v1/namespaces/default/serviceaccounts", {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "flood" },
  });
  const { body } = await api.json("POST", "/api/v1/namespaces/default/serviceaccounts/flood/token", {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
    spec: {},
  });
  const flood = body.status.token as string;
  // Allowed to read, so that its requests reach the API (not a quick 403) and hold their budget.
  await api.json("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles", {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: { name: "read-configmaps" },
    rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch"] }],
  });
  await api.json("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name: "flood-read" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "read-configmaps" },
    subjects: [{ kind: "ServiceAccount", name: "flood", namespace: "default" }],
  });

  const stop = new AbortController();
  const watches = await Promise.all(
    Array.from({ length: 8 }, () => get("/api/v1/namespaces/default/configmaps?watch=true", flood, stop.signal)),
  );
  const codes = watches.map((r) => r.status);
  expect(codes.filter((c) => c === 429).length).toBe(3);
  const refused = watches.find((r) => r.status === 429)!;
  expect(refused.headers.get("retry-after")).toBe("1");
  expect(((await refused.json()) as { reason: string }).reason).toBe("TooManyRequests");

  // 200 parallel lists from the flooder while the admin lists too.
  const flooding = Promise.all(
    Array.from({ length: 200 }, () =>
      get("/api/v1/namespaces/default/configmaps", flood).then((r) => {
        r.body?.cancel();
        return r.status;
      }),
    ),
  );
  const admin = await Promise.all(
    Array.from({ length: 20 }, () => get("/api/v1/configmaps", TEST_TOKEN).then((r) => r.status)),
  );
  const adminWatches = await Promise.all(
    Array.from({ length: 8 }, () =>
      get("/api/v1/configmaps?watch=true", TEST_TOKEN, stop.signal).then((r) => r.status),
    ),
  );
  expect([...new Set([...admin, ...adminWatches])]).toEqual([200]);
  const floodCodes = await flooding;
  expect(floodCodes.every((c) => c !== 500)).toBe(true);
  stop.abort();

  // Closed watches give their budget back.
  await waitFor("a watch admitted again", async () => {
    const r = await get("/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1", flood);
    await r.body?.cancel();
    return r.status !== 429;
  });
});
