// Service account tokens: every built-in namespace has its `default` account; TokenRequest
// issues tokens that authenticate while the account (and the pod they are bound to) lives;
// forged, expired-too-soon and orphaned tokens are refused.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { pod, startTestApi, type TestApi } from "../helpers/api.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

const tokenFor = async (sa: string, spec: Record<string, unknown> = {}) =>
  api.json("POST", `/api/v1/namespaces/default/serviceaccounts/${sa}/token`, {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
    spec,
  });
// Discovery is open to every authenticated user (system:discovery): 200 means the token authenticates.
const as = (token: string) => api.request("GET", "/api/v1", undefined, { authorization: `Bearer ${token}` });

test("the built-in namespaces have a default service account", async () => {
  for (const ns of ["default", "kube-system", "kube-public", "kube-node-lease"])
    expect((await api.json("GET", `/api/v1/namespaces/${ns}/serviceaccounts/default`)).status).toBe(200);
});

test("a TokenRequest's token authenticates until its account is deleted", async () => {
  await api.json("POST", "/api/v1/namespaces/default/serviceaccounts", {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "robot" },
  });
  const { status, body } = await tokenFor("robot", { expirationSeconds: 3600 });
  expect(status).toBe(201);
  expect(body.kind).toBe("TokenRequest");
  expect(Date.parse(body.status.expirationTimestamp) - Date.now()).toBeGreaterThan(3500_000);
  const claims = JSON.parse(Buffer.from(body.status.token.split(".")[1], "base64url").toString());
  expect(claims.sub).toBe("system:serviceaccount:default:robot");
  expect((await as(body.status.token)).status).toBe(200);

  const [h, p, sig] = body.status.token.split(".");
  const forged = Buffer.from(JSON.stringify({ ...claims, sub: "system:serviceaccount:kube-system:admin" })).toString(
    "base64url",
  );
  expect((await as(`${h}.${forged}.${sig}`)).status).toBe(401);
  expect((await as(`${h}.${p}.${sig.slice(0, -2)}AA`)).status).toBe(401);

  await api.request("DELETE", "/api/v1/namespaces/default/serviceaccounts/robot");
  expect((await as(body.status.token)).status).toBe(401);
  await api.json("POST", "/api/v1/namespaces/default/serviceaccounts", {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "robot" },
  });
  // A new account of the same name is a different account.
  expect((await as(body.status.token)).status).toBe(401);
});

test("a token bound to a pod dies with the pod", async () => {
  const created = (await api.json("POST", "/api/v1/namespaces/default/pods", pod("bound"))).body;
  const { body } = await tokenFor("default", {
    boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "bound", uid: created.metadata.uid },
  });
  expect((await as(body.status.token)).status).toBe(200);
  await api.request("DELETE", "/api/v1/namespaces/default/pods/bound?gracePeriodSeconds=0");
  expect((await as(body.status.token)).status).toBe(401);
});

test("bad TokenRequests are refused with the right code", async () => {
  expect((await tokenFor("nobody")).status).toBe(404);
  expect((await tokenFor("default", { expirationSeconds: 60 })).status).toBe(422);
  expect((await tokenFor("default", { boundObjectRef: { kind: "Pod", name: "ghost" } })).status).toBe(404);
  expect((await api.json("GET", "/api/v1/namespaces/default/serviceaccounts/default/token")).status).toBe(405);
});
